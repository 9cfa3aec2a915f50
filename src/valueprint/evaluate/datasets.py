"""Readers for the external, human-labelled data sets the evaluator learns from and is measured on.

Every reader returns a `Labelled` set: texts plus a label matrix whose columns are named.
Splits are fixed: the official ones where a data set has them (Touché23), otherwise a
deterministic split by a hash of the text, so the same text always lands in the same part
and the held-out parts are never seen in training. Test splits are for evaluation only.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from valueprint.errors import DatasetError

TOUCHE_CATEGORIES: tuple[str, ...] = (
    "Self-direction: thought",
    "Self-direction: action",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power: dominance",
    "Power: resources",
    "Face",
    "Security: personal",
    "Security: societal",
    "Tradition",
    "Conformity: rules",
    "Conformity: interpersonal",
    "Humility",
    "Benevolence: caring",
    "Benevolence: dependability",
    "Universalism: concern",
    "Universalism: nature",
    "Universalism: tolerance",
    "Universalism: objectivity",
)
FULCRA_VALUES: tuple[str, ...] = (
    "self-direction",
    "stimulation",
    "hedonism",
    "achievement",
    "power",
    "security",
    "conformity",
    "tradition",
    "benevolence",
    "universalism",
    "humility",
)
FOUNDATIONS: tuple[str, ...] = (
    "care-harm",
    "fairness-cheating",
    "loyalty-betrayal",
    "authority-subversion",
    "sanctity-degradation",
)

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class Labelled:
    """Texts with a label matrix (rows = texts, columns = `columns`)."""

    name: str
    texts: list[str]
    labels: np.ndarray
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, rows: np.ndarray) -> Labelled:
        return Labelled(self.name, [self.texts[i] for i in rows], self.labels[rows], self.columns)


def bucket(text: str, buckets: int = 10) -> int:
    """A stable bucket in [0, buckets) for a text: the basis of every hash split."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % buckets


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DatasetError(
            f"data file {path} is missing: set VALUEPRINT_DATASETS_DIR to the folder holding the shared data sets"
        )
    return path


