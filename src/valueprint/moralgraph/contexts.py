"""Where contexts come from: a few written here, everyday situations from DailyDilemmas' training part, and
situations people describe in the annotation units of annotate projects.

DailyDilemmas (Chiu et al., 2024; CC BY 4.0; `daily_dilemmas/dilemma.csv`) pairs each dilemma with its
basic situation ("giving friends advice."). Only the training part is used (the dilemmas that
`evaluate.fit` does not hold out for measuring personalisation: one in five, by a hash of the id, is held
out; nor the dilemmas of the dataset's own test file, `dilemmas_with_detail_by_action_test.csv`). A
situation that reads as an action ("giving friends advice") becomes "when giving friends advice", with the
dilemma kept as its detail and its id as the source. A seeded sample is curated at start; others are offered
to people proposing a context, and to curators as proposals (`proposals`).

Annotation units (sanitised sentences people annotate) yield contexts two ways (`unit_contexts`): a "when"
clause of 3 to 12 words ("… since when my sister stopped talking to me, …" → "when my sister stopped
talking to me"; not a question's "when is …", and never across a sanitiser's placeholder such as [PERSON],
which stops a clause), and a short unit that reads as an action, as DailyDilemmas' situations do. They are
the writer's words, so a curator reads (and may reword) each one before it becomes a context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from valueprint.errors import DatasetError
from valueprint.evaluate.datasets import _csv, bucket
from valueprint.evaluate.fit import DILEMMA_BUCKETS

CURATED_FROM_DILEMMAS = 20
MAX_SITUATION_WORDS = 12
SEED = 17
TEST_FILE = "dilemmas_with_detail_by_action_test.csv"
# "when" then 3 to 12 words (letters, digits, apostrophes, hyphens) up to punctuation or a placeholder
WHEN_CLAUSE = re.compile(r"\bwhen\s+((?:[\w'’-]+[ \t]+){2,11}[\w'’-]+)", re.IGNORECASE)
QUESTION_WORDS = frozenset(  # "when is …", "when should …": a question, not a situation
    "is are was were will would do does did should shall can could may might has have had am".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class SeedContext:
    text: str
    detail: str
    source: str
    source_ref: str | None = None
    key: str = ""  # a proposal's name (see `proposals`): "dd-<idx>" for a DailyDilemmas situation


# Written for valueprint: situations where people ask an AI for help and values visibly differ.
CURATED = (
    SeedContext("when someone asks for advice on leaving a religion", "", "curated"),
    SeedContext("when someone is grieving", "", "curated"),
    SeedContext("when someone is deciding how to care for an ageing parent", "", "curated"),
    SeedContext("when someone asks whether to report a colleague's wrongdoing", "", "curated"),
    SeedContext("when someone is in a falling-out with a close friend", "", "curated"),
    SeedContext("when someone is thinking of moving far from family for work", "", "curated"),
    SeedContext("when a teenager asks for advice about a risky choice", "", "curated"),
    SeedContext("when someone shares a political view you disagree with", "", "curated"),
)


def as_context(situation: str) -> str | None:
    """ "giving friends advice." -> "when giving friends advice"; None for a situation that is not an action
    (it would not read as "when …") or is too long to be a context."""
    words = situation.strip().rstrip(".!?").split()
    if not words or len(words) > MAX_SITUATION_WORDS or not words[0].lower().endswith("ing"):
        return None
    return "when " + " ".join([words[0].lower(), *words[1:]])


def evaluation_ids(datasets_dir: Path) -> set[str]:
    """The ids of the dilemmas in DailyDilemmas' own test file (kept for evaluation)."""
    try:
        return {(row.get("idx") or "").strip() for row in _csv(datasets_dir / "daily_dilemmas" / TEST_FILE)}
    except DatasetError:
        return set()


def dilemma_contexts(datasets_dir: Path, without_test_file: bool = True) -> list[SeedContext]:
    """Every training-part DailyDilemmas situation that reads as a context, in file order (distinct texts)."""
    try:
        rows = _csv(datasets_dir / "daily_dilemmas" / "dilemma.csv")
    except DatasetError:
        return []
    held = evaluation_ids(datasets_dir) if without_test_file else set()
    found: dict[str, SeedContext] = {}
    for row in rows:
        idx = (row.get("idx") or "").strip()
        if not idx or idx in held or bucket(idx, DILEMMA_BUCKETS) == 0:  # see evaluate.fit.daily_dilemma_prompts
            continue
        text = as_context(row.get("basic_situation") or "")
        if text and text not in found:
            ref = f"DailyDilemmas idx {idx} (Chiu et al. 2024, CC BY 4.0)"
            detail = (row.get("dilemma_situation") or "").strip()
            found[text] = SeedContext(text, detail, "daily_dilemmas", ref, f"dd-{idx}")
    return list(found.values())


def sample(pool: list[SeedContext], n: int, seed: int) -> list[SeedContext]:
    if not pool:
        return []
    picks = np.sort(np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False))
    return [pool[i] for i in picks]


def curated(datasets_dir: Path) -> list[SeedContext]:
    """The contexts a new server starts with: the written ones and a seeded sample of DailyDilemmas'. The sample
    is drawn from the pool as it was before the test file was left out, so every server seeds the same
    contexts (none of the test file's dilemmas is in it; one would be dropped)."""
    held = evaluation_ids(datasets_dir)
    pool = dilemma_contexts(datasets_dir, without_test_file=False)
    return [*CURATED, *(c for c in sample(pool, CURATED_FROM_DILEMMAS, SEED) if c.key[3:] not in held)]


def unit_contexts(text: str) -> list[str]:
    """The contexts an annotation unit's text suggests (see the module docstring), distinct, in order."""
    found = []
    for match in WHEN_CLAUSE.finditer(text):
        words = match.group(1).split()
        if words[0].lower() in QUESTION_WORDS:
            continue
        first = words[0] if words[0] == "I" or words[0].startswith("I'") else words[0].lower()
        found.append("when " + " ".join([first, *words[1:]]))
    whole = as_context(text) if "[" not in text else None
    if whole:
        found.append(whole)
    return list(dict.fromkeys(found))
