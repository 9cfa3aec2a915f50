"""`valueprint bench annotate`: pre-label quality, pipeline throughput in-process and on Dask, and a scaled
end-to-end run with its memory peak.

- quality: the product pre-labeller (`EvaluatorPrelabeller`) on the *held-out halves* of the calibration's
  validation data (`annotate.calibrate`: the halves its maps were not fitted on; never a test split):
  acceptability on Social Chemistry validation actions (accuracy of the suggested point, ECE of its
  confidence), presence on Touché23 validation arguments (accuracy of every learned Schwartz decision,
  ECE, and whether the single most confident suggested value is really present), and the share of
  actions an annotator could accept unchanged: the suggested point is right *and* the suggested moral
  foundations are exactly the annotated ones (directions are not in the data, so they are not checked).
- throughput: units per second for segment (spaCy sentencizer) + sanitise + pre-label on the same
  documents, in this process and on a Dask `LocalCluster` of `workers` single-threaded worker processes,
  in the same run; each worker loads its sanitiser and pre-labeller before the clock starts.
- end to end: about `size` units imported into a fresh SQLite project by the import job (`import_job`:
  every row checked and the documents staged sealed, then segment, near-duplicate removal and sanitise a
  committed chunk of 200 documents at a time, then the units published at once), pre-labelled by the
  pre-label job's code (`prelabel_run`) and exported as JSONL, each step timed, with the process's peak
  resident memory after each. It runs first, so the peak is the end-to-end run's (plus the evaluator,
  loaded before it).

Documents are Social Chemistry actions from the *train* buckets, then its train rules of thumb (five
sentences to a document), so the throughput and scale texts are real sentences that the quality
figures never see. A run larger than those (about 14,000 sentences) continues with whole texts from
Moral Stories, Touché23 training premises and ValueFulcra dialogues (their sentences become units).
"""

from __future__ import annotations

import os
import re
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.annotate.calibrate import _halves, sc_actions, schwartz_presence
from valueprint.annotate.prelabel import expected_calibration_error
from valueprint.annotate.schema import LabelSchema
from valueprint.annotate.units import load_sanitiser, sanitise
from valueprint.errors import MissingDependencyError

Progress = Callable[[str, int, int | None], None]  # (stage, done, total)
TRAIN_BUCKETS = tuple(range(3, 10))
ACTIONS_PER_DOCUMENT = 5
BATCH = 64
WARM_UNITS = 320  # units through each process before the clock starts


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- documents --------------------------------------------------------------------------------------


def documents(root: Path, units: int) -> list[str]:
    """About `units` sentences of real text: Social Chemistry train actions, then its train rules of thumb
    (both outside every held-out split), five to a document; beyond those, whole texts of other corpora
    (`more_texts`) until their sentences make up the rest."""
    from valueprint.evaluate.datasets import social_chemistry

    texts = sc_actions(root, units, buckets=TRAIN_BUCKETS).texts
    if len(texts) < units:
        texts += social_chemistry(root, "train").texts[: units - len(texts)]
    sentences = [a[0].upper() + a[1:].rstrip(".") + "." for a in texts[:units]]
    docs = [" ".join(sentences[i : i + ACTIONS_PER_DOCUMENT]) for i in range(0, len(sentences), ACTIONS_PER_DOCUMENT)]
    missing = units - len(sentences)
    for text in more_texts(root) if missing > 0 else ():
        if missing <= 0:
            break
        docs.append(text)
        missing -= max(1, len(SENTENCE_END.findall(text)))
    if missing > 0:
        raise MissingDependencyError(f"the shared data hold about {units - missing} sentences; ask for fewer units")
    return docs


SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


