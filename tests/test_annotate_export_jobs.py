"""Exports as background jobs streaming to a file: JSONL, Label Studio, DPO pairs from units judged under the
same context (the same document), and a Hugging Face dataset."""

from __future__ import annotations

import json

import pytest

from tests.annotate_factories import Clock, annotate_for, annotator, posts, project
from valueprint.annotate.jobs import AnnotateJobs
from valueprint.annotate.readers import Fields

STORY = "Lying is wrong. Sam found a wallet. Sam kept the money. Sam returned the wallet."


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


@pytest.fixture
def jobs(services, tmp_path):
    jobs = AnnotateJobs(tmp_path / "exports", services.settings.resolved_database_url)
    yield jobs
    jobs.close()


def judged_story(services, annotate) -> str:
    """A story in sentence units; the two actions judged: keeping the money clearly wrong, returning it good."""
    pid = project(annotate, segmentation="sentences")
    annotate.import_items(pid, posts([STORY]), Fields(), "t")
    person = annotator(services)
    scores = {"Sam kept the money.": 0, "Sam returned the wallet.": 4}
    while (task := annotate.next_unit(pid, person)) is not None:
        given = {"values": {}, "acceptability": scores[task.text]} if task.text in scores else None
        services.annotate_unit(pid, task.unit_id, person, given)
    return pid


def test_dpo_pairs_prefer_the_more_acceptable_unit_given_the_story_so_far(services, annotate, jobs) -> None:
    pid = judged_story(services, annotate)
    final = jobs.wait(jobs.export(pid, "dpo")["job_id"], timeout=30)
    assert final["state"] == "done" and final["written"] == 1 and final["done"] == final["total"] == 4
    [pair] = [json.loads(line) for line in jobs.output(final["job_id"]).read_text().splitlines()]
    assert pair["prompt"] == "Lying is wrong. Sam found a wallet."
    assert (pair["chosen"], pair["rejected"], pair["margin"]) == ("Sam returned the wallet.", "Sam kept the money.", 4)


def test_jsonl_and_labelstudio_exports_are_written_whole(services, annotate, jobs) -> None:
    pid = judged_story(services, annotate)
    lines = jobs.output(jobs.wait(jobs.export(pid, "jsonl")["job_id"], timeout=30)["job_id"]).read_text()
    assert lines == "".join(annotate.export_jsonl(pid))
    tasks = json.loads(
        jobs.output(jobs.wait(jobs.export(pid, "labelstudio")["job_id"], timeout=30)["job_id"]).read_text()
    )
    assert len(tasks) == 4 and not list(jobs.exports_dir.glob("*.partial"))


def test_a_hugging_face_dataset_export_loads_with_datasets(services, annotate, jobs) -> None:
    datasets = pytest.importorskip("datasets")
    pid = judged_story(services, annotate)
    final = jobs.wait(jobs.export(pid, "hf")["job_id"], timeout=60)
    assert final["state"] == "done", final
    dataset = datasets.load_from_disk(str(jobs.output(final["job_id"])))
    assert len(dataset) == 4 and sorted(a for a in dataset["acceptability"] if a is not None) == [0, 4]
    [row] = [r for r in dataset if r["acceptability"] == 4]
    assert row["annotations"][0]["acceptability"] == 4 and json.loads(row["annotations"][0]["profile"])


def test_unknown_formats_and_unfinished_jobs_have_no_file(services, annotate, jobs) -> None:
    from valueprint.errors import NotFoundError

    pid = project(annotate)
    with pytest.raises(NotFoundError):
        jobs.export(pid, "xml")
    with pytest.raises(NotFoundError):
        jobs.output("export-unknown")


