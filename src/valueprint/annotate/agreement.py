"""Agreement between annotators: Krippendorff's alpha per label and per project, and the units most disputed.

Written here rather than taken from a library: the `krippendorff` package is GPL (not compatible with our
Apache-2.0), and NLTK's `AnnotationTask` and crowd-kit are heavy dependencies for forty lines of arithmetic.
It follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", through the coincidence
matrix, and is checked in the tests against that paper's worked example (nominal 0.743, interval 0.849).

The metric per label type:
- acceptability: **ordinal** (the scale's points are ordered, their distances unknown);
- each value dimension: **nominal** over {violates, absent, upholds} (-1, 0, +1; a dimension an annotator did
  not mark is "absent" in their label);
- each custom label: **nominal** (chosen or not).

A project's alpha is the mean of its labels' alphas (acceptability, each dimension and custom label whose
values vary at all; a label nobody ever used says nothing about agreement). A unit's disagreement is, over
the labels its annotators used, the mean pairwise distance within it relative to the label's expected
distance by chance (1.0: as much disagreement as random pairs; 0: they all agree).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Metric = Literal["nominal", "ordinal", "interval"]


def _distances(values: Sequence[Any], counts: np.ndarray, metric: Metric) -> np.ndarray:
    """δ² between every pair of the sorted distinct values, per Krippendorff's metric."""
    k = len(values)
    if metric == "nominal":
        return 1.0 - np.eye(k)
    if metric == "interval":
        v = np.asarray(values, dtype=float)
        return (v[:, None] - v[None, :]) ** 2
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    d = np.zeros((k, k))
    for c in range(k):
        for g in range(k):
            lo, hi = min(c, g), max(c, g)
            d[c, g] = (cumulative[hi + 1] - cumulative[lo] - (counts[c] + counts[g]) / 2) ** 2
    return d


@dataclass
class Coincidences:
    """The coincidence matrix of one label over units, with the pairable values' order and counts."""

    values: list[Any]
    matrix: np.ndarray
    per_unit: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (unit index, its own o[c, k])


def coincidences(units: Sequence[Sequence[Hashable | None]]) -> Coincidences:
    """Each unit's values (None: missing); units with fewer than two values are not pairable and ignored."""
    values = sorted({v for unit in units for v in unit if v is not None}, key=_order)
    index = {v: i for i, v in enumerate(values)}
    total = np.zeros((len(values), len(values)))
    per_unit = []
    for u, unit in enumerate(units):
        present = [index[v] for v in unit if v is not None]
        m = len(present)
        if m < 2:
            continue
        counts = np.bincount(present, minlength=len(values)).astype(float)
        own = (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
        total += own
        per_unit.append((u, own))
    return Coincidences(values, total, per_unit)


def _order(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def alpha(units: Sequence[Sequence[Hashable | None]], metric: Metric = "nominal") -> float | None:
    """Krippendorff's alpha of the units' values; None when nothing is pairable or the values never vary."""
    found = coincidences(units)
    return alpha_of(found, metric)


def expected(found: Coincidences, metric: Metric) -> tuple[np.ndarray, float] | None:
    """(δ², expected disagreement per pair by chance), or None when there is nothing to compare."""
    n_c = found.matrix.sum(axis=1)
    n = n_c.sum()
    if n < 2 or len(found.values) < 2:
        return None
    delta = _distances(found.values, n_c, metric)
    d_e = float((np.outer(n_c, n_c) * delta).sum() / (n * (n - 1)))
    return (delta, d_e) if d_e > 0 else None


def alpha_of(found: Coincidences, metric: Metric) -> float | None:
    chance = expected(found, metric)
    if chance is None:
        return None
    delta, d_e = chance
    d_o = float((found.matrix * delta).sum() / found.matrix.sum())
    return 1.0 - d_o / d_e


def unit_disagreement(found: Coincidences, metric: Metric) -> dict[int, float]:
    """Per pairable unit index: its observed disagreement relative to the label's expected one."""
    chance = expected(found, metric)
    if chance is None:
        return {}
    delta, d_e = chance
    return {u: float((own * delta).sum() / own.sum()) / d_e for u, own in found.per_unit if own.sum() > 0}


# -- a project's labels ----------------------------------------------------------------------------


def label_table(
    annotations: Sequence[Any], dimensions: Sequence[str], custom: Sequence[str]
) -> tuple[list[int], dict[str, tuple[Metric, list[list[Any]]]]]:
    """Unit ids and, per label, its metric and each unit's values (one per non-skipped annotation)."""
    by_unit: dict[int, list[Any]] = {}
    for a in annotations:
        by_unit.setdefault(a.unit_id, []).append(a)
    unit_ids = sorted(by_unit)
    table: dict[str, tuple[Metric, list[list[Any]]]] = {
        "acceptability": ("ordinal", [[a.acceptability for a in by_unit[u]] for u in unit_ids])
    }
    for dim in dimensions:
        table[f"value:{dim}"] = ("nominal", [[a.values.get(dim, 0) for a in by_unit[u]] for u in unit_ids])
    for label in custom:
        table[f"custom:{label}"] = ("nominal", [[int(label in a.custom) for a in by_unit[u]] for u in unit_ids])
    return unit_ids, table


def _used(values: list[Any]) -> bool:
    return any(v not in (None, 0) for v in values)


def project_agreement(
    annotations: Sequence[Any], dimensions: Sequence[str], custom: Sequence[str], top: int = 10
) -> dict[str, Any]:
    """Alpha per label (with its metric and how many units were pairable), the project's mean alpha, and the
    `top` units with the most disagreement (unit id, score, labels that split them)."""
    unit_ids, table = label_table(annotations, dimensions, custom)
    labels, scores = [], {}
    for name, (metric, units) in table.items():
        found = coincidences(units)
        value = alpha_of(found, metric)
        if value is None:
            continue
        labels.append({"label": name, "metric": metric, "alpha": round(value, 4), "units": len(found.per_unit)})
        for u, score in unit_disagreement(found, metric).items():
            if name == "acceptability" or _used(units[u]):
                scores.setdefault(unit_ids[u], {})[name] = score
    ranked = sorted(
        ((uid, float(np.mean(list(s.values()))), s) for uid, s in scores.items()), key=lambda row: (-row[1], row[0])
    )
    disputed = [
        {
            "unit_id": uid,
            "disagreement": round(score, 4),
            "split_on": sorted((n for n, v in parts.items() if v > 0), key=lambda n: -parts[n])[:5],
        }
        for uid, score, parts in ranked[:top]
        if score > 0
    ]
    alphas = [row["alpha"] for row in labels]
    return {
        "alpha": round(float(np.mean(alphas)), 4) if alphas else None,
        "labels": labels,
        "units": len(unit_ids),
        "annotations": len(annotations),
        "most_disagreed": disputed,
    }
