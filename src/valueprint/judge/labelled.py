"""What the judge's value reader learns from: texts with signed targets on some dimensions.

Every row is one text with a target in [-1, 1] on the dimensions its source labels (the
`mask`); other dimensions say nothing. Sources (real, externally labelled, training parts only;
test and held-out parts are read by `heldout` alone):

- Value FULCRA: chat replies, each Schwartz value promoted (+1), violated (-1) or absent (0).
  Only the reply is kept (the judge reads replies); one query in five (by hash) is held out.
- Touché23 training split: arguments, a Schwartz-mapped category present (+1) or not (0).
- Social Chemistry 101 (train part): rules of thumb, a moral foundation present (+1) or not (0).
- 8values (MIT): 70 political statements with their effects on the economic and social axes
  (and progress → tradition), converted as the question bank converts them.
- The question bank: value statements (loadings) and scenario options (their stated profiles):
  the options of one scenario differ only in what they recommend, which is what "subtle" replies do.
- DailyDilemmas' value names (the space maps them): one- or two-word anchors, weighted low.

Each row carries a `group` (the query, argument, rule or scenario it belongs to); `half` splits
groups in two by a hash, so two readers can be trained on disjoint data and one can referee the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from valueprint.evaluate.datasets import _jsonl, _tsv, bucket, social_chemistry, touche23, touche_text
from valueprint.values.bank import LikertItem, ScenarioItem, load_bank
from valueprint.values.space import ValueSpace

Half = Literal["a", "b", "all"]
VALUE_GROUPS = ("schwartz", "moral", "politics")
FULCRA_HOLDOUT_BUCKETS = 5  # the same one-in-five split as `evaluate.datasets.fulcra`
SOURCE_WEIGHTS = {  # each source's total weight, so a large source does not drown the others
    "fulcra": 3.0,
    "touche23": 2.0,
    "social_chemistry": 2.0,
    "eightvalues": 1.0,
    "bank_likert": 1.5,
    "bank_scenarios": 2.0,
    "value_names": 0.5,
    "annotations": 2.0,  # consensus labels from the crowd (`valueprint judge train --with-annotations`)
}


@dataclass
class ReaderRows:
    """Texts with targets [n, dims] and masks [n, dims] (1 = labelled), their source and group."""

    dims: tuple[str, ...]
    texts: list[str] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def add(self, text: str, labels: dict[str, float], labelled: Iterable[str], source: str, group: str) -> None:
        target, mask = np.zeros(len(self.dims), np.float32), np.zeros(len(self.dims), np.float32)
        for dim in labelled:
            mask[self.dims.index(dim)] = 1.0
        for dim, value in labels.items():
            target[self.dims.index(dim)] = float(np.clip(value, -1.0, 1.0))
            mask[self.dims.index(dim)] = 1.0
        self.texts.append(text)
        self.targets.append(target)
        self.masks.append(mask)
        self.sources.append(source)
        self.groups.append(group)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(self.targets), np.stack(self.masks)

    def weights(self) -> np.ndarray:
        """Per-row weights: each source sums to its SOURCE_WEIGHTS share."""
        sources = np.array(self.sources)
        weights = np.zeros(len(sources), np.float32)
        for source, total in SOURCE_WEIGHTS.items():
            rows = sources == source
            if rows.any():
                weights[rows] = total / rows.sum() * 1000.0
        return weights

    def half_indices(self, which: Half) -> list[int]:
        """Rows of one half: groups split in two by a hash (`all`: every row)."""
        return [i for i, g in enumerate(self.groups) if which == "all" or (bucket(g, 2) == 0) == (which == "a")]

    def half(self, which: Half) -> ReaderRows:
        keep = self.half_indices(which)
        out = ReaderRows(self.dims)
        for name in ("texts", "targets", "masks", "sources", "groups"):
            setattr(out, name, [getattr(self, name)[i] for i in keep])
        return out


def split_dialogue(dialogue: str) -> tuple[str, str]:
    """FULCRA's "Human: …\\nBob: …" into (prompt, reply)."""
    prompt, _, reply = dialogue.partition("\nBob:")
    return prompt.removeprefix("Human:").strip(), reply.strip()


def fulcra_records(root: Path, part: Literal["train", "holdout"]) -> list[tuple[str, str, dict[str, int]]]:
    """(prompt, reply, {schwartz value: ±1}) for one part, split by a hash of the query, so that the
    held-out pairs (replies to one query) are all unseen."""
    records = []
    for record in _jsonl(root / "value_fulcra" / "trustworthy_data.jsonl"):
        prompt, reply = split_dialogue(str(record.get("dialogue", "")).strip())
        if not reply or (bucket(prompt, FULCRA_HOLDOUT_BUCKETS) == 0) != (part == "holdout"):
            continue
        directions: dict[str, int] = {}
        for entry in record.get("value_types") or []:  # type: ignore[union-attr]
            name, _, sign = str(entry).rpartition(":")
            if sign.strip() in ("+1", "-1", "1"):
                directions[name.strip()] = -1 if sign.strip() == "-1" else 1
        records.append((prompt, reply, directions))
    return records


