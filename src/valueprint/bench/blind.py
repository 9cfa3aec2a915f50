"""Blind reading of personalised replies: which of two replies fits this person, with the labels hidden?

`make` turns `personalize_replies.jsonl` (written by `valueprint bench personalize`) into cases a
reader can judge without knowing which reply is which: the persona's own summary (the readers
see a person, not a vector), the prompt, and two replies as A and B in a seeded random order.
The key (which side is personalised) goes to a separate file the reader never sees. `score` takes
the reader's answers (`{case id: "A" | "B" | "same"}`, plus optional `"incoherent": ["case-03:B", …]`
for replies the reader found incoherent)
and reports the share of decided cases where the personalised reply was picked, with a Wilson
95% interval — the development twin of the blind-pick page people use in the product.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from valueprint.bench.judge import wilson
from valueprint.errors import InputFileError
from valueprint.values.personas import load_personas


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        raise InputFileError(f"cannot read {path}: {error}; run `valueprint bench personalize` first") from error


def make(replies: Path, strategy: str, out: Path, n: int = 24, seed: int = 0) -> tuple[Path, Path]:
    """Write `cases.jsonl` (for the reader) and `key.json` (kept apart) under `out`."""
    rows = [r for r in _read_jsonl(replies) if strategy in r and r[strategy].strip() != r["base"].strip()]
    if not rows:
        raise InputFileError(f"{replies} has no replies for strategy {strategy!r} that differ from the plain ones")
    rng = random.Random(seed)
    rng.shuffle(rows)
    personas = {p.id: p for p in load_personas()}
    cases, key = [], {}
    for i, row in enumerate(rows[:n]):
        case_id = f"case-{i + 1:02d}"
        personal_first = rng.random() < 0.5
        a, b = (row[strategy], row["base"]) if personal_first else (row["base"], row[strategy])
        cases.append(
            {"id": case_id, "person": personas[row["persona"]].summary, "prompt": row["prompt"], "A": a, "B": b}
        )
        key[case_id] = {"personal": "A" if personal_first else "B", "strategy": strategy, "persona": row["persona"]}
    out.mkdir(parents=True, exist_ok=True)
    cases_path, key_path = out / "cases.jsonl", out / "key.json"
    cases_path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    key_path.write_text(json.dumps(key, indent=2) + "\n", encoding="utf-8")
    return cases_path, key_path


def score(key_path: Path, answers_path: Path) -> dict[str, Any]:
    """The share of decided cases where the reader picked the personalised reply, with a 95% interval."""
    try:
        key = json.loads(key_path.read_text(encoding="utf-8"))
        answers = json.loads(answers_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputFileError(f"cannot read the key or the answers: {error}") from error
    picks = {case: answers.get(case) for case in key}
    decided = {case: pick for case, pick in picks.items() if pick in ("A", "B")}
    personal = sum(pick == key[case]["personal"] for case, pick in decided.items())
    flagged = [str(x).partition(":") for x in answers.get("incoherent", [])]
    incoherent = [(case, side) for case, _, side in flagged if case in key]
    return {
        "strategy": next(iter(key.values()))["strategy"] if key else None,
        "cases": len(key),
        "answered": sum(pick is not None for pick in picks.values()),
        "no_difference": sum(pick == "same" for pick in picks.values()),
        "personal_picked": personal,
        "personal_share_of_decided": round(personal / len(decided), 3) if decided else None,
        "personal_share_ci95": wilson(personal, len(decided)),
        "incoherent_personal": sum(side == key[case]["personal"] for case, side in incoherent),
        "incoherent_plain": sum(side != key[case]["personal"] for case, side in incoherent),
    }
