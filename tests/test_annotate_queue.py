"""The queue and annotations: reservations that expire (injected clock), overlap k, never the same unit twice,
no one else's labels, skip and undo, the profile snapshot, leaked-data flags, and account deletion."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.annotate_factories import LABELS, Clock, annotate_for, annotator, posts, project
from valueprint.annotate.readers import Fields
from valueprint.errors import ConflictError, ForbiddenError, LabelError, NotFoundError
from valueprint.store.models import Annotation, AnnotationUnit

HOLD_S = 600


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def annotate(services, clock):
    return annotate_for(services, clock, reservation_s=HOLD_S)


def corpus(annotate, count: int = 3, **fields) -> str:
    pid = project(annotate, **fields)
    annotate.import_items(
        pid, posts([f"Post number {i}: someone did thing {i * 7919}." for i in range(count)]), Fields(), "t"
    )
    return pid


def label(services, pid: str, person: str, labels=LABELS) -> int:
    given = services.annotate.next_unit(pid, person)
    services.annotate_unit(pid, given.unit_id, person, labels)
    return given.unit_id


def test_a_reserved_unit_goes_to_no_one_else_until_it_expires(services, annotate, clock) -> None:
    pid = corpus(annotate, count=1)
    ann, ben = annotator(services), annotator(services)
    held = annotate.next_unit(pid, ann)
    assert held is not None and annotate.next_unit(pid, ben) is None
    assert annotate.next_unit(pid, ann).unit_id == held.unit_id  # asking again: the same unit, same expiry
    assert annotate.next_unit(pid, ann).reserved_until == held.reserved_until
    clock.advance(HOLD_S + 1)
    taken = annotate.next_unit(pid, ben)
    assert taken.unit_id == held.unit_id
    with pytest.raises(ConflictError, match="expired and others have taken it"):
        services.annotate_unit(pid, held.unit_id, ann, LABELS)
    services.annotate_unit(pid, taken.unit_id, ben, LABELS)


def test_a_late_answer_still_counts_while_there_is_room(services, annotate, clock) -> None:
    pid = corpus(annotate, count=1)
    ann = annotator(services)
    held = annotate.next_unit(pid, ann)
    clock.advance(HOLD_S + 1)
    services.annotate_unit(pid, held.unit_id, ann, LABELS)
    assert annotate.next_unit(pid, ann) is None


def test_overlap_k_annotators_per_unit_and_never_the_same_unit_twice(services, annotate) -> None:
    pid = corpus(annotate, count=2, overlap=2)
    people = [annotator(services) for _ in range(3)]
    first = [label(services, pid, p) for p in people[:2]]
    assert first[0] == first[1]  # the started unit is finished first
    assert label(services, pid, people[2]) != first[0]
    assert label(services, pid, people[0]) != first[0]
    assert annotate.next_unit(pid, people[0]) is None  # labelled both units
    assert annotate.next_unit(pid, people[1]) is None  # the other unit has its k = 2 labels
    with services.db.session() as session:
        assert sorted(session.scalars(select(AnnotationUnit.done))) == [2, 2]


def test_labels_must_fit_the_schema_and_the_unit_must_be_held(services, annotate) -> None:
    pid = corpus(annotate, count=2, label_schema={"dimensions": ["care", "fairness"], "custom_labels": ["sarcasm"]})
    person = annotator(services)
    given = annotate.next_unit(pid, person)
    for bad, message in [
        ({"values": {"power": 1}}, "not one of this project's dimensions"),
        ({"values": {"care": 2}}, "direction must be 1"),
        ({"acceptability": 5}, "index 0-4"),
        ({"custom": ["irony"]}, "custom labels must be among"),
    ]:
        with pytest.raises(LabelError, match=message):
            services.annotate_unit(pid, given.unit_id, person, bad)
    others = [u for u in range(given.unit_id - 3, given.unit_id + 3) if u != given.unit_id]
    with pytest.raises((ConflictError, NotFoundError)):
        services.annotate_unit(pid, others[-1], person, LABELS)
    services.annotate_unit(pid, given.unit_id, person, {"values": {"care": -1}, "custom": ["sarcasm"]})


def test_every_annotation_keeps_the_annotators_id_and_profile_snapshot(services, annotate) -> None:
    pid = corpus(annotate, count=1)
    person = annotator(services)
    label(services, pid, person)
    with services.db.session() as session:
        stored = session.scalars(select(Annotation)).one()
    assert stored.participant_id == person
    assert json.loads(stored.profile_json)["answered"] == services.settings.quick_token_after
    assert (stored.values, stored.acceptability, stored.why) == ({"care": 1}, 4, "kind")


def test_no_profile_no_labels(services, annotate) -> None:
    pid = corpus(annotate, count=1)
    newcomer = services.accounts.create().id
    given = annotate.next_unit(pid, newcomer)
    with pytest.raises(ForbiddenError, match="value questionnaire first"):
        services.annotate_unit(pid, given.unit_id, newcomer, LABELS)


def test_annotators_never_see_others_labels(services, annotate) -> None:
    pid = corpus(annotate, count=1, overlap=2)
    label(services, pid, annotator(services))
    given = annotate.next_unit(pid, annotator(services))
    assert given.suggestions == [] and "care" not in given.model_dump_json()


def test_skip_and_undo(services, annotate) -> None:
    pid = corpus(annotate, count=2)
    person = annotator(services)
    skipped = annotate.next_unit(pid, person).unit_id
    services.annotate_unit(pid, skipped, person, None)
    labelled = label(services, pid, person)
    assert labelled != skipped and annotate.next_unit(pid, person) is None
    assert annotate.undo(pid, person).unit_id == labelled
    assert annotate.next_unit(pid, person).unit_id == labelled  # reserved for them again
    services.annotate_unit(pid, labelled, person, {"values": {}, "acceptability": 0})
    assert annotate.undo(pid, person).unit_id == labelled
    assert annotate.undo(pid, person).unit_id == skipped
    with pytest.raises(NotFoundError, match="nothing to undo"):
        annotate.undo(pid, person)
    with services.db.session() as session:
        assert list(session.scalars(select(AnnotationUnit.done))) == [0, 0]


def test_undo_goes_back_even_while_the_annotator_holds_the_next_unit(services, annotate) -> None:
    pid = corpus(annotate, count=2)
    person = annotator(services)
    first = label(services, pid, person)
    holding = annotate.next_unit(pid, person).unit_id
    assert annotate.undo(pid, person).unit_id == first
    assert annotate.next_unit(pid, person).unit_id == first  # back to the undone unit, not the one held
    other = annotator(services)
    assert annotate.next_unit(pid, other).unit_id == holding  # the unit given back is free for others


def test_a_flagged_unit_is_hidden_at_once_until_a_curator_fixes_it(services, annotate) -> None:
    pid = corpus(annotate, count=1, overlap=2)
    ann, ben = annotator(services), annotator(services)
    given = annotate.next_unit(pid, ann)
    held_by_ben = annotate.next_unit(pid, ben)
    assert held_by_ben.unit_id == given.unit_id
    annotate.flag(pid, given.unit_id, ann, "names my neighbour, Jane Roe")
    assert annotate.next_unit(pid, ann) is None and annotate.next_unit(pid, ben) is None
    with pytest.raises(ConflictError, match="hidden"):
        services.annotate_unit(pid, given.unit_id, ben, LABELS)
    assert [(f.unit_id, f.reasons) for f in annotate.flagged(pid)] == [
        (given.unit_id, ["names my neighbour, Jane Roe"])
    ]
    assert list(annotate.export_jsonl(pid)) == []
    annotate.fix_unit(pid, given.unit_id, "Post: someone wrote to [EMAIL] and x@y.org today.")
    assert annotate.flagged(pid) == []
    again = annotate.next_unit(pid, ben)
    assert again.text == "Post: someone wrote to [EMAIL] and [EMAIL] today."


def test_only_a_holder_may_flag(services, annotate) -> None:
    pid = corpus(annotate, count=1)
    given = annotate.next_unit(pid, annotator(services))
    with pytest.raises(NotFoundError):
        annotate.flag(pid, given.unit_id, annotator(services), "")


def test_deleting_an_annotator_removes_their_labels_and_frees_the_units(services, annotate) -> None:
    pid = corpus(annotate, count=1)
    leaver, stayer = annotator(services), annotator(services)
    unit = label(services, pid, leaver)
    exported = services.accounts.export(leaver)["annotations"]
    assert exported["annotations"][0]["unit_id"] == unit and exported["annotations"][0]["profile"] is not None
    services.delete_participant(leaver)
    with services.db.session() as session:
        assert session.scalars(select(Annotation)).all() == []
    assert annotate.next_unit(pid, stayer).unit_id == unit


def test_deleting_an_annotator_removes_their_flag_but_the_flagged_unit_stays_hidden(services, annotate) -> None:
    pid = corpus(annotate, count=1)
    leaver = annotator(services)
    unit = annotate.next_unit(pid, leaver).unit_id
    annotate.flag(pid, unit, leaver, "names my neighbour")
    services.delete_participant(leaver)
    assert [(f.unit_id, f.reasons) for f in annotate.flagged(pid)] == [(unit, [])]  # hidden, the reason gone
    assert annotate.next_unit(pid, annotator(services)) is None


def test_undo_gives_back_the_annotators_own_label_to_correct(services, annotate) -> None:
    pid = corpus(annotate, count=2, label_schema={"dimensions": ["care", "fairness"], "custom_labels": ["sarcasm"]})
    person = annotator(services)
    own = {"values": {"care": 1, "fairness": -1}, "acceptability": 3, "why": "kind but unfair", "custom": ["sarcasm"]}
    labelled = label(services, pid, person, own)
    undone = annotate.undo(pid, person)
    assert (undone.unit_id, undone.skipped, undone.labels.model_dump()) == (labelled, False, own)
    services.annotate_unit(pid, labelled, person, own)
    skipped = annotate.next_unit(pid, person).unit_id
    services.annotate_unit(pid, skipped, person, None)
    undone = annotate.undo(pid, person)
    assert (undone.unit_id, undone.skipped, undone.labels) == (skipped, True, None)
