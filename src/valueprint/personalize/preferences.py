"""Preference pairs for one person (or persona): which of two real options lies closer to their values.

Sources, each a prompt with two options written by someone outside the team:

- Moral Stories (`norm_distance_dev.jsonl`): a norm with the story's moral and immoral action.
  The dev file only: its test file is held out for persona fit.
- The person's own scenario answers: the option they picked is chosen over each one they
  did not. These count most: each is repeated `OWN_WEIGHT` times.
- Held out, never trained on (the shared ETHICS and DailyDilemmas files are test splits,
  for evaluation only): ETHICS deontology (a reasonable against an unreasonable excuse for
  the same request) and justice (reasonable against unreasonable treatment in the same
  situation), DailyDilemmas' per-action pairs, and a hash-chosen tenth of Moral Stories.

For every choice the personal judge (`judge.PersonalJudge`, reader `a`) reads every option once
(values from the value reader, manner from the text's form, and whether the text is degenerate
or cut off), and for each person the option that fits them best is chosen over the one that fits
worst. Choices whose options fit (almost) equally well are dropped: they say nothing about this
person. Near-duplicate prompts are removed with MinHash LSH (`datasketch`), keeping the first of each cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.evaluate.backbone import require
from valueprint.evaluate.datasets import _csv, bucket, moral_stories
from valueprint.judge.judge import CUT_OFF, dimension_weights
from valueprint.values.answers import Answers
from valueprint.values.bank import QuestionBank, ScenarioItem
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

OWN_WEIGHT = 4
MIN_GAP = 0.02  # fit gap below which a pair expresses no preference
HELDOUT_BUCKETS = 10  # one bucket in ten of Moral Stories is held out
DEDUP_THRESHOLD = 0.7


@dataclass(frozen=True)
class Choice:
    """A prompt with two or more candidate replies, before anyone's preference is known."""

    source: str
    prompt: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    source: str
    prompt: str
    chosen: str
    rejected: str
    margin: float  # how much better the chosen option fits (the judge's fit score)