def more_texts(root: Path) -> Iterator[str]:
    """Whole texts beyond Social Chemistry: Moral Stories rows (norm and action), Touché23 training premises,
    ValueFulcra dialogues."""
    import csv
    import json

    for name in ("norm_distance_dev.jsonl", "norm_distance_test.jsonl"):
        with open(root / "moral_stories" / name, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                yield " ".join(row[k] for k in ("norm", "moral_action", "immoral_action") if row.get(k))
    with open(root / "touche23_valueeval" / "arguments-training.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            yield f"{row['Conclusion']}. {row['Premise']}"
    with open(root / "value_fulcra" / "trustworthy_data.jsonl", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)["dialogue"]


# -- the pipeline (picklable for Dask) ----------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _tools(sanitiser_factory: Callable[[], Any], prelabeller_factory: Callable[[], Any]) -> tuple[Any, Any]:
    """This process's sanitiser and pre-labeller, built once per process (a Dask worker keeps them)."""
    key = f"{sanitiser_factory!r}/{prelabeller_factory!r}"
    if key not in _WORKER:
        _WORKER[key] = (sanitiser_factory(), prelabeller_factory())
    return _WORKER[key]


def process(
    docs: Sequence[str],
    schema: LabelSchema,
    sanitiser_factory: Callable[[], Any],
    prelabeller_factory: Callable[[], Any],
    on_units: Callable[[int], None] | None = None,
) -> int:
    """Segment, sanitise and pre-label the documents; the number of units done."""
    from valueprint.annotate.segment import sentences

    sanitiser, prelabeller = _tools(sanitiser_factory, prelabeller_factory)
    pending: list[str] = []
    done = 0
    for doc in docs:
        for span in sentences(doc):
            pending.append(sanitise(sanitiser, doc[span.start : span.end])[0])
        while len(pending) >= BATCH:
            prelabeller.predict(pending[:BATCH], schema)
            done, pending = done + BATCH, pending[BATCH:]
            if on_units:
                on_units(done)
    if pending:
        prelabeller.predict(pending, schema)
        done += len(pending)
    if on_units:
        on_units(done)
    return done


def warm(
    sanitiser_factory: Callable[[], Any], prelabeller_factory: Callable[[], Any], schema: LabelSchema, docs: list[str]
) -> int:
    """Loads the tools and runs a few real documents through them, outside any timing (the first batches of a
    fresh process are several times slower than later ones: kernels are prepared per input shape)."""
    return process(docs, schema, sanitiser_factory, prelabeller_factory)


def throughput(
    docs: list[str],
    schema: LabelSchema,
    sanitiser_factory: Callable[[], Any],
    prelabeller_factory: Callable[[], Any],
    workers: int = 2,
    processes: bool = True,
    progress: Progress = lambda stage, done, total: None,
) -> dict[str, Any]:
    """Units per second in this process and on a Dask LocalCluster of `workers` workers, same documents."""
    from valueprint.evaluate.backbone import require

    warmup = docs[: max(1, WARM_UNITS // ACTIONS_PER_DOCUMENT)]
    warm(sanitiser_factory, prelabeller_factory, schema, warmup)
    progress("throughput, in-process", 0, None)
    started = time.perf_counter()
    units = process(
        docs, schema, sanitiser_factory, prelabeller_factory, lambda n: progress("throughput, in-process", n, None)
    )
    local_s = time.perf_counter() - started

    distributed = require("distributed")
    progress(f"throughput, Dask ({workers} workers): starting", 0, None)
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        if processes:
            client.run(_one_thread)  # one core per worker: torch would otherwise use every core in each
        client.run(warm, sanitiser_factory, prelabeller_factory, schema, warmup)
        chunks = [docs[i :: workers * 4] for i in range(workers * 4)]
        started = time.perf_counter()
        futures = client.map(
            process,
            chunks,
            schema=schema,
            sanitiser_factory=sanitiser_factory,
            prelabeller_factory=prelabeller_factory,
            pure=False,
        )
        dask_units = 0
        for done, future in enumerate(distributed.as_completed(futures), start=1):
            dask_units += future.result()
            progress(f"throughput, Dask ({workers} workers)", done, len(chunks))
        dask_s = time.perf_counter() - started
    local, dask = units / local_s, dask_units / dask_s
    return {
        "throughput_units": units,
        "in_process_units_per_s": round(local, 1),
        "dask_units_per_s": round(dask, 1),
        "dask_workers": workers,
        "dask_over_in_process": round(dask / local, 2),
        "in_process_threads": _torch_threads(),
    }


def _one_thread() -> None:
    import contextlib

    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)


def _torch_threads() -> int | None:
    try:
        import torch

        return int(torch.get_num_threads())
    except ImportError:
        return None


# -- quality ---------------------------------------------------------------------------------------------


def quality(root: Path, prelabeller: Any, space: Any, limit: int = 2000) -> dict[str, Any]:
    """Pre-label quality on the calibration's held-out halves (see the module doc)."""
    schema = LabelSchema(dimensions=space.ids)
    learned = set(getattr(prelabeller, "learned", space.ids))

    actions = sc_actions(root, limit)
    held = np.flatnonzero(_halves(actions.texts)[1])
    suggestions = prelabeller.predict([actions.texts[i] for i in held], schema)
    truth_points = actions.points[held]
    points = np.array([s.labels["acceptability"] for s in suggestions])
    point_conf = np.array([s.labels["confidence"]["acceptability"] for s in suggestions])
    right_point = points == truth_points

    foundation_dims = {
        dim.id: set(dim.maps.get("social_chemistry", [])) for dim in space.dimensions if dim.id in learned
    }
    foundation_dims = {d: f for d, f in foundation_dims.items() if f}
    unchanged = []
    for k, i in enumerate(held):
        marked = actions.foundations[i]
        if marked is None:
            continue
        truth = {d for d, names in foundation_dims.items() if names & marked}
        suggested = {d for d in suggestions[k].labels["values"] if d in foundation_dims}
        unchanged.append(bool(right_point[k]) and suggested == truth)

    texts, presence_truth = schwartz_presence(root, space, limit)
    held_t = np.flatnonzero(_halves(texts)[1])
    read = prelabeller.predict([texts[i] for i in held_t], schema)
    dims = [d for d in presence_truth if d in learned]
    confidence, correct, top_right = [], [], []
    for k, i in enumerate(held_t):
        probability = read[k].labels["confidence"]["values"]
        for dim in dims:
            p = probability[dim]
            confidence.append(max(p, 1 - p))
            correct.append((p >= 0.5) == bool(presence_truth[dim][i]))
        offered = [d for d in read[k].labels["values"] if d in dims]
        if offered:
            top = max(offered, key=lambda d: probability[d])
            top_right.append(bool(presence_truth[top][i]))
    return {
        "quality_data": "held-out halves of Social Chemistry and Touché23 validation (never a test split)",
        "acceptability_units": len(held),
        "acceptability_top_accuracy": round(float(right_point.mean()), 4),
        "acceptability_ece": round(expected_calibration_error(point_conf, right_point), 4),
        "presence_units": len(held_t),
        "presence_accuracy": round(float(np.mean(correct)), 4),
        "presence_ece": round(expected_calibration_error(np.array(confidence), np.array(correct)), 4),
        "top_value_precision": round(float(np.mean(top_right)), 4) if top_right else None,
        "top_value_units": len(top_right),
        "accept_unchanged_share": round(float(np.mean(unchanged)), 4) if unchanged else None,
        "accept_unchanged_units": len(unchanged),
    }


# -- end to end --------------------------------------------------------------------------------------------


def end_to_end(
    docs: list[str],
    sanitiser_factory: Callable[[], Any],
    prelabeller: Any,
    progress: Progress = lambda stage, done, total: None,
) -> dict[str, Any]:
    """Import (as a job), pre-label and export the documents in a fresh SQLite-backed valueprint (see the
    module doc)."""
    from valueprint.annotate.jobs import IMPORT_BATCH, AnnotateJobs
    from valueprint.annotate.prelabel_run import prelabel_project
    from valueprint.annotate.readers import Record
    from valueprint.annotate.service import Annotate
    from valueprint.services import Services
    from valueprint.settings import Settings

    with tempfile.TemporaryDirectory(prefix="vp-bench-annotate-") as folder:
        services = Services.build(Settings(data_dir=Path(folder), environment="test"))
        annotate = Annotate(
            services.db, services.model.space, services.accounts.sealer, sanitiser_factory=sanitiser_factory
        )
        jobs = AnnotateJobs(
            Path(folder) / "jobs",
            services.settings.resolved_database_url,
            sanitiser_factory=annotate.sanitiser,
            sealer=services.accounts.sealer,
        )
        project = annotate.create_project(None, {"name": "bench", "segmentation": "sentences"})
        records = [
            Record(f"document {i + 1}", d, "shared data (see bench.annotate)", "see shared/data SOURCE.md")
            for i, d in enumerate(docs)
        ]
        progress("end to end: check and stage (sealed)", 0, None)
        started = time.perf_counter()
        import_id = annotate.stage_records(project.id, records, "bench")
        stage_s = time.perf_counter() - started
        rss_staged = peak_rss_mb()
        started = time.perf_counter()
        status = jobs.import_(project.id, import_id, IMPORT_BATCH)
        while (status := jobs.status(status["job_id"]))["state"] in ("queued", "running"):
            progress("end to end: import job (segment, de-duplicate, sanitise)", status.get("done") or 0, len(docs))
            time.sleep(1)
        imported = jobs.wait(status["job_id"])
        job_s = time.perf_counter() - started
        jobs.close()
        if imported["state"] != "done":
            raise RuntimeError(f"the import job ended {imported['state']}: {imported.get('error')}")
        counts = imported["imported"]
        rss_imported = peak_rss_mb()
        started = time.perf_counter()
        labelled = prelabel_project(
            services.db,
            project.id,
            prelabeller,
            lambda done, n, first=0: progress("end to end: pre-label", done, n),
            BATCH,
        )
        prelabel_s = time.perf_counter() - started
        rss_prelabelled = peak_rss_mb()
        progress("end to end: export", 0, None)
        started = time.perf_counter()
        lines = sum(1 for _ in annotate.export_jsonl(project.id))
        export_s = time.perf_counter() - started
        database_mb = round(Path(services.settings.resolved_database_url.split("///", 1)[1]).stat().st_size / 2**20, 1)
        services.db.engine.dispose()
    import_s = stage_s + job_s
    seconds = import_s + prelabel_s + export_s
    total = counts["units"]
    return {
        "e2e_documents": len(docs),
        "e2e_units": total,
        "e2e_duplicates_dropped": counts["duplicates"],
        "e2e_entities_replaced": counts["entities"],
        "e2e_prelabelled": labelled["written"],
        "e2e_exported_lines": lines,
        "e2e_import_chunks": -(-len(docs) // IMPORT_BATCH),
        "e2e_stage_s": round(stage_s, 1),
        "e2e_import_job_s": round(job_s, 1),
        "e2e_import_s": round(import_s, 1),
        "e2e_import_units_per_s": round(total / import_s, 1) if import_s else None,
        "e2e_prelabel_s": round(prelabel_s, 1),
        "e2e_export_s": round(export_s, 1),
        "e2e_units_per_s": round(total / seconds, 1) if seconds else None,
        "e2e_database_mb": database_mb,
        "peak_rss_after_stage_mb": rss_staged,
        "peak_rss_after_import_mb": rss_imported,
        "peak_rss_after_prelabel_mb": rss_prelabelled,
    }


# -- the run -----------------------------------------------------------------------------------------------


def run(
    root: Path,
    size: int = 2000,
    throughput_units: int = 1000,
    workers: int = 2,
    quality_limit: int = 2000,
    sanitiser_factory: Callable[[], Any] | None = None,
    prelabeller_factory: Callable[[], Any] | None = None,
    processes: bool = True,
    progress: Progress = lambda stage, done, total: None,
) -> dict[str, Any]:
    """Every figure of the module doc; `sanitiser_factory` defaults to the real sanitiser (required)."""
    from valueprint.annotate.prelabel import evaluator_prelabeller
    from valueprint.values.model import default_model

    sanitiser_factory = sanitiser_factory or load_sanitiser
    prelabeller_factory = prelabeller_factory or evaluator_prelabeller
    space = default_model().space
    progress("loading the pre-labeller", 0, None)
    rss_start = peak_rss_mb()
    prelabeller = prelabeller_factory()
    rss_loaded = peak_rss_mb()
    figures: dict[str, Any] = {"model_version": prelabeller.model_version, "sanitiser": _name(sanitiser_factory)}
    figures |= end_to_end(documents(root, size), sanitiser_factory, prelabeller, progress)
    figures |= {"e2e_size_requested": size, "peak_rss_mb": peak_rss_mb(), "rss_after_load_mb": rss_loaded}
    figures["rss_at_start_mb"] = rss_start
    progress("pre-label quality (held-out validation halves)", 0, None)
    figures |= quality(root, prelabeller, space, quality_limit)
    schema = LabelSchema(dimensions=space.ids)
    figures |= throughput(
        documents(root, throughput_units), schema, sanitiser_factory, prelabeller_factory, workers, processes, progress
    )
    figures["cpus"] = os.cpu_count()
    return figures


def _name(factory: Callable[[], Any]) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', repr(factory))}"


def plot(figures: dict[str, Any], path: Path) -> Path:
    """Two panels: units per second (in-process, Dask, end to end) and quality (accuracy and ECE)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from valueprint.bench.report import save_figure

    fig, (speed, good) = plt.subplots(1, 2, figsize=(9, 3.6))
    names = ["in-process", f"Dask ×{figures['dask_workers']}", f"end to end\n({figures['e2e_units']} units)"]
    rates = [figures["in_process_units_per_s"], figures["dask_units_per_s"], figures["e2e_units_per_s"] or 0]
    speed.bar(names, rates, color=["#4c72b0", "#55a868", "#8172b2"])
    speed.set_ylabel("units per second")
    speed.set_title("segment + sanitise + pre-label")
    labels = [
        "acceptability\naccuracy",
        "acceptability\nECE",
        "presence\naccuracy",
        "presence\nECE",
        "accept\nunchanged",
    ]
    keys = [
        "acceptability_top_accuracy",
        "acceptability_ece",
        "presence_accuracy",
        "presence_ece",
        "accept_unchanged_share",
    ]
    good.bar(labels, [figures.get(k) or 0 for k in keys], color="#c44e52")
    good.set_ylim(0, 1)
    good.set_title("pre-labels on held-out validation halves")
    good.tick_params(axis="x", labelsize=8)
    return save_figure(fig, path)
