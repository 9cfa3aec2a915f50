"""A project's consensus, per unit and label, from its stored annotations (see `aggregate` for the model).

Labels: acceptability (the scale's points), each value dimension ({violates, absent, upholds}) and each custom
label (chosen or not). Annotator weights come from karma (`karma.unit_weights`, per unit); gold units are
clamped to their known answer on the labels it covers. Reads in the caller's session; writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from valueprint.annotate import karma
from valueprint.annotate.aggregate import Labels, dawid_skene, majority
from valueprint.annotate.schema import LabelSchema
from valueprint.store.models import Annotation, AnnotationGold

DIRECTIONS = (-1, 0, 1)


def observation_weights(annotations: Sequence[Annotation], karmas: dict[str, float]) -> list[float]:
    """Each annotation's weight: its annotator's, with fresh accounts capped together per unit."""
    weights = [1.0] * len(annotations)
    by_unit: dict[int, list[int]] = {}
    for i, a in enumerate(annotations):
        by_unit.setdefault(a.unit_id, []).append(i)
    for rows in by_unit.values():
        for i, w in zip(rows, karma.unit_weights([karmas[annotations[r].participant_id] for r in rows]), strict=True):
            weights[i] = w
    return weights


def _run(
    rows: list[tuple[int, int, int]], weights: list[float], n_items: int, n_workers: int, k: int, known: dict[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = Labels.of(rows, n_items, n_workers, k, weights)
    found = dawid_skene(data, known)
    vote, share = majority(data)
    return found.labels, found.confidence, vote, share


def project_consensus(
    session: Session, project_id: str, schema: LabelSchema, annotations: Sequence[Annotation]
) -> dict[int, dict[str, Any]]:
    """{unit id: {"n", "known", "acceptability": {...}, "values": {dim: {...}}, "custom": {label: {...}}}}; each
    label's entry: `consensus`, `confidence` (posterior), `majority` and `majority_share`. Value dimensions
    and custom labels appear only where an annotator used them or the consensus is not "absent"."""
    unit_ids = sorted({a.unit_id for a in annotations})
    people = sorted({a.participant_id for a in annotations})
    item, worker = {u: i for i, u in enumerate(unit_ids)}, {p: i for i, p in enumerate(people)}
    weights = observation_weights(annotations, karma.totals(session, people))
    answers = {
        g.unit_id: g for g in session.scalars(select(AnnotationGold).where(AnnotationGold.unit_id.in_(unit_ids)))
    }
    out: dict[int, dict[str, Any]] = {
        u: {"n": 0, "known": u in answers, "acceptability": None, "values": {}, "custom": {}} for u in unit_ids
    }
    for a in annotations:
        out[a.unit_id]["n"] += 1

    def label(
        name: str, k: int, value_of: Any, known_of: Any, decode: Any, always: bool
    ) -> dict[int, dict[str, Any]] | None:
        rows, w = [], []
        for a, weight in zip(annotations, weights, strict=True):
            value = value_of(a)
            if value is not None:
                rows.append((item[a.unit_id], worker[a.participant_id], value))
                w.append(weight)
        if not rows:
            return None
        known = {item[u]: v for u, g in answers.items() if (v := known_of(g)) is not None}
        labels, confidence, vote, share = _run(rows, w, len(unit_ids), len(people), k, known)
        used = {r[0] for r in rows if always or decode(r[2]) != 0}
        result = {}
        for u, i in item.items():
            if vote[i] < 0 or not (always or i in used or decode(labels[i]) != 0):
                continue
            result[u] = {
                "consensus": decode(labels[i]),
                "confidence": round(float(confidence[i]), 4),
                "majority": decode(vote[i]),
                "majority_share": round(float(share[i]), 4),
            }
        return result

    accepted = label(
        "acceptability", len(schema.scale), lambda a: a.acceptability, lambda g: g.acceptability, int, True
    )
    for u, entry in (accepted or {}).items():
        out[u]["acceptability"] = entry
    for dim in schema.dimensions:
        found = label(
            dim,
            3,
            lambda a, d=dim: a.values.get(d, 0) + 1,
            lambda g, d=dim: (g.values.get(d, 0) + 1) if d in g.checked else None,
            lambda c: DIRECTIONS[int(c)],
            False,
        )
        for u, entry in (found or {}).items():
            out[u]["values"][dim] = entry
    for name in schema.custom_labels:
        found = label(name, 2, lambda a, n=name: int(n in a.custom), lambda g: None, int, False)
        for u, entry in (found or {}).items():
            out[u]["custom"][name] = entry
    return out
