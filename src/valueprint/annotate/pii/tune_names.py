"""Choose the person-name head's threshold on a validation set that the PII benchmark never reads.

Side effects: reads the shared data sets and the CoNLL files, runs MiniLM over a few thousand texts
(about fifteen minutes on one core), and rewrites the thresholds in `artefact/person_head.safetensors`
(the weights stay as they are). Run it after `train_names`, with the same DIR:

    python -m valueprint.annotate.pii.tune_names --data DIR [--datasets ../shared/data]

Validation texts are real sentences: Moral Stories *dev* (actions and norms), Social Chemistry's
optional file (its train situations) and Touché23 *validation* premises, less every sentence the
benchmark (`bench.annotate_pii`) draws from (Moral Stories test, DailyDilemmas, Social Chemistry's
obligatory file). Half get a planted person name, the others one other item (e-mail, phone, ID,
card, URL, IP or address), each in a carrier phrase written here, not the benchmark's. The names
are the person names of the head's own training corpora (WNUT-17 train, BTC, WikiGold), not Faker
(the benchmark's source); one in ten is written in lower case, so that the rule that a lower-case
word of a cased text is no name (`names.never_names`) is charged for the names it misses. The other
items come from small generators here.

Scoring is the benchmark's (`bench.annotate_pii.score`: a detection that the sanitiser also makes
in the unmodified sentence, or one made only of given names already in the real sentence, is left
out). The choice: the threshold with the best PERSON F1 on validation, the rules in place.
"""

from __future__ import annotations

import argparse
import csv
import json
import pickle
import random
import string
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.annotate.pii import patterns
from valueprint.annotate.pii.names import ARTEFACT, Head, PersonNameFinder, Word
from valueprint.annotate.pii.train_names import read_conll
from valueprint.annotate.sanitize import EntityType, Sanitised, Sanitiser
from valueprint.bench.annotate_pii import Planted, score

PERSON_TAGS = ("B-person", "I-person", "B-PER", "I-PER")
CARRIERS: dict[EntityType, tuple[str, ...]] = {
    "PERSON": (
        "{s} I talked it over with {x} last night.",
        "{x} wrote to us: {s}",
        "{s} Best, {x}",
        "According to {x}: {s}",
        "{s} My coworker {x} disagrees.",
        "{s} {x} and {y} were both there.",
        "Story from {x}. {s}",
        "{s} (shared by {x})",
        "Dear {x}, {s}",
        "{s} Ask {x}, she knows.",
        "Name: {x}\n{s}",
        "{s} Signed, {x}",
        "{s} My sister {x} agrees.",
    ),
    "EMAIL": (
        "{s} E-mail: {x}",
        "{s} You can reach me at {x} anytime.",
        "Mail {x} to join. {s}",
        "{s} [{x}]",
        "{s} My email is {x}.",
        "Email: {x}\n{s}",
        "{s} email me at {x}",
    ),
    "PHONE": ("{s} Phone: {x}", "{s} Ring me at {x} tonight.", "Tel. {x} - {s}", "{s} call or text {x}"),
    "ID": (
        "{s} SSN: {x}",
        "{s} My passport no. is {x}.",
        "{s} National Insurance number {x}",
        "{s} ID number: {x}",
        "Passport: {x}\n{s}",
    ),
    "CARD": ("{s} Visa {x}", "{s} Card no. {x} expired."),
    "URL": ("{s} Source: {x}", "{s} Read more: {x}"),
    "IP": ("{s} IP address {x}", "{s} Blocked {x} yesterday."),
    "ADDRESS": ("{s} Address: {x}.", "{s} We live at {x}."),
}
OTHER_TYPES: tuple[EntityType, ...] = ("EMAIL", "PHONE", "ID", "CARD", "URL", "IP", "ADDRESS")
WORDS = ("river", "maple", "stone", "bright", "cedar", "harbor", "quiet", "orchard", "falcon", "summit")
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.91, 0.05))


# -- the validation texts -----------------------------------------------------------------------------