class CalibratedDouble:
    """A pre-labeller with the real one's output shape (`prelabel.suggest`: per-component confidences in the
    labels, the whole suggestion's confidence on the row), without loading the evaluator."""

    model_version = "valueprint-evaluator/1@2026-11-23T16:45:10+00:00+calibration/20261203-1896+1060"

    def predict(self, texts, schema):
        import numpy as np

        from valueprint.annotate.prelabel import suggest

        n = len(texts)
        scores = {"care": np.full(n, -0.8), "fairness": np.full(n, 0.3)}
        presence = {"care": np.full(n, 0.9), "fairness": np.full(n, 0.2)}
        points = np.tile([0.6, 0.1, 0.1, 0.1, 0.1], (n, 1))
        return suggest(schema, ["care", "fairness"], scores, presence, points, self.model_version)


def test_a_hugging_face_export_of_machine_pre_labels_keeps_every_confidence(services, annotate, jobs) -> None:
    datasets = pytest.importorskip("datasets")
    from valueprint.annotate.prelabel_run import prelabel_project

    pid = project(annotate, label_schema={"dimensions": ["care", "fairness"]})
    annotate.import_items(pid, posts(["He hit the dog.", "She fed the cat."]), Fields(), "t")
    prelabel_project(services.db, pid, CalibratedDouble())

    [line, _] = [json.loads(x) for x in annotate.export_jsonl(pid)]
    [stored] = line["prelabels"]
    assert stored["confidence"] == pytest.approx(0.9 * 0.8 * 0.6, abs=1e-4)  # the whole suggestion right
    assert stored["component_confidence"] == {"values": {"care": 0.9, "fairness": 0.2}, "acceptability": 0.6}

    final = jobs.wait(jobs.export(pid, "hf")["job_id"], timeout=60)
    assert final["state"] == "done", final
    dataset = datasets.load_from_disk(str(jobs.output(final["job_id"])))
    [prelabel] = dataset[0]["prelabels"]
    assert prelabel["model_version"] == CalibratedDouble.model_version
    assert prelabel["confidence"] == pytest.approx(stored["confidence"])
    assert prelabel["acceptability_confidence"] == pytest.approx(0.6)
    assert prelabel["value_confidence"] == [
        {"dimension": "care", "confidence": pytest.approx(0.9)},
        {"dimension": "fairness", "confidence": pytest.approx(0.2)},
    ]
    assert prelabel["values"] == ["care:-"] and prelabel["acceptability"] == 0


def test_a_dpo_export_with_no_pairs_says_why_in_its_status(services, annotate, jobs) -> None:
    pid = project(annotate, segmentation="posts")  # one unit per document: no two units share a context
    annotate.import_items(pid, posts(["He kept the money.", "She returned the wallet."]), Fields(), "t")
    person = annotator(services)
    for score in (0, 4):
        services.annotate_unit(pid, annotate.next_unit(pid, person).unit_id, person, {"acceptability": score})
    final = jobs.wait(jobs.export(pid, "dpo")["job_id"], timeout=30)
    assert final["state"] == "done" and final["written"] == 0
    assert "at least two judged units with different acceptability" in final["note"]
    assert "the text before the earlier one" in final["note"]
    judged = jobs.wait(jobs.export(judged_story(services, annotate), "dpo")["job_id"], timeout=30)
    assert judged["written"] == 1 and judged.get("note") is None


def test_a_finished_export_run_again_by_the_engine_keeps_its_file_and_a_missing_file_is_a_404(
    services, annotate, jobs
) -> None:
    from valueprint.annotate.jobs import JobRequest, run_job
    from valueprint.errors import NotFoundError

    pid = judged_story(services, annotate)
    started = jobs.export(pid, "jsonl")
    assert jobs.wait(started["job_id"], timeout=60)["state"] == "done"
    out = jobs.output(started["job_id"])
    status = jobs.statuses.read(started["job_id"])
    again = JobRequest(  # what Dask does when the worker holding the result goes away: the same run again
        started["job_id"], "export", pid, services.settings.resolved_database_url, out=str(out), run_id=status["run_id"]
    )
    assert run_job(again) == {"superseded": True}
    assert out.exists() and jobs.output(started["job_id"]) == out
    out.unlink()
    with pytest.raises(NotFoundError, match="is gone"):
        jobs.output(started["job_id"])