def _fulcra(rows: ReaderRows, space: ValueSpace, root: Path) -> None:
    fulcra_map = space.taxonomy_map("fulcra")
    schwartz = [d.id for d in space.in_group("schwartz")]
    for prompt, reply, directions in fulcra_records(root, "train"):
        labels = {dim: float(sign) for name, sign in directions.items() for dim in fulcra_map.get(name, ())}
        rows.add(reply, labels, schwartz, "fulcra", "fulcra:" + prompt)


def _touche(rows: ReaderRows, space: ValueSpace, root: Path) -> None:
    data = touche23(root, "training")
    touche_map = space.taxonomy_map("touche23")
    schwartz = [d.id for d in space.in_group("schwartz")]
    for text, labels in zip(data.texts, data.labels, strict=True):
        present = {dim: 1.0 for c, on in zip(data.columns, labels, strict=True) if on for dim in touche_map.get(c, ())}
        conclusion = text.rpartition(": ")[2]
        rows.add(text, present, schwartz, "touche23", "touche:" + conclusion)


def _social_chemistry(rows: ReaderRows, space: ValueSpace, root: Path) -> None:
    data = social_chemistry(root, "train")
    sc_map = space.taxonomy_map("social_chemistry")
    foundations = sorted({dim for dims in sc_map.values() for dim in dims})
    for text, labels in zip(data.texts, data.labels, strict=True):
        present = {dim: 1.0 for c, on in zip(data.columns, labels, strict=True) if on for dim in sc_map.get(c, ())}
        rows.add(text, present, foundations, "social_chemistry", "sc:" + text)


def _eightvalues(rows: ReaderRows, root: Path) -> None:
    questions = json.loads((root / "8values" / "questions.json").read_text(encoding="utf-8"))
    for question in questions:
        effect = question["effect"]
        labels = {"economic": -effect["econ"] / 10, "social": -effect["govt"] / 10}
        if effect.get("scty"):
            labels["tradition"] = -effect["scty"] / 20
        rows.add(question["question"], labels, ("economic", "social"), "eightvalues", "8v:" + question["question"])


def _bank(rows: ReaderRows, space: ValueSpace) -> None:
    value_dims = {d.id for g in VALUE_GROUPS for d in space.in_group(g)}
    bank = load_bank()
    for item in bank.of_kind("likert"):
        assert isinstance(item, LikertItem)
        labels = {dim: w for dim, w in item.loadings.items() if dim in value_dims}
        if labels:
            rows.add(item.text, labels, labels, "bank_likert", "likert:" + item.id)
    for item in bank.of_kind("scenario"):
        assert isinstance(item, ScenarioItem)
        mentioned = {dim for option in item.options for dim in option.profile if dim in value_dims}
        for option in item.options:
            labels = {dim: w for dim, w in option.profile.items() if dim in value_dims}
            rows.add(option.text, labels, mentioned, "bank_scenarios", "scenario:" + item.id)


def _value_names(rows: ReaderRows, space: ValueSpace) -> None:
    for name, dims in space.taxonomy_map("daily_dilemmas").items():
        rows.add(name, dict.fromkeys(dims, 1.0), dims, "value_names", "name:" + name)


def reader_rows(space: ValueSpace, datasets_dir: Path) -> ReaderRows:
    """Every training row, from every source, in a fixed order."""
    rows = ReaderRows(space.ids)
    _fulcra(rows, space, datasets_dir)
    _touche(rows, space, datasets_dir)
    _social_chemistry(rows, space, datasets_dir)
    _eightvalues(rows, datasets_dir)
    _bank(rows, space)
    _value_names(rows, space)
    return rows


def add_consensus(rows: ReaderRows, labels: Iterable[tuple[str, dict[str, int], Iterable[str]]]) -> int:
    """Add crowd consensus labels as rows of source `annotations`: (text, {dimension: -1 | 0 | +1}, dimensions
    the consensus speaks for). A dimension outside the reader's is ignored; returns the rows added."""
    added = 0
    for text, values, labelled in labels:
        known = [d for d in labelled if d in rows.dims]
        if not known:
            continue
        rows.add(text, {d: float(v) for d, v in values.items() if d in known}, known, "annotations", "crowd:" + text)
        added += 1
    return added


def touche_pairs_source(root: Path) -> list[dict[str, str]]:
    """The Touché23 validation arguments with their labels (for held-out pairs)."""
    folder = root / "touche23_valueeval"
    labels = {row["Argument ID"]: row for row in _tsv(folder / "labels-validation.tsv")}
    out = []
    for argument in _tsv(folder / "arguments-validation.tsv"):
        row = dict(labels[argument["Argument ID"]])
        row["text"] = touche_text(argument["Premise"], argument["Stance"], argument["Conclusion"])
        row["conclusion"] = argument["Conclusion"]
        out.append(row)
    return out


__all__ = ["ReaderRows", "add_consensus", "fulcra_records", "reader_rows", "split_dialogue", "touche_pairs_source"]