def benchmark_sentences(datasets_dir: Path) -> set[str]:
    """Every sentence the PII benchmark may draw (kept out of validation)."""
    out: set[str] = set()
    with open(datasets_dir / "moral_stories" / "norm_distance_test.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out |= {row.get(k, "").strip() for k in ("moral_action", "immoral_action", "norm")}
    with open(datasets_dir / "daily_dilemmas" / "dilemma.csv", encoding="utf-8", newline="") as handle:
        out |= {row["dilemma_situation"].strip() for row in csv.DictReader(handle)}
    with open(datasets_dir / "social_chemistry_101" / "obligatory_sc101.csv", encoding="utf-8", newline="") as h:
        out |= {(s[:1].upper() + s[1:] + ".").strip() for s in (r["situation"] for r in csv.DictReader(h)) if s}
    return out


def validation_sentences(datasets_dir: Path, count: int, seed: int) -> list[tuple[str, str]]:
    """(source, sentence) pairs, evenly from three sources, none of them the benchmark's."""
    pools: dict[str, set[str]] = {"moral_stories_dev": set(), "social_chemistry_optional": set(), "touche_val": set()}
    with open(datasets_dir / "moral_stories" / "norm_distance_dev.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            pools["moral_stories_dev"] |= {
                row[k].strip() for k in ("moral_action", "immoral_action", "norm") if k in row
            }
    with open(datasets_dir / "social_chemistry_101" / "optional_sc101.csv", encoding="utf-8", newline="") as h:
        situations = {r["situation"] for r in csv.DictReader(h) if r["split"] == "train" and r["situation"]}
        pools["social_chemistry_optional"] = {s[:1].upper() + s[1:] + "." for s in situations}
    with open(datasets_dir / "touche23_valueeval" / "arguments-validation.tsv", encoding="utf-8", newline="") as h:
        pools["touche_val"] = {row["Premise"].strip() for row in csv.DictReader(h, delimiter="\t")}
    excluded = benchmark_sentences(datasets_dir)
    rng = random.Random(seed)
    ordered = {name: sorted(pool - excluded) for name, pool in pools.items()}
    return [(name, rng.choice(ordered[name])) for _ in range(count // 3 + 1) for name in ordered][:count]


def corpus_names(data_dir: Path) -> list[str]:
    """Person names (runs of person-tagged tokens) from the head's training corpora, as written there."""
    files = [data_dir / "wnut17train.conll", *sorted(data_dir.glob("btc_*.conll")), data_dir / "wikigold.conll"]
    names: set[str] = set()
    for path in files:
        for tokens, tags in read_conll(path):
            names |= {" ".join(run) for run in _runs(tokens, tags) if 1 <= len(run) <= 3 and all(map(_name_like, run))}
    return sorted(names)


def _name_like(token: str) -> bool:
    """A word written as names are ("Ann", "O'Neill", "McKay", "Jean-Luc"), not a handle ("AMercWithAMouth")."""
    letters = token.replace("-", "").replace("'", "")
    capitals = sum(c.isupper() for c in letters) - token.count("-") - token.startswith(("Mc", "O'"))
    return len(letters) > 1 and letters.isalpha() and token[0].isupper() and capitals <= 1


def _runs(tokens: list[str], tags: list[str]) -> Iterator[list[str]]:
    run: list[str] = []
    for token, tag in zip(tokens, tags, strict=True):
        if tag in PERSON_TAGS and not (tag.startswith("B-") and run):
            run.append(token)
            continue
        if run:
            yield run
        run = [token] if tag in PERSON_TAGS else []
    if run:
        yield run


def _other_item(kind: EntityType, rng: random.Random) -> str:
    word, digits = rng.choice(WORDS), lambda n: "".join(rng.choice(string.digits) for _ in range(n))
    if kind == "EMAIL":
        return f"{word}.{rng.choice(WORDS)}{digits(2)}@{rng.choice(WORDS)}mail.net"
    if kind == "PHONE":
        return rng.choice(
            [f"({digits(3)}) {digits(3)}-{digits(4)}", f"+44 7{digits(3)} {digits(6)}", f"0{digits(4)} {digits(6)}"]
        )
    if kind == "ID":
        return f"{digits(3)}-{digits(2)}-{digits(4)}"
    if kind == "CARD":
        return _luhn("4" + digits(14))
    if kind == "URL":
        return f"https://www.{word}{digits(2)}.org/users/{rng.choice(WORDS)}{digits(3)}"
    if kind == "IP":
        return ".".join(str(rng.randrange(1, 255)) for _ in range(4))
    state = rng.choice(("OR", "TX", "NY", "OH", "CA", "MI"))
    return f"{rng.randrange(2, 400)} {word.title()} Street, {rng.choice(WORDS).title()}ton, {state} {digits(5)}"


def _luhn(partial: str) -> str:
    total = 0
    for i, d in enumerate(reversed(partial)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return partial + str((10 - total % 10) % 10)


def plant(sentences: list[tuple[str, str]], names: list[str], seed: int) -> list[Planted]:
    """Every other sentence with a person name (one in ten lower-cased), the rest with another item."""
    rng = random.Random(seed)
    out = []
    for index, (source, sentence) in enumerate(sentences):
        kind: EntityType = "PERSON" if index % 2 == 0 else OTHER_TYPES[(index // 2) % len(OTHER_TYPES)]
        carrier = rng.choice(CARRIERS[kind])
        if kind == "PERSON":
            x, y = (rng.choice(names) for _ in range(2))
            x, y = (v.lower() if rng.random() < 0.1 else v for v in (x, y))
        else:
            x = y = _other_item(kind, rng)
        out.append(Planted.fill(carrier, sentence, kind, x, y, source))
    return out


# -- the sweep ------------------------------------------------------------------------------------------


class CachedFinder(PersonNameFinder):
    """The finder with each text's word scores computed once, so thresholds can be swept."""

    def __init__(self, head: Head, cache: dict[str, tuple[list[Word], np.ndarray]] | None = None) -> None:
        super().__init__(head)
        self.cache = {} if cache is None else cache

    def word_scores(self, text: str) -> tuple[list[Word], np.ndarray]:
        if text not in self.cache:
            self.cache[text] = super().word_scores(text)
        return self.cache[text]


def evaluate(items: list[Planted], finder: PersonNameFinder) -> dict[str, Any]:
    """The benchmark's figures for these items with this finder."""
    sanitiser = Sanitiser(finder)
    results: list[Sanitised] = [sanitiser.sanitise(item.text) for item in items]
    originals: list[Sanitised] = [sanitiser.sanitise(item.sentence) for item in items]
    return score(items, results, originals)["per_type"]["PERSON"]


def sweep(
    items: list[Planted], head: Head, progress: Any = print, cache: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """PERSON recall, precision and F1 for every threshold (pattern findings and word scores cached per
    text; `cache` may hold word scores from an earlier run with the same head and words)."""
    found = patterns.find
    memo: dict[str, Any] = {}
    patterns.find = lambda text: memo.setdefault(text, found(text))  # type: ignore[assignment]
    try:
        finder = CachedFinder(head, cache)
        rows = []
        for threshold in THRESHOLDS:
            finder.head = replace(head, threshold=threshold)
            person = evaluate(items, finder)
            p, r = person["precision"] or 0.0, person["recall"] or 0.0
            rows.append(
                {
                    "threshold": threshold,
                    "precision": p,
                    "recall": r,
                    "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                }
            )
            progress(json.dumps(rows[-1]))
        return rows
    finally:
        patterns.find = found  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the CoNLL files (see train_names)")
    parser.add_argument("--datasets", type=Path, default=Path("../shared/data"))
    parser.add_argument("--items", type=int, default=1600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ARTEFACT)
    parser.add_argument("--report", type=Path, help="write every swept pair here (JSON)")
    parser.add_argument("--cache", type=Path, help="keep the word scores here, to sweep again without MiniLM")
    args = parser.parse_args(argv)
    head = Head.load(ARTEFACT)
    items = plant(validation_sentences(args.datasets, args.items, args.seed), corpus_names(args.data), args.seed)
    cache = pickle.loads(args.cache.read_bytes()) if args.cache and args.cache.is_file() else {}
    rows = sweep(items, head, cache=cache)
    if args.cache:
        args.cache.write_bytes(pickle.dumps(cache))
    best = max(rows, key=lambda row: (row["f1"], row["precision"]))
    tuned = replace(head, threshold=best["threshold"])
    from safetensors import safe_open

    with safe_open(str(ARTEFACT), "np") as handle:
        metadata = dict(handle.metadata() or {})
    metadata |= {
        "threshold_from": "best PERSON F1 on a planted validation set (valueprint.annotate.pii.tune_names), "
        "never the benchmark's sentences",
        "validation": json.dumps({**best, "items": len(items), "seed": args.seed}),
    }
    tuned.save(args.out, metadata)
    if args.report:
        args.report.write_text(json.dumps({"chosen": best, "rows": rows}, indent=1))
    print(json.dumps({"chosen": best}))


if __name__ == "__main__":
    main()
