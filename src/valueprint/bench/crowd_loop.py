"""The loop of `valueprint bench crowd`: does the crowd's consensus make the judge better?

Truth: Touché23 *validation* arguments, each Schwartz dimension present or absent (the judge never trains on
that split; its held-out pairs come from FULCRA's held-out queries and Touché23's *test* split). A simulated
crowd (`crowd_sim`, 20% spammers, overlap 3, 15% gold) labels every (argument, dimension); our aggregation
gives the consensus. The judge's value reader `a` is retrained exactly as `valueprint judge train
--with-annotations` does (`judge.labelled.add_consensus`, then `train_reader`) with the first 0, 500, 2,000
and 8,000 consensus labels (a label = one argument and one dimension; arguments in a seeded order), and
measured on the held-out pairs without the language-model term. Consensus rows, like every row, are split
between readers a and b by a hash of their group, so about half of them reach reader `a`: both counts are
reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from valueprint.bench import crowd_sim
from valueprint.settings import Settings
from valueprint.values.space import load_space


def consensus_labels(settings: Settings, seed: int = 0) -> tuple[list[tuple[str, dict[str, int], list[str]]], float]:
    """(text, {dim: 1 | 0}, dims) per Touché23 validation argument in a seeded order, from a simulated crowd,
    and the consensus labels' accuracy against the truth."""
    from valueprint.evaluate.datasets import touche23

    space = load_space()
    data = touche23(settings.datasets_dir, "validation")
    mapping = space.taxonomy_map("touche23")
    dims = sorted({d for found in mapping.values() for d in found})
    truth = np.zeros((len(data.texts), len(dims)), int)
    for i, labels in enumerate(data.labels):
        for column, on in zip(data.columns, labels, strict=True):
            for d in mapping.get(column, ()) if on else ():
                truth[i, dims.index(d)] = 1
    crowd = crowd_sim.simulate(truth.ravel(), 2, spam_share=0.2, seed=seed, ordinal=False, **crowd_sim_settings())
    found = crowd_sim.aggregate(crowd)["ours"].reshape(truth.shape)
    order = np.random.default_rng(seed).permutation(len(data.texts))
    labels = [(data.texts[i], {d: int(found[i, j]) for j, d in enumerate(dims)}, dims) for i in order]
    return labels, float((found == truth).mean())


def crowd_sim_settings() -> dict[str, Any]:
    from valueprint.bench.crowd import CROWD

    return dict(CROWD)


def first_labels(labels: Sequence[tuple[str, dict[str, int], list[str]]], count: int) -> list[Any]:
    """The first `count` (argument, dimension) labels, argument by argument."""
    out, left = [], count
    for text, values, dims in labels:
        if left <= 0:
            break
        keep = dims[:left]
        out.append((text, {d: values[d] for d in keep}, keep))
        left -= len(keep)
    return out


def loop_curve(settings: Settings, sizes: Sequence[int], progress: Callable[[str], None]) -> dict[str, Any]:
    from valueprint.bench.judge import fulcra_pairs, judge_picker, touche_pairs, wilson
    from valueprint.judge.judge import PersonalJudge
    from valueprint.judge.labelled import ReaderRows, add_consensus, reader_rows
    from valueprint.judge.pairs import accuracy_by_kind
    from valueprint.judge.reader import embed, train_reader

    space = load_space()
    base = reader_rows(space, settings.datasets_dir)
    labels, consensus_accuracy = consensus_labels(settings)
    progress(f"the loop: embedding {len(base.texts)} + {len(labels)} texts")
    base_vectors = embed(base.texts)
    extra_vectors = dict(zip([t for t, _, _ in labels], embed([t for t, _, _ in labels]), strict=True))
    pairs = fulcra_pairs(settings, space) + touche_pairs(settings, space)
    points = []
    for size in sizes:
        progress(f"the loop: {size} consensus labels")
        rows = ReaderRows(
            base.dims, *(list(getattr(base, n)) for n in ("texts", "targets", "masks", "sources", "groups"))
        )
        chosen = first_labels(labels, size)
        add_consensus(rows, chosen)
        vectors = np.concatenate([base_vectors, np.array([extra_vectors[t] for t, _, _ in chosen]).reshape(-1, 384)])
        reader = train_reader(rows, "a", space, vectors=vectors)
        in_a = sum(1 for i in rows.half_indices("a") if rows.sources[i] == "annotations")
        judge = PersonalJudge(reader, None, space)
        table = accuracy_by_kind(pairs, judge_picker(judge))
        overall = table["overall"]
        points.append(
            {
                "labels": size,
                "labels_reaching_reader_a": int(
                    sum(len(d) for i, (_, _, d) in enumerate(chosen) if _in_a(rows, i, len(base.texts)))
                ),
                "texts_in_reader_a": in_a,
                "accuracy": round(overall["accuracy"], 4),
                "interval": wilson(overall["accuracy"] * overall["n"], int(overall["n"])),
                "by_kind": {k: round(v["accuracy"], 4) for k, v in table.items() if k != "overall"},
                "pairs": int(overall["n"]),
            }
        )
    return {"consensus_label_accuracy": round(consensus_accuracy, 4), "points": points}


def _in_a(rows: Any, i: int, offset: int) -> bool:
    from valueprint.evaluate.datasets import bucket

    return bucket(rows.groups[offset + i], 2) == 0
