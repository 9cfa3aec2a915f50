"""The domain rules the pages show: where a person resumes, when a token is issued or stale, how sure a profile is."""

from __future__ import annotations

import numpy as np
import pytest

from valueprint.accounts.roles import Role
from valueprint.accounts.service import ResumePoint
from valueprint.errors import KeyStoreError
from valueprint.store.models import Participant, Profile
from valueprint.values.confidence import certainty, is_tentative, least_certain
from valueprint.values.profile import ValueProfile


def first_item(services, participant_id: str) -> str:
    return services.accounts.next_question(participant_id).item.id


# -- where a person resumes ----------------------------------------------------------


def test_a_new_person_resumes_at_the_demographics(services) -> None:
    person = services.accounts.create()
    assert services.accounts.resume_point(person.id) is ResumePoint.DEMOGRAPHICS


def test_answered_or_skipped_demographics_send_a_person_to_the_questions(services) -> None:
    person = services.accounts.create()
    services.accounts.set_personal(person.id, {})
    assert services.accounts.resume_point(person.id) is ResumePoint.QUESTIONS


def test_a_person_who_saw_a_question_resumes_at_the_questions(services) -> None:
    person = services.accounts.create()
    services.accounts.record_answer(person.id, first_item(services, person.id), None)
    assert services.accounts.resume_point(person.id) is ResumePoint.QUESTIONS


# -- when a token is issued, and when it is stale ---------------------------------------


def test_ensure_token_issues_a_first_token_and_never_replaces_it(services) -> None:
    person = services.accounts.create()
    services.ensure_token(person.id)
    first = services.registry.current_token(person.id)
    services.ensure_token(person.id)
    assert first is not None and services.registry.current_token(person.id).jti == first.jti


def test_a_token_is_stale_once_the_profile_moves_and_fresh_after_a_reissue(services) -> None:
    person = services.accounts.create()
    assert services.registry.current_token_state(person.id, services.accounts.profile(person.id)) is None
    issued = services.issue_token(person.id)
    state = services.registry.current_token_state(person.id, services.accounts.profile(person.id))
    assert (state.handle, state.stale) == (issued.handle, False)
    services.accounts.set_boundaries(person.id, [services.model.space.boundaries[0].id])
    assert services.registry.current_token_state(person.id, services.accounts.profile(person.id)).stale
    services.issue_token(person.id)
    assert not services.registry.current_token_state(person.id, services.accounts.profile(person.id)).stale


# -- how sure a profile is ----------------------------------------------------------------


def profile_with_sds(space, sds: np.ndarray) -> ValueProfile:
    return ValueProfile.from_arrays(space, np.zeros(space.size), sds)


def test_certainty_in_words() -> None:
    assert [certainty(sd) for sd in (0.1, 0.25, 0.39, 0.4, 0.9)] == [
        "sure",
        "fairly sure",
        "fairly sure",
        "not sure yet",
        "not sure yet",
    ]


def test_a_profile_is_tentative_above_an_average_sd_of_0_38(space) -> None:
    assert not is_tentative(profile_with_sds(space, np.full(space.size, 0.37)), space)
    assert is_tentative(profile_with_sds(space, np.full(space.size, 0.39)), space)


def test_least_certain_dimensions_come_least_sure_first(space) -> None:
    sds = np.full(space.size, 0.2)
    sds[[4, 9, 1]] = [0.9, 0.8, 0.7]
    assert [d.id for d in least_certain(profile_with_sds(space, sds), space)] == [
        space.ids[4],
        space.ids[9],
        space.ids[1],
    ]


# -- roles ------------------------------------------------------------------------------------


def test_roles_are_stored_as_their_names(services) -> None:
    admin = services.accounts.create(role=Role.ADMIN)
    assert services.accounts.role(admin.id) == "admin" and services.accounts.role(admin.id) is Role.ADMIN
    assert Role.ADMIN.plural == "administrators" and Role.REVIEWER.plural == "reviewers"


# -- reads do not write; one operation is one unit of work -----------------------------------


def test_reading_the_profile_and_the_next_question_stores_nothing(services) -> None:
    person = services.accounts.create()
    services.accounts.profile(person.id)
    services.accounts.next_question(person.id)
    with services.db.session() as session:
        assert session.get(Profile, person.id) is None
        assert session.get(Participant, person.id).completed_at is None


def test_the_answer_that_meets_the_stopping_rule_completes_the_questionnaire(services) -> None:
    person = services.accounts.create()
    step = services.accounts.next_question(person.id)
    while step.item is not None:
        step = services.accounts.record_answer(person.id, step.item.id, None)
    with services.db.session() as session:
        assert session.get(Participant, person.id).completed_at is not None


def test_issuing_a_token_stores_its_profile_in_the_same_unit_of_work(services, monkeypatch) -> None:
    person = services.accounts.create()

    def refuse(*args: object) -> None:
        raise KeyStoreError("no signing key")

    monkeypatch.setattr(services.registry, "issue", refuse)
    with pytest.raises(KeyStoreError):
        services.issue_token(person.id)
    with services.db.session() as session:
        assert session.get(Profile, person.id) is None, "the profile was rolled back with the failed issue"
    monkeypatch.undo()
    services.issue_token(person.id)
    with services.db.session() as session:
        assert session.get(Profile, person.id) is not None
