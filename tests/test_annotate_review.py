"""Peer review and karma: disputed units, adjudication (karma with reasons, confirmed or overturned reviews),
returned annotations, reviewing unlocked by karma, and fresh accounts that cannot flip a consensus."""

from __future__ import annotations

import pytest

from tests.annotate_factories import Clock, annotate_for, annotator, posts
from valueprint.accounts.roles import Role
from valueprint.annotate import karma
from valueprint.annotate.readers import Fields
from valueprint.errors import ConflictError


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


def disputed_unit(services, annotate, people: int = 3) -> tuple[str, int, list[str]]:
    """A project of one unit labelled three ways: clearly wrong, clearly good, clearly good."""
    pid = annotate.create_project(None, {"name": "R", "segmentation": "posts", "overlap": people}).id
    annotate.import_items(pid, posts(["He kept the wallet he found."]), Fields(), "t")
    ids = [annotator(services) for _ in range(people)]
    for i, person in enumerate(ids):
        task = annotate.next_unit(pid, person)
        services.annotate_unit(pid, task.unit_id, person, {"acceptability": 0 if i == 0 else 4, "values": {}})
    return pid, task.unit_id, ids


def test_a_disputed_unit_is_in_the_backlog_until_settled(services, annotate) -> None:
    pid, unit_id, people = disputed_unit(services, annotate)
    assert [row["unit_id"] for row in services.crowd.disputes(pid)] == [unit_id]
    reviewer = services.accounts.create(role=Role.REVIEWER).id
    changes = services.crowd.adjudicate(pid, unit_id, reviewer, {"acceptability": 0}, "Keeping it is theft.")
    assert {c["participant_id"]: c["delta"] for c in changes} == {people[0]: 1.0, people[1]: -1.0, people[2]: -1.0}
    overturned = services.crowd.karma(people[1])["events"][0]
    assert overturned["kind"] == "overturned" and "Keeping it is theft." in overturned["reason"]
    assert services.crowd.disputes(pid) == []
    assert services.crowd.consensus(pid)[0]["acceptability"]["consensus"] == 0  # the answer is now known


def test_reviewers_never_settle_their_own_unit_and_later_reviews_confirm_or_overturn(services, annotate) -> None:
    pid, unit_id, people = disputed_unit(services, annotate)
    with pytest.raises(ConflictError, match="labelled this unit yourself"):
        services.crowd.adjudicate(pid, unit_id, people[0], {"acceptability": 0})
    first, second = (services.accounts.create(role=Role.REVIEWER).id for _ in range(2))
    services.crowd.adjudicate(pid, unit_id, first, {"acceptability": 4})
    services.crowd.adjudicate(pid, unit_id, second, {"acceptability": 0})
    assert services.crowd.karma(first)["events"][0]["kind"] == "review_overturned"
    assert services.crowd.karma(first)["karma"] == -2.0


def test_a_returned_annotation_comes_back_first_and_a_changed_label_rewards_the_reviewer(services, annotate) -> None:
    pid, unit_id, people = disputed_unit(services, annotate)
    reviewer = services.accounts.create(role=Role.REVIEWER).id
    services.crowd.return_annotation(pid, unit_id, people[0], reviewer, "Read the last clause again.")
    assert services.crowd.returned_to(people[0])[0]["comment"] == "Read the last clause again."
    task = annotate.next_unit(pid, people[0])
    assert task.unit_id == unit_id
    services.annotate_unit(pid, unit_id, people[0], {"acceptability": 3})
    assert services.crowd.returned_to(people[0]) == []
    event = services.crowd.karma(reviewer)["events"][0]
    assert event["kind"] == "review_useful" and event["delta"] == 2.0


def test_karma_unlocks_reviewing(services) -> None:
    person = annotator(services)
    assert not services.crowd.karma(person)["may_review"]
    with services.db.session() as session:
        karma.add(session, person, "gold_agree", karma.REVIEW_KARMA, "many agreements", None, None)
    assert services.crowd.karma(person)["may_review"]


def test_a_crowd_of_fresh_accounts_cannot_flip_a_trusted_label(services, annotate) -> None:
    pid = annotate.create_project(None, {"name": "F", "segmentation": "posts", "overlap": 20}).id
    annotate.import_items(pid, posts(["She returned the extra change."]), Fields(), "t")
    trusted = annotator(services)
    with services.db.session() as session:
        karma.add(session, trusted, "gold_agree", karma.FULL_KARMA, "a long good record", None, None)
    task = annotate.next_unit(pid, trusted)
    services.annotate_unit(pid, task.unit_id, trusted, {"acceptability": 4})
    for _ in range(19):  # a coordinated group of fresh accounts
        fresh = annotator(services)
        annotate.next_unit(pid, fresh)
        services.annotate_unit(pid, task.unit_id, fresh, {"acceptability": 0})
    found = services.crowd.consensus(pid)[0]["acceptability"]
    assert found["majority"] == 0 and found["consensus"] == 4
