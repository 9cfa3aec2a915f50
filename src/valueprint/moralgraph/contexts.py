"""Where contexts come from: a few written here, and everyday situations from DailyDilemmas' training part.

DailyDilemmas (Chiu et al., 2024; CC BY 4.0; `daily_dilemmas/dilemma.csv`) pairs each dilemma with its
basic situation ("giving friends advice."). Only the training part is used (the dilemmas that
`evaluate.fit` does not hold out for measuring personalisation: one in five, by a hash of the id, is held
out). A situation that reads as an action ("giving friends advice") becomes "when giving friends advice",
with the dilemma kept as its detail and its id as the source. A seeded sample is curated at start; others
are offered to people proposing a context.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from valueprint.errors import DatasetError
from valueprint.evaluate.datasets import _csv, bucket
from valueprint.evaluate.fit import DILEMMA_BUCKETS

CURATED_FROM_DILEMMAS = 20
MAX_SITUATION_WORDS = 12
SEED = 17


@dataclass(frozen=True)
class SeedContext:
    text: str
    detail: str
    source: str
    source_ref: str | None = None


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


def dilemma_contexts(datasets_dir: Path) -> list[SeedContext]:
    """Every training-part DailyDilemmas situation that reads as a context, in file order (distinct texts)."""
    try:
        rows = _csv(datasets_dir / "daily_dilemmas" / "dilemma.csv")
    except DatasetError:
        return []
    found: dict[str, SeedContext] = {}
    for row in rows:
        idx = (row.get("idx") or "").strip()
        if not idx or bucket(idx, DILEMMA_BUCKETS) == 0:  # held out (see evaluate.fit.daily_dilemma_prompts)
            continue
        text = as_context(row.get("basic_situation") or "")
        if text and text not in found:
            ref = f"DailyDilemmas idx {idx} (Chiu et al. 2024, CC BY 4.0)"
            found[text] = SeedContext(text, (row.get("dilemma_situation") or "").strip(), "daily_dilemmas", ref)
    return list(found.values())


def sample(pool: list[SeedContext], n: int, seed: int) -> list[SeedContext]:
    if not pool:
        return []
    picks = np.sort(np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False))
    return [pool[i] for i in picks]


def curated(datasets_dir: Path) -> list[SeedContext]:
    """The contexts a new server starts with: the written ones and a seeded sample of DailyDilemmas'."""
    return [*CURATED, *sample(dilemma_contexts(datasets_dir), CURATED_FROM_DILEMMAS, SEED)]


def proposals(datasets_dir: Path, taken: set[str], n: int, seed: int) -> list[SeedContext]:
    """Situations to offer a person proposing a context: DailyDilemmas' that are not contexts yet."""
    return sample([c for c in dilemma_contexts(datasets_dir) if c.text not in taken], n, seed)
