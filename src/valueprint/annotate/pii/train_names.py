"""Re-create the person-name head (`artefact/person_head.safetensors`) from public NER corpora.

Side effects: reads CoNLL files, runs MiniLM over them (about ten minutes on one core), and
overwrites the artefact. The corpora are not shipped; bring them in first, e.g. from the
repositories named in `artefact/SOURCE.md` (`git show COMMIT:PATH > FILE`), then:

    python -m valueprint.annotate.pii.train_names --data DIR

DIR holds `wnut17train.conll` and `emerging.dev.conll` (WNUT-17), `btc_*.conll` (Broad Twitter
Corpus) and `wikigold.conll`, all CC BY 4.0. Training uses WNUT-17 train, BTC and WikiGold; the
WNUT-17 dev split chooses the threshold and reports the figures; the WNUT-17 test split is never
read.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from valueprint.annotate.pii.names import ARTEFACT, N_SHAPE, Head, WordEncoder, shape_features, words_of

PERSON_TAGS = ("B-person", "I-person", "B-PER", "I-PER")


def read_conll(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """Sentences as (tokens, tags) from a tab- or space-separated CoNLL file."""
    tokens: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2:
            if tokens:
                yield tokens, tags
            tokens, tags = [], []
            continue
        tokens.append(parts[0])
        tags.append(parts[-1])
    if tokens:
        yield tokens, tags


def labelled_words(tokens: list[str], tags: list[str]) -> tuple[str, list, np.ndarray, np.ndarray]:
    """The sentence as text, its words, a 0/1 person label per word and a mask of words to learn
    from (@mentions, #hashtags and URLs are left out: their labelling differs between corpora)."""
    text, owners = "", []
    for index, token in enumerate(tokens):
        if text:
            text += " "
        owners.extend([index] * len(token))
        owners.append(-1)
        text += token
    words = words_of(text)
    labels = np.zeros(len(words), dtype=np.float32)
    keep = np.ones(len(words), dtype=bool)
    for i, word in enumerate(words):
        token = tokens[owners[word.start]]
        labels[i] = tags[owners[word.start]] in PERSON_TAGS
        keep[i] = not (token[0] in "@#" or token.lower().startswith(("http", "www.")))
    return text, words, labels, keep


def encode(encoder: WordEncoder, paths: list[Path], cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every kept word in the files (cached in `cache` when given)."""
    if cache is not None and cache.is_file():
        saved = np.load(cache)
        return saved["x"], saved["y"]
    rows = [labelled_words(tokens, tags) for path in paths for tokens, tags in read_conll(path)]
    states = encoder.states_batch([(text, words) for text, words, _, _ in rows])
    x = np.vstack(
        [np.hstack([s, shape_features(text, words)]) for s, (text, words, _, _) in zip(states, rows, strict=True)]
    )
    y = np.concatenate([labels for _, _, labels, _ in rows])
    keep = np.concatenate([k for _, _, _, k in rows])
    if cache is not None:
        np.savez(cache, x=x[keep], y=y[keep])
    return x[keep], y[keep]


def choose_threshold(scores: np.ndarray, y: np.ndarray, beta: float = 1.0) -> tuple[float, dict[str, float]]:
    """The threshold with the best word-level F-beta on the dev words (F1 by default; F2 chose
    the lowest threshold tried, 0.01, with dev precision 0.60, too many ordinary words hidden)."""
    best = (0.5, -1.0, {})
    for threshold in np.arange(0.01, 0.96, 0.01):
        predicted = scores >= threshold
        tp = float((predicted & (y == 1)).sum())
        precision = tp / max(1.0, predicted.sum())
        recall = tp / max(1.0, (y == 1).sum())
        f = (1 + beta**2) * precision * recall / max(1e-9, beta**2 * precision + recall)
        if f > best[1]:
            best = (float(threshold), f, {"precision": precision, "recall": recall, f"f{beta:g}": f})
    return best[0], best[2]


def main(argv: list[str] | None = None) -> None:
    from sklearn.neural_network import MLPClassifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ARTEFACT)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--cache", type=Path, help="keep the encoded words here, to re-fit without re-encoding")
    args = parser.parse_args(argv)
    train_files = [
        args.data / "wnut17train.conll",
        *sorted(args.data.glob("btc_*.conll")),
        args.data / "wikigold.conll",
    ]
    started = time.monotonic()
    encoder = WordEncoder()
    cache = args.cache
    x, y = encode(encoder, train_files, cache and cache / "train.npz")
    dev_x, dev_y = encode(encoder, [args.data / "emerging.dev.conll"], cache and cache / "dev.npz")
    print(
        f"encoded {len(y)} train words ({int(y.sum())} in names), {len(dev_y)} dev words in "
        f"{time.monotonic() - started:.0f} s"
    )
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    mlp = MLPClassifier(
        hidden_layer_sizes=(args.hidden,),
        alpha=1e-3,
        max_iter=60,
        early_stopping=True,
        validation_fraction=0.1,
        random_state=0,
    )
    mlp.fit((x - mean) / scale, y)
    head = Head(mean, scale, mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1], mlp.intercepts_[1], 0.5)
    threshold, figures = choose_threshold(head.scores(dev_x), dev_y)
    head = Head(mean, scale, head.w1, head.b1, head.w2, head.b2, threshold)
    meta = {
        "train": json.dumps([p.name for p in train_files]),
        "threshold_from": "WNUT-17 dev (emerging.dev.conll), best word-level F1",
        "dev": json.dumps({k: round(v, 4) for k, v in figures.items()}),
        "features": f"MiniLM last layer mean per word (384) + {N_SHAPE} shape",
        "train_words": str(len(y)),
    }
    head.save(args.out, meta)
    print(
        json.dumps({"threshold": round(threshold, 2), "dev": meta["dev"], "seconds": round(time.monotonic() - started)})
    )


if __name__ == "__main__":
    main()
