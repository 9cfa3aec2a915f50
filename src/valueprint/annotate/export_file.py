"""Exports streamed to a file with progress (run as jobs, see `jobs`): JSONL, Label Studio JSON, DPO
pairs and a Hugging Face dataset.

DPO pairs (`prompt`/`chosen`/`rejected`): two units were judged *under the same context* when they
belong to the same document (one Moral Stories story, one Social Chemistry situation with its
actions, one dialogue, one post) and both have an aggregate acceptability (see `export.aggregate`).
For every such pair whose aggregates differ, the more acceptable unit is `chosen` and the other
`rejected`; the `prompt` is the document's context: the text of its units that come before the
earlier of the two (in document order, sanitised like every unit). Pairs with no preceding units
have no shared context to condition on and are left out. Each line also carries the document, the
two unit ids and the `margin` (difference in scale points).

The Hugging Face dataset (`datasets.Dataset.save_to_disk`) has one row per visible unit with
explicit features: text, document source and licence, the aggregate (`values` as "dim:+"/"dim:-",
`acceptability`), every annotation (annotator, values, acceptability, why, custom, profile as JSON
text) and the pre-labels (origin, model version, `confidence`: the chance that the whole suggestion is
right, `value_confidence`: P(present) per dimension, `acceptability_confidence`: the suggested point's
probability, values, acceptability; imported pre-labels may have no confidences).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from valueprint.annotate import export
from valueprint.errors import NotFoundError
from valueprint.evaluate.backbone import require
from valueprint.store.db import Database
from valueprint.store.models import AnnotationDocument, AnnotationProject, AnnotationUnit

Progress = Callable[..., None]
NO_PAIRS = (
    "no DPO pairs: a pair needs a document with at least two judged units with different acceptability "
    "(an aggregate from the annotations), and the prompt is the text before the earlier one, so the earlier "
    "cannot be the document's first unit; import documents that make several units (segmentation sentences "
    "or turns) and label more of them"
)
DOCUMENTS_PER_PAGE = 200


def _total(db: Database, project_id: str) -> int:
    with db.session() as session:
        if session.get(AnnotationProject, project_id) is None:
            raise NotFoundError(f"no annotation project {project_id!r}")
        visible = (AnnotationUnit.project_id == project_id) & AnnotationUnit.hidden.is_(False)
        return session.scalar(select(func.count()).where(visible)) or 0


def unit_pages(db: Database, project_id: str, read: Callable[..., tuple[list[str], int | None]]) -> Iterator[list[str]]:
    """A page of export lines per unit of work (as `Annotate._pages`)."""
    after: int | None = 0
    while after is not None:
        with db.session() as session:
            chunk, after = read(session, session.get(AnnotationProject, project_id), after)
        yield chunk


def export_to(db: Database, project_id: str, fmt: str, out: Path, progress: Progress) -> dict[str, Any]:
    """Writes the export to `out` (via `out.partial`, renamed when complete); {"written": rows or pairs}."""
    total = _total(db, project_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    progress(0, total)
    if fmt == "hf":
        written = _hf(db, project_id, partial, total, progress)
    else:
        with partial.open("w", encoding="utf-8") as handle:
            written = _text(db, project_id, fmt, handle, total, progress)
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    os.replace(partial, out)
    if fmt == "dpo" and not written:
        return {"written": 0, "note": NO_PAIRS}
    return {"written": written}


def _text(db: Database, project_id: str, fmt: str, handle: Any, total: int, progress: Progress) -> int:
    done = written = 0
    if fmt == "dpo":
        for pairs, units in dpo_pages(db, project_id):
            handle.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs)
            done, written = done + units, written + len(pairs)
            progress(min(done, total), total)
        return written
    if fmt == "labelstudio":
        handle.write("[")
    for chunk in unit_pages(db, project_id, export.jsonl_lines if fmt == "jsonl" else export.labelstudio_tasks):
        if fmt == "labelstudio":
            handle.write(",".join(chunk) if not written else "".join("," + task for task in chunk))
        else:
            handle.writelines(chunk)
        done = written = written + len(chunk)
        progress(min(done, total), total)
    if fmt == "labelstudio":
        handle.write("]\n")
    return written


def dpo_pairs(units: list[tuple[AnnotationUnit, int | None]], document: AnnotationDocument) -> list[dict[str, Any]]:
    """The DPO pairs of one document's units (in document order, each with its aggregate acceptability)."""
    pairs = []
    judged = [(i, unit, score) for i, (unit, score) in enumerate(units) if score is not None]
    for (i, a, score_a), (j, b, score_b) in combinations(judged, 2):
        if score_a == score_b or min(i, j) == 0:
            continue
        chosen, rejected = (a, b) if score_a > score_b else (b, a)
        prompt = " ".join(unit.text for unit, _ in units[: min(i, j)])
        pairs.append(
            {
                "prompt": prompt,
                "chosen": chosen.text,
                "rejected": rejected.text,
                "margin": abs(score_a - score_b),
                "document": {"id": document.id, "source": document.source, "licence": document.licence},
                "chosen_unit": chosen.id,
                "rejected_unit": rejected.id,
            }
        )
    return pairs