@dataclass(frozen=True)
class PreferenceData:
    train: list[Pair]
    heldout: list[Pair]

    def digest(self) -> str:
        payload = json.dumps([asdict(p) for p in self.train], sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()


# -- options from the real data sets ----------------------------------------------------


def moral_story_options(datasets_dir: Path) -> list[Choice]:
    stories = moral_stories(datasets_dir, "dev")
    return [
        Choice(
            "moral_stories",
            f'People say: "{s["norm"]}" What would you do?',
            (s["moral_action"], s["immoral_action"]),
        )
        for _, s in sorted(stories.items())
        if len(s) == 3
    ]


def ethics_options(datasets_dir: Path) -> list[Choice]:
    """Deontology: pairs of excuses for one request; justice: pairs of reasons sharing their opening."""
    options = []
    by_request: dict[str, dict[str, str]] = {}
    for row in _csv(datasets_dir / "ethics" / "deontology_test.csv"):
        by_request.setdefault(row["scenario"], {}).setdefault(row["label"], row["excuse"])
    for request, excuses in by_request.items():
        if {"0", "1"} <= set(excuses):
            options.append(Choice("ethics_deontology", request, (excuses["1"], excuses["0"])))
    by_situation: dict[str, dict[str, str]] = {}
    for row in _csv(datasets_dir / "ethics" / "justice_test.csv"):
        situation, _, reason = row["scenario"].partition(" because ")
        if reason:
            by_situation.setdefault(situation, {}).setdefault(row["label"], reason)
    for situation, reasons in by_situation.items():
        if {"0", "1"} <= set(reasons):
            prompt = f"{situation}. Why might that be?"
            options.append(Choice("ethics_justice", prompt, (f"Because {reasons['1']}", f"Because {reasons['0']}")))
    return options


def daily_dilemma_options(datasets_dir: Path) -> list[Choice]:
    by_dilemma: dict[str, dict[str, str]] = {}
    situations: dict[str, str] = {}
    for row in _csv(datasets_dir / "daily_dilemmas" / "dilemmas_with_detail_by_action_test.csv"):
        situations[row["idx"]] = row["dilemma_situation"]
        by_dilemma.setdefault(row["idx"], {})[row["action_type"]] = f"{row['action']}. {row['negative_consequence']}"
    return [
        Choice("daily_dilemmas", situations[idx], (actions["to_do"], actions["not_to_do"]))
        for idx, actions in by_dilemma.items()
        if {"to_do", "not_to_do"} <= set(actions)
    ]


def own_scenario_options(answers: Answers, bank: QuestionBank) -> list[tuple[str, str, str]]:
    """(prompt, picked option, other option) for every scenario the person answered."""
    triples = []
    for item_id, key in answers.scenario.items():
        item = bank.item(item_id)
        if not isinstance(item, ScenarioItem):
            continue
        picked = next((o for o in item.options if o.key == key), None)
        if picked is None:
            continue
        triples.extend((item.prompt, picked.text, other.text) for other in item.options if other.key != key)
    return triples


# -- preferences --------------------------------------------------------------------------


class OptionScores:
    """The judge's readings of every option text, computed once and shared by all profiles."""

    def __init__(self, choices: Sequence[Choice], judge: Any | None) -> None:
        self.choices = list(choices)
        texts = [t for c in self.choices for t in c.options]
        if judge is not None and texts:
            self.readings = np.asarray(judge.readings(texts), dtype=np.float64)
            degenerate, cut = judge.text_penalties(texts)
            self.penalties = degenerate + np.where(cut, CUT_OFF, 0.0)
        else:
            self.readings, self.penalties = np.zeros((0, 0)), np.zeros(0)
        self.starts = np.cumsum([0] + [len(c.options) for c in self.choices])

    def __add__(self, other: OptionScores) -> OptionScores:
        """Both sets of choices, without reading anything again."""
        joined = OptionScores([], None)
        joined.choices = self.choices + other.choices
        read = [v for v in (self.readings, other.readings) if v.size]
        joined.readings = np.concatenate(read) if read else np.zeros((0, 0))
        joined.penalties = np.concatenate([self.penalties, other.penalties])
        joined.starts = np.cumsum([0] + [len(c.options) for c in joined.choices])
        return joined

    def pairs(self, profile: ValueProfile, space: ValueSpace) -> list[Pair]:
        """Per choice: the option that fits the profile best over the one that fits worst, unless they fit alike."""
        weights = dimension_weights(profile.means(space), profile.sds(space))
        if not self.choices or not weights.any():
            return []
        pairs = []
        for choice, start, end in zip(self.choices, self.starts[:-1], self.starts[1:], strict=True):
            x = self.readings[start:end]
            fit = (weights * profile.means(space) * np.tanh(x - x.mean(axis=0))).sum(axis=1) - self.penalties[start:end]
            best, worst = int(np.argmax(fit)), int(np.argmin(fit))
            gap = float(fit[best] - fit[worst])
            if gap < MIN_GAP:
                continue
            pairs.append(Pair(choice.source, choice.prompt, choice.options[best], choice.options[worst], round(gap, 4)))
        return pairs


def build_preferences(
    profile: ValueProfile,
    space: ValueSpace,
    train_options: OptionScores,
    heldout_options: OptionScores,
    own: Iterable[tuple[str, str, str]] = (),
    limit: int | None = None,
) -> PreferenceData:
    """The person's pairs, strongest first: own answers (weighted), then pairs of the model's own
    replies (`replies`), then the data sets' pairs, each by margin. Training takes the first `limit`."""
    own_pairs = [Pair("own_answers", p, c, r, 1.0) for p, c, r in own] * OWN_WEIGHT
    data_pairs = sorted(train_options.pairs(profile, space), key=lambda p: (p.source != "model_replies", -p.margin))
    train = own_pairs + deduplicate(data_pairs)
    if limit is not None:
        train = train[:limit]
    return PreferenceData(train, heldout_options.pairs(profile, space))


def split_options(datasets_dir: Path) -> tuple[list[Choice], list[Choice]]:
    """(train, held-out) options: see the module's note for what is held out and why."""
    stories = moral_story_options(datasets_dir)
    train = [o for o in stories if bucket(o.prompt + o.options[0], HELDOUT_BUCKETS) != 0]
    held = [o for o in stories if bucket(o.prompt + o.options[0], HELDOUT_BUCKETS) == 0]
    return train, held + ethics_options(datasets_dir) + daily_dilemma_options(datasets_dir)


def deduplicate(pairs: Sequence[Pair], threshold: float = DEDUP_THRESHOLD) -> list[Pair]:
    """Drop pairs whose prompt and chosen text nearly repeat an earlier pair's (MinHash LSH, Jaccard)."""
    datasketch = require("datasketch")
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=128)
    kept = []
    for i, pair in enumerate(pairs):
        signature = datasketch.MinHash(num_perm=128, seed=1)
        words = f"{pair.prompt} {pair.chosen}".lower().split()
        signature.update_batch([" ".join(words[j : j + 2]).encode() for j in range(max(1, len(words) - 1))])
        if lsh.query(signature):
            continue
        lsh.insert(str(i), signature)
        kept.append(pair)
    return kept


def write_jsonl(pairs: Sequence[Pair] | Sequence[Choice], path: Path) -> Path:
    """One JSON object per pair (`prompt`/`chosen`/`rejected`, source, margin) or choice, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        for pair in pairs:
            out.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
    os.replace(staging, path)
    return path


def read_jsonl(path: Path) -> list[Pair]:
    """The pairs `write_jsonl` wrote."""
    with path.open(encoding="utf-8") as lines:
        return [Pair(**json.loads(line)) for line in lines if line.strip()]
