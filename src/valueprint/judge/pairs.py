"""Persona-fit pairs: a profile, a prompt, a reply that fits the person better and one that fits worse.

Two hand-written sets ship with the package (`data/pairs_dev.jsonl`, `data/pairs_test.jsonl`),
each written independently of the judge's training data and of each other, by kind:

- `explicit`: replies that reason from different values;
- `subtle`: same tone and length, differing only in what they recommend;
- `style`: the same advice in the two opposite styles of one behaviour dimension;
- `salad`: a coherent answer against a jumble of the person's value words;
- `cutoff`: a complete answer against a well-fitting reply cut mid-sentence;
- `recital`: an answer against a reply that recites the person's values instead of answering.

Explicit, subtle and style pairs come mirrored (the same two replies under the opposite profile),
so a judge cannot score well by preferring one generally better reply. The dev set may guide
design choices; the test set is only ever measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valueprint.errors import DatasetError

DATA_DIR = Path(__file__).parent / "data"
KINDS = ("explicit", "subtle", "style", "salad", "cutoff", "recital")


@dataclass(frozen=True)
class FitPair:
    id: str
    kind: str
    profile: dict[str, Any]
    prompt: str
    better: str
    worse: str
    why: str = ""


def load_pairs(name: str = "dev", path: Path | None = None) -> list[FitPair]:
    """The `dev` or `test` set shipped with the package, or any JSONL file of the same shape."""
    path = path or DATA_DIR / f"pairs_{name}.jsonl"
    pairs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetError(f"cannot read persona-fit pairs {path}: {error}") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append(
                FitPair(
                    row["id"],
                    row["kind"],
                    row["profile"],
                    row["prompt"],
                    row["better"],
                    row["worse"],
                    row.get("why", ""),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise DatasetError(f"{path}:{number} is not a persona-fit pair: {error}") from error
    return pairs


Picker = Callable[[dict[str, Any], str, Sequence[str]], int]


def accuracy_by_kind(pairs: Sequence[FitPair], pick: Picker) -> dict[str, dict[str, float]]:
    """Share of pairs where `pick(profile, prompt, [a, b])` chooses the better reply, per kind and overall.

    The better reply is shown first in half of the pairs (alternating), so order cannot help.
    """
    hits: dict[str, list[bool]] = {}
    for i, pair in enumerate(pairs):
        replies = [pair.better, pair.worse] if i % 2 == 0 else [pair.worse, pair.better]
        chosen = pick(pair.profile, pair.prompt, replies)
        hits.setdefault(pair.kind, []).append(chosen == (0 if i % 2 == 0 else 1))
    table = {kind: {"n": len(h), "accuracy": sum(h) / len(h)} for kind, h in hits.items()}
    everything = [x for h in hits.values() for x in h]
    table["overall"] = {"n": len(everything), "accuracy": sum(everything) / max(1, len(everything))}
    return table