def dpo_pages(db: Database, project_id: str) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """(pairs, units read) for each page of documents."""
    after = 0
    while True:
        with db.session() as session:
            documents = session.scalars(
                select(AnnotationDocument)
                .where(AnnotationDocument.project_id == project_id, AnnotationDocument.id > after)
                .order_by(AnnotationDocument.id)
                .limit(DOCUMENTS_PER_PAGE)
            ).all()
            if not documents:
                return
            after = documents[-1].id
            pairs, count = [], 0
            for document in documents:
                units = session.scalars(
                    select(AnnotationUnit)
                    .where(AnnotationUnit.document_id == document.id, AnnotationUnit.hidden.is_(False))
                    .order_by(AnnotationUnit.position)
                ).all()
                scored = []
                for unit in units:
                    annotations, _ = export._labelled(session, unit.id)
                    scored.append((unit, export.aggregate(annotations)["acceptability"] if annotations else None))
                pairs += dpo_pairs(scored, document)
                count += len(units)
        yield pairs, count


def _signed(values: dict[str, int]) -> list[str]:
    return [f"{dim}:{'+' if direction > 0 else '-'}" for dim, direction in sorted(values.items())]


def hf_rows(line: dict[str, Any]) -> dict[str, Any]:
    """One JSONL export line as a row of the Hugging Face dataset (see `hf_features`)."""
    return {
        "unit_id": line["unit_id"],
        "project": line["project"],
        "text": line["text"],
        "source": line["document"]["source"],
        "licence": line["document"]["licence"],
        "document_id": line["document"]["id"],
        "start": line["start"],
        "end": line["end"],
        "gold": line["gold"],
        "values": _signed(line["aggregate"]["values"]),
        "acceptability": line["aggregate"]["acceptability"],
        "annotations": [
            {
                "annotator": a["annotator"],
                "values": _signed(a["values"]),
                "acceptability": a["acceptability"],
                "why": a["why"],
                "custom": a["custom"],
                "profile": json.dumps(a["profile"]) if a["profile"] is not None else None,
            }
            for a in line["annotations"]
        ],
        "prelabels": [
            {
                "origin": p["origin"],
                "model_version": p["model_version"],
                "confidence": p["confidence"],
                "value_confidence": [
                    {"dimension": dim, "confidence": value}
                    for dim, value in sorted(((p.get("component_confidence") or {}).get("values") or {}).items())
                ],
                "acceptability_confidence": (p.get("component_confidence") or {}).get("acceptability"),
                "values": _signed(p.get("values") or {}),
                "acceptability": p.get("acceptability"),
            }
            for p in line["prelabels"]
        ],
    }


def hf_features() -> Any:
    datasets = require("datasets")
    v, seq = datasets.Value, datasets.Sequence
    annotation = {
        "annotator": v("string"),
        "values": seq(v("string")),
        "acceptability": v("int32"),
        "why": v("string"),
        "custom": seq(v("string")),
        "profile": v("string"),
    }
    prelabel = {
        "origin": v("string"),
        "model_version": v("string"),
        "confidence": v("float64"),
        "value_confidence": datasets.List({"dimension": v("string"), "confidence": v("float64")}),
        "acceptability_confidence": v("float64"),
        "values": seq(v("string")),
        "acceptability": v("int32"),
    }
    return datasets.Features(
        {
            "unit_id": v("int64"),
            "project": v("string"),
            "text": v("string"),
            "source": v("string"),
            "licence": v("string"),
            "document_id": v("int64"),
            "start": v("int64"),
            "end": v("int64"),
            "gold": v("bool"),
            "values": seq(v("string")),
            "acceptability": v("int32"),
            "annotations": datasets.List(annotation),
            "prelabels": datasets.List(prelabel),
        }
    )


def _hf(db: Database, project_id: str, out: Path, total: int, progress: Progress) -> int:
    """Rows streamed to a temporary JSONL file, then read by `datasets` (Arrow, on disk) and saved."""
    datasets = require("datasets")
    done = 0
    with tempfile.TemporaryDirectory(prefix="valueprint-hf-") as work:
        staging = Path(work) / "rows.jsonl"
        with staging.open("w", encoding="utf-8") as handle:
            for chunk in unit_pages(db, project_id, export.jsonl_lines):
                handle.writelines(json.dumps(hf_rows(json.loads(line)), ensure_ascii=False) + "\n" for line in chunk)
                done += len(chunk)
                progress(min(done, total), total)
        if done:
            dataset = datasets.Dataset.from_json(
                str(staging), features=hf_features(), cache_dir=str(Path(work) / "cache")
            )
        else:
            dataset = datasets.Dataset.from_list([], features=hf_features())
        dataset.save_to_disk(str(out))
    return done
