"""Prompt-driven selection: a description finds matching units by embedding similarity, and the matches
build a new project; over the API annotators search and only curators copy."""

from __future__ import annotations

import numpy as np
import pytest

from tests.annotate_factories import Clock, annotate_for, annotator, posts, project
from valueprint.annotate.readers import Fields
from valueprint.annotate.select import rank
from valueprint.errors import BadRequestError

WORDS = ("bull", "mock", "taunt", "cake", "bread", "oven")


def bag_of_words(texts):
    """A test double for MiniLM: counts of a few words (bullying words share one axis)."""
    out = np.zeros((len(texts), 2))
    for i, text in enumerate(texts):
        lower = text.lower()
        out[i, 0] = sum(lower.count(w) for w in WORDS[:3])
        out[i, 1] = sum(lower.count(w) for w in WORDS[3:]) + 0.01
    return out


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


def test_units_are_ranked_by_similarity_to_the_description() -> None:
    units = [(1, "We baked a cake in the oven."), (2, "They mock and taunt him daily."), (3, "Kids bully her.")]
    matches = rank(bag_of_words, "posts where someone is bullied", units, top=2)
    assert {m.unit_id for m in matches} == {2, 3} and matches[0].score == pytest.approx(1.0, abs=0.01)


def test_matches_build_a_new_project(services, annotate) -> None:
    source = project(annotate)
    annotate.import_items(
        source, posts(["They taunt him at school.", "Fresh bread today.", "Mail a@b.org to bully."]), Fields(), "t"
    )
    matches = annotate.search(source, "someone is bullied", bag_of_words, top=2)
    assert {m.text for m in matches} == {"They taunt him at school.", "Mail [EMAIL] to bully."}
    target = project(annotate)
    report = annotate.select_into(source, matches, target, "search:bullied")
    assert report.units == 2 and report.documents == 2
    with pytest.raises(BadRequestError):
        annotate.search(source, "  ", bag_of_words)


def test_annotators_search_and_only_curators_copy(services, annotate, participant_client) -> None:
    services.annotate_embedder = bag_of_words
    source, target = project(annotate), project(annotate)
    annotate.import_items(source, posts(["They mock him.", "Cake for all."]), Fields(), "t")
    found = participant_client.post(
        f"/v1/annotate/projects/{source}/search", json={"query": "bullied, mocked", "top": 1}
    )
    assert found.status_code == 200, found.text
    assert [m["text"] for m in found.json()["matches"]] == ["They mock him."]
    refused = participant_client.post(f"/v1/annotate/projects/{source}/search", json={"query": "mock", "into": target})
    assert refused.status_code == 403


def test_matches_copied_into_a_project_keep_their_pre_labels_where_they_fit(services, annotate) -> None:
    from tests.test_annotate_export_jobs import CalibratedDouble
    from valueprint.annotate.prelabel_run import prelabel_project

    dims = {"dimensions": ["care", "fairness"]}
    source = project(annotate, label_schema=dims)
    annotate.import_items(source, posts(["They taunt him at school.", "Fresh bread today."]), Fields(), "t")
    prelabel_project(services.db, source, CalibratedDouble())
    [match] = annotate.search(source, "someone is bullied", bag_of_words, top=1)
    same, narrower = project(annotate, label_schema=dims), project(annotate, label_schema={"dimensions": ["fairness"]})
    assert annotate.select_into(source, [match], same, "search:bullied").prelabels == 1
    given = annotate.next_unit(same, annotator(services))
    [copied] = given.suggestions
    assert (copied.model_version, copied.confidence) == (CalibratedDouble.model_version, pytest.approx(0.432))
    assert copied.labels["values"] == {"care": -1} and copied.labels["confidence"]["acceptability"] == 0.6
    assert annotate.select_into(source, [match], narrower, "search:bullied").prelabels == 0  # care is not there
