"""A person's own annotations become preference pairs for their personal adapter."""

from __future__ import annotations

from typing import Any

from tests.annotate_factories import LABELS, Clock, annotate_for, annotator, posts, project
from valueprint.annotate.readers import Fields

STORY = "Sam found a wallet on the bus. Sam handed it to the driver. Sam kept the cash and threw the wallet away."


def judge_every_unit(services: Any, pid: str, person: str, acceptability: dict[str, int]) -> None:
    while (unit := services.annotate.next_unit(pid, person)) is not None:
        given = acceptability.get(unit.text)
        services.annotate_unit(
            pid, unit.unit_id, person, LABELS | {"acceptability": given} if given is not None else None
        )


def test_units_the_person_judged_differently_make_a_pair_with_the_text_before_them_as_prompt(services) -> None:
    annotate = annotate_for(services, Clock())
    pid = project(annotate, segmentation="sentences")
    annotate.import_items(pid, posts([STORY]), Fields(), "t")
    person, other = annotator(services), annotator(services)
    judge_every_unit(
        services,
        pid,
        person,
        {"Sam handed it to the driver.": 4, "Sam kept the cash and threw the wallet away.": 0},
    )

    assert services.annotate.preference_pairs(person) == [
        (
            "Sam found a wallet on the bus.",
            "Sam handed it to the driver.",
            "Sam kept the cash and threw the wallet away.",
        )
    ]
    assert services.annotate.preference_pairs(other) == [], "another person's adapter learns nothing from them"


def test_training_the_adapter_takes_the_persons_annotations_among_their_own_pairs(services, monkeypatch) -> None:
    annotate = annotate_for(services, Clock())
    pid = project(annotate, segmentation="sentences")
    annotate.import_items(pid, posts([STORY]), Fields(), "t")
    person = annotator(services)
    judge_every_unit(
        services, pid, person, {"Sam handed it to the driver.": 3, "Sam kept the cash and threw the wallet away.": 1}
    )
    submitted = []
    monkeypatch.setattr(services.personalizer.jobs, "submit", lambda request: submitted.append(request) or {})
    monkeypatch.setattr(services.personalizer, "check_training_data", lambda: None)
    monkeypatch.setattr("valueprint.personalize.service.check_trainable", lambda *_: None)  # all-4 answers

    services.train_adapter(person)

    (request,) = submitted
    assert ("Sam found a wallet on the bus.", "Sam handed it to the driver.", STORY.split(". ")[2]) in request.own
