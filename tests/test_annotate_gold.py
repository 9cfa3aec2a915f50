"""Gold units: known answers from validation splits only, mixed into the queue unannounced, each annotator's
accuracy on them with a Wilson interval, and a pause (with its reason) for one far below chance."""

from __future__ import annotations

import pytest

from tests.annotate_factories import Clock, annotate_for, annotator, posts, project
from valueprint.annotate import gold
from valueprint.annotate.readers import Fields
from valueprint.errors import BadRequestError, ForbiddenError


@pytest.fixture
def crowd(services):
    annotate_for(services, Clock())
    return services.crowd


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = gold.wilson(0.5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert gold.wilson(0.0, 0) == (0.0, 1.0)


def test_gold_comes_from_validation_splits_never_test(space, shared_data) -> None:
    with pytest.raises(BadRequestError, match="validation splits only"):
        gold.gold_items(space, shared_data, "touche23", split="test")
    items = gold.gold_items(space, shared_data, "social_chemistry")
    assert len(items) > 500 and all(i.source == "social_chemistry:validation" for i in items)
    assert all(set(i.values) <= {"care", "fairness", "loyalty", "authority", "sanctity"} for i in items)
    touche = gold.gold_items(space, shared_data, "touche23")
    assert len(touche) == 1896


def test_checks_use_a_tolerance_on_the_scale_and_presence_of_checked_values() -> None:
    found = gold.checks({"care": 1}, ["care", "fairness"], 4, {"values": {"care": -1}, "acceptability": 3}, 5)
    assert [(c.label, c.hit) for c in found] == [("acceptability", True), ("care", True), ("fairness", True)]
    assert found[0].chance == pytest.approx(2 / 5)
    found = gold.checks({"care": 1}, ["care", "fairness"], 4, {"values": {"fairness": 1}, "acceptability": 1}, 5)
    assert [c.hit for c in found] == [False, False, False]


def test_gold_units_are_mixed_in_unannounced_at_the_gold_share(services, crowd) -> None:
    pid = project(services.annotate, gold_share=0.3, overlap=1)
    services.annotate.import_items(
        pid, posts([f"Ordinary post number {i} about chores." for i in range(40)]), Fields(), "t"
    )
    added = crowd.add_gold(pid, "moral_stories", limit=30)
    assert added["gold_units"] == 30
    person = annotator(services)
    seen_gold = 0
    for _ in range(30):
        task = services.annotate.next_unit(pid, person)
        assert set(task.model_dump()) == {"unit_id", "text", "reserved_until", "suggestions"}  # nothing says gold
        with services.db.session() as session:
            from valueprint.store.models import AnnotationUnit

            seen_gold += session.get(AnnotationUnit, task.unit_id).gold
        services.annotate_unit(pid, task.unit_id, person, {"acceptability": 2})
    assert 4 <= seen_gold <= 16  # about 30% of 30


def label_gold_wrongly(services, pid: str, person: str, n: int) -> None:
    """Answers every gold unit (immoral action: clearly wrong) as clearly good, and moral ones as clearly wrong."""
    from valueprint.store.models import AnnotationGold

    for _ in range(n):
        task = services.annotate.next_unit(pid, person)
        with services.db.session() as session:
            answer = session.get(AnnotationGold, task.unit_id)
            opposite = 4 if answer.acceptability == 0 else 0
        profile = services.accounts.profile(person).to_json()
        services.annotate.annotate(pid, task.unit_id, person, profile, {"acceptability": opposite})


def test_an_annotator_far_below_chance_is_paused_and_told_why(services, crowd) -> None:
    pid = project(services.annotate, gold_share=0.5)
    crowd.add_gold(pid, "moral_stories", limit=20)  # a project of gold units only: every unit is checked
    person = annotator(services)
    label_gold_wrongly(services, pid, person, gold.MIN_GOLD)
    record = crowd.gold_record(pid, person)
    assert record["units"] == gold.MIN_GOLD and record["accuracy"] == 0.0
    assert record["interval"][1] < record["chance"] and record["paused"]
    with pytest.raises(ForbiddenError, match="paused: on 8 units whose answers are known"):
        services.annotate.next_unit(pid, person)
    history = crowd.karma(person)
    assert history["karma"] == -gold.MIN_GOLD and "compared with its known answer" in history["events"][0]["reason"]
    assert crowd.lift_pause(pid, person) and services.annotate.next_unit(pid, person) is not None


def test_a_careful_annotator_is_not_paused_and_gains_karma(services, crowd) -> None:
    from valueprint.store.models import AnnotationGold

    pid = project(services.annotate, gold_share=0.5)
    crowd.add_gold(pid, "moral_stories", limit=12)
    person = annotator(services)
    for _ in range(10):
        task = services.annotate.next_unit(pid, person)
        with services.db.session() as session:
            right = session.get(AnnotationGold, task.unit_id).acceptability
        services.annotate_unit(pid, task.unit_id, person, {"acceptability": right})
    record = crowd.gold_record(pid, person)
    assert record["accuracy"] == 1.0 and record["interval"][0] > 0.6 and not record["paused"]
    assert crowd.karma(person)["karma"] == 10.0


def test_undoing_a_gold_label_takes_back_its_karma(services, crowd) -> None:
    pid = project(services.annotate, gold_share=0.5)
    crowd.add_gold(pid, "moral_stories", limit=3)
    person = annotator(services)
    task = services.annotate.next_unit(pid, person)
    services.annotate_unit(pid, task.unit_id, person, {"acceptability": 2})
    assert len(crowd.karma(person)["events"]) == 1
    services.annotate.undo(pid, person)
    assert crowd.karma(person)["events"] == []