def _tsv(path: Path) -> list[dict[str, str]]:
    with _require(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _csv(path: Path) -> list[dict[str, str]]:
    with _require(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with _require(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as error:
                    raise DatasetError(f"{path}:{number} is not valid JSON: {error}") from error


def touche_text(premise: str, stance: str, conclusion: str) -> str:
    """How an argument is shown to the evaluator: the premise, then what it argues for or against."""
    return f"{premise.strip()} ({stance.strip()}: {conclusion.strip()})"


def touche23(root: Path, split: Literal["training", "validation", "test"]) -> Labelled:
    """Touché23-ValueEval arguments with their 20 value categories (official splits)."""
    folder = root / "touche23_valueeval"
    arguments = _tsv(folder / f"arguments-{split}.tsv")
    labels = {row["Argument ID"]: row for row in _tsv(folder / f"labels-{split}.tsv")}
    try:
        texts = [touche_text(a["Premise"], a["Stance"], a["Conclusion"]) for a in arguments]
        matrix = np.array([[int(labels[a["Argument ID"]][c]) for c in TOUCHE_CATEGORIES] for a in arguments])
    except (KeyError, ValueError) as error:
        raise DatasetError(f"Touché23 {split} files do not match the expected columns: {error}") from error
    return Labelled(f"touche23-{split}", texts, matrix.astype(np.float32), TOUCHE_CATEGORIES)


def fulcra(root: Path, part: Literal["train", "holdout"]) -> Labelled:
    """Value FULCRA dialogues with a direction per Schwartz value: +1 promoted, -1 violated, 0 absent.

    One dialogue in five (by hash) is held out for evaluation.
    """
    texts: list[str] = []
    rows: list[list[int]] = []
    for record in _jsonl(root / "value_fulcra" / "trustworthy_data.jsonl"):
        dialogue = str(record.get("dialogue", "")).strip()
        if not dialogue or (bucket(dialogue, 5) == 0) != (part == "holdout"):
            continue
        directions = dict.fromkeys(FULCRA_VALUES, 0)
        for entry in record.get("value_types") or []:  # type: ignore[union-attr]
            name, _, sign = str(entry).rpartition(":")
            if name.strip() in directions and sign.strip() in ("+1", "-1", "1"):
                directions[name.strip()] = -1 if sign.strip() == "-1" else 1
        texts.append(dialogue.replace("\nBob:", "\nAssistant:"))
        rows.append([directions[v] for v in FULCRA_VALUES])
    return Labelled(
        f"fulcra-{part}", texts, np.array(rows, dtype=np.float32).reshape(-1, len(FULCRA_VALUES)), FULCRA_VALUES
    )


def social_chemistry(root: Path, part: Literal["train", "validation", "holdout"]) -> Labelled:
    """Social Chemistry 101 rules of thumb with their moral foundations (multi-label).

    Split by a hash of the rule text (20% held out, 10% validation) so a rule never sits
    on both sides; rows without any foundation annotated are left out.
    """
    folder = root / "social_chemistry_101"
    wanted = {"holdout": (0, 1), "validation": (2,), "train": tuple(range(3, 10))}[part]
    seen: set[str] = set()
    texts: list[str] = []
    rows: list[list[int]] = []
    for name in ("obligatory_sc101.csv", "optional_sc101.csv"):
        for row in _csv(folder / name):
            rot = (row.get("rot") or "").strip()
            foundations = {f for f in (row.get("rot-moral-foundations") or "").split("|") if f}
            if not rot or not foundations or rot in seen or bucket(rot) not in wanted:
                continue
            seen.add(rot)
            texts.append(rot)
            rows.append([int(f in foundations) for f in FOUNDATIONS])
    return Labelled(f"social-chemistry-{part}", texts, np.array(rows, dtype=np.float32), FOUNDATIONS)


def moral_stories_actions(root: Path, split: Literal["dev", "test"]) -> Labelled:
    """Moral Stories actions labelled acceptable (1, the moral action) or not (0, the immoral one)."""
    texts: list[str] = []
    labels: list[float] = []
    for record in _jsonl(root / "moral_stories" / f"norm_distance_{split}.jsonl"):
        for key, label in (("moral_action", 1.0), ("immoral_action", 0.0)):
            if record.get(key):
                texts.append(str(record[key]).strip())
                labels.append(label)
    return Labelled(f"moral-stories-{split}", texts, np.array(labels, dtype=np.float32)[:, None], ("acceptable",))


def moral_stories(root: Path, split: Literal["dev", "test"]) -> dict[str, dict[str, str]]:
    """Moral Stories records grouped by story (their IDs differ in the last character):
    {story id: {"norm", "moral_action", "immoral_action"}}; incomplete stories are kept as read."""
    stories: dict[str, dict[str, str]] = {}
    for record in _jsonl(root / "moral_stories" / f"norm_distance_{split}.jsonl"):
        story = stories.setdefault(str(record.get("ID", ""))[:-1], {})
        for key in ("norm", "moral_action", "immoral_action"):
            if record.get(key):
                story[key] = str(record[key]).strip()
    return stories


def ethics_commonsense(root: Path) -> Labelled:
    """ETHICS commonsense test (short scenarios): label 1 means the narrator acted wrongly."""
    rows = _csv(root / "ethics" / "cm_test_short.csv")
    try:
        labels = np.array([[float(row["label"])] for row in rows], dtype=np.float32)
    except (KeyError, ValueError) as error:
        raise DatasetError(f"ETHICS cm_test_short.csv does not have a numeric `label` column: {error}") from error
    return Labelled("ethics-commonsense-test", [row["input"] for row in rows], labels, ("wrong",))
