"""Agreement (Krippendorff's alpha, checked against the published example) and consensus (Dawid–Skene with
weights and known answers, majority vote beside it), on their own and over a project's stored labels."""

from __future__ import annotations

import numpy as np
import pytest

from tests.annotate_factories import Clock, annotate_for, annotator, posts, project
from valueprint.annotate.aggregate import Labels, dawid_skene, majority
from valueprint.annotate.agreement import alpha
from valueprint.annotate.readers import Fields

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers, twelve units
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


@pytest.mark.parametrize(("metric", "published"), [("nominal", 0.743), ("interval", 0.849), ("ordinal", 0.815)])
def test_alpha_reproduces_krippendorffs_worked_example(metric: str, published: float) -> None:
    units = [list(column) for column in zip(*OBSERVERS, strict=True)]
    assert alpha(units, metric) == pytest.approx(published, abs=5e-4)


def test_alpha_is_one_for_perfect_agreement_and_none_without_variation() -> None:
    assert alpha([[1, 1], [2, 2], [3, 3]], "nominal") == 1.0
    assert alpha([[1, 1], [1, 1]], "nominal") is None
    assert alpha([[1], [2]], "nominal") is None  # nothing pairable


def simulated(n_items: int, accuracies: list[float], seed: int = 1) -> tuple[Labels, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_items)
    rows = []
    for w, acc in enumerate(accuracies):
        for i in range(n_items):
            label = truth[i] if rng.random() < acc else rng.integers(0, 3)
            rows.append((i, w, int(label)))
    return Labels.of(rows, n_items, len(accuracies), 3), truth


def test_dawid_skene_beats_majority_when_some_annotators_are_spammers() -> None:
    data, truth = simulated(300, [0.9, 0.85, 0.0, 0.0, 0.0])  # three spammers outvote two good annotators
    found = dawid_skene(data)
    vote, _ = majority(data)
    assert (found.labels == truth).mean() > (vote == truth).mean() + 0.1
    assert found.confusion[0].diagonal().mean() > found.confusion[3].diagonal().mean()


def test_known_answers_are_clamped_and_weights_silence_a_crowd() -> None:
    rows = [(0, 0, 1)] + [(0, w, 2) for w in range(1, 11)]  # one established annotator, ten fresh ones
    weights = [1.0] + [0.05] * 10
    data = Labels.of(rows, 1, 11, 3, weights)
    assert dawid_skene(data).labels[0] == 1
    assert dawid_skene(Labels.of(rows, 1, 11, 3)).labels[0] == 2  # unweighted, the crowd wins
    assert dawid_skene(Labels.of(rows, 1, 11, 3), known={0: 0}).labels[0] == 0


def test_project_agreement_and_consensus_over_stored_labels(services) -> None:
    annotate = annotate_for(services, Clock())
    pid = project(annotate, overlap=3, label_schema={"dimensions": ["care", "fairness"]})
    annotate.import_items(pid, posts(["She shared her lunch.", "He stole the tip jar.", "They argued."]), Fields(), "t")
    people = [annotator(services) for _ in range(3)]
    given = {  # per person: their label of the units in queue order
        0: [{"values": {"care": 1}, "acceptability": 4}, {"values": {"fairness": -1}, "acceptability": 0}, None],
        1: [{"values": {"care": 1}, "acceptability": 4}, {"values": {"fairness": -1}, "acceptability": 1}, None],
        2: [{"values": {"care": 1}, "acceptability": 3}, {"values": {"care": 1}, "acceptability": 4}, None],
    }
    for p, person in enumerate(people):
        for labels in given[p]:
            task = annotate.next_unit(pid, person)
            services.annotate_unit(pid, task.unit_id, person, labels or {"acceptability": 2})
    found = services.crowd.agreement(pid)
    names = {row["label"]: row for row in found["labels"]}
    assert names["acceptability"]["metric"] == "ordinal" and names["value:care"]["metric"] == "nominal"
    assert -1.0 <= found["alpha"] <= 1.0
    assert found["most_disagreed"][0]["text"] == "He stole the tip jar."
    consensus = {row["unit_id"]: row for row in services.crowd.consensus(pid)}
    stole = next(u for u, row in consensus.items() if row["values"].get("fairness"))
    assert consensus[stole]["values"]["fairness"]["consensus"] == -1
    assert consensus[stole]["acceptability"]["majority"] in (0, 1, 4)
    assert 0 < consensus[stole]["acceptability"]["confidence"] <= 1
