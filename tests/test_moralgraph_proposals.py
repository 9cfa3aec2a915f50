"""Contexts proposed to curators: DailyDilemmas' situations (training part only) and the "when …" clauses of
annotation units, which a curator accepts (perhaps reworded) or dismisses for good."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from valueprint.accounts.roles import Role
from valueprint.errors import CardError, NotFoundError
from valueprint.evaluate.datasets import bucket
from valueprint.moralgraph.contexts import evaluation_ids, unit_contexts
from valueprint.store.models import AnnotationDocument, AnnotationProject, AnnotationUnit, MoralContext

UNITS = [
    "It hurts when my boss ignores me in every meeting.",  # a "when" clause
    "When is the next train?",  # a question: nothing
    "I called [PERSON] when [PERSON] lied to me.",  # a placeholder stops the clause: nothing
    "Lending money to a cousin.",  # short, and reads as an action
]


def test_a_unit_proposes_its_when_clauses_and_a_short_action_but_no_question() -> None:
    assert unit_contexts(UNITS[0]) == ["when my boss ignores me in every meeting"]
    assert unit_contexts(UNITS[1]) == [] and unit_contexts(UNITS[2]) == []
    assert unit_contexts(UNITS[3]) == ["when lending money to a cousin"]
    assert unit_contexts("When I lost my job, and when my sister stopped calling, I froze.") == [
        "when I lost my job",
        "when my sister stopped calling",
    ]
    assert unit_contexts("when it rains") == [], "two words are not a situation"


def add_units(services, texts: list[str], hidden: frozenset[int] = frozenset()) -> list[int]:
    """An annotation project holding `texts` as units (stored directly: how they got there is annotate's)."""
    with services.db.session() as session:
        session.add(AnnotationProject(id="p1", name="Advice forum", label_schema={}))
        session.flush()
        document = AnnotationDocument(project_id="p1", source="test", licence="CC-BY-4.0", sealed="-")
        session.add(document)
        session.flush()
        units = [
            AnnotationUnit(
                project_id="p1", document_id=document.id, position=i, start=0, end=len(t), text=t, hidden=i in hidden
            )
            for i, t in enumerate(texts)
        ]
        session.add_all(units)
        session.flush()
        return [u.id for u in units]


@pytest.fixture
def curator(services) -> str:
    return services.accounts.create(role=Role.CURATOR).id


def test_dilemmas_are_proposed_from_the_training_part_only_and_not_twice(services, shared_data) -> None:
    proposed = services.moralgraph.proposed_contexts(50).daily_dilemmas
    assert len(proposed) == 50 and all(p.text.startswith("when ") and p.detail for p in proposed)
    ids = [p.key.removeprefix("dd-") for p in proposed]
    assert all(bucket(idx, 5) != 0 for idx in ids), "a dilemma held out for evaluation was proposed"
    assert not set(ids) & evaluation_ids(shared_data) and evaluation_ids(shared_data), (
        "the test file's dilemmas stay out"
    )
    contexts = {c.text for c in services.moralgraph.contexts()}
    assert not contexts & {p.text for p in proposed}, "a context is not proposed again"
    assert services.moralgraph.proposed_contexts(50).daily_dilemmas == proposed, "the same order each time"


def test_a_curator_accepts_a_unit_s_situation_in_their_words(services, curator) -> None:
    ids = add_units(services, UNITS, hidden=frozenset({3}))
    graph = services.moralgraph
    proposed = graph.proposed_contexts().annotation
    assert [(p.key, p.text) for p in proposed] == [(f"unit-{ids[0]}-0", "when my boss ignores me in every meeting")]
    assert (
        proposed[0].detail == UNITS[0]
        and proposed[0].source_ref == f"annotation unit {ids[0]} of project 'Advice forum'"
    )
    context = graph.accept_proposal(curator, proposed[0].key, "When your manager ignores you in meetings")
    assert context.text == "when your manager ignores you in meetings" and context.source == "annotation"
    assert context.source_ref == proposed[0].source_ref
    assert context.detail == "", "a unit's text stays with its project's annotators: the context names the unit"
    with services.db.session() as session:
        assert session.get(MoralContext, context.id).proposed_by is None, "a curated context outlives its curator"
    assert graph.proposed_contexts().annotation == [proposed[0]], "its own wording is still open"
    as_proposed = graph.accept_proposal(curator, proposed[0].key)
    assert as_proposed.text == proposed[0].text and graph.proposed_contexts().annotation == []
    assert graph.accept_proposal(curator, proposed[0].key).id == as_proposed.id, "accepting again changes nothing"


def test_an_accepted_dilemma_keeps_the_dilemma_as_its_detail(services, curator) -> None:
    proposal = services.moralgraph.proposed_contexts(1).daily_dilemmas[0]
    context = services.moralgraph.accept_proposal(curator, proposal.key)
    assert (context.text, context.detail, context.source) == (proposal.text, proposal.detail, "daily_dilemmas")
    assert context.source_ref.startswith(f"DailyDilemmas idx {proposal.key.removeprefix('dd-')} ")


def test_a_dismissed_proposal_is_not_proposed_again_by_key_or_by_text(services, curator) -> None:
    graph = services.moralgraph
    first = graph.proposed_contexts(3).daily_dilemmas[0]
    assert graph.dismiss_proposal(curator, first.key) == first
    assert graph.dismiss_proposal(curator, first.key) == first, "dismissing twice is harmless"
    assert first.key not in {p.key for p in graph.proposed_contexts(50).daily_dilemmas}
    assert first.text not in graph.context_proposals(n=2000), "nor offered to people proposing a context"
    ids = add_units(services, [f"I never know what to say {first.text}.", UNITS[0]])
    assert [p.key for p in graph.proposed_contexts().annotation] == [f"unit-{ids[1]}-0"], "same text: left out"


def test_a_curator_s_dismissals_are_in_their_export_and_stay_dismissed_without_them(services) -> None:
    from valueprint.store.models import ContextDismissal

    leaving = services.accounts.create(role=Role.CURATOR).id
    first = services.moralgraph.proposed_contexts(1).daily_dilemmas[0]
    services.moralgraph.dismiss_proposal(leaving, first.key)
    exported = services.accounts.export(leaving)["moral_graph"]["contexts_dismissed"]
    assert [(d["key"], d["text"]) for d in exported] == [(first.key, first.text)]
    services.delete_participant(leaving)
    with services.db.session() as session:
        kept = session.query(ContextDismissal).one()
        assert (kept.key, kept.dismissed_by) == (first.key, None)
    assert first.key not in {p.key for p in services.moralgraph.proposed_contexts(50).daily_dilemmas}


def test_a_key_naming_nothing_is_a_404_and_a_bad_wording_a_clear_error(services, curator) -> None:
    ids = add_units(services, UNITS, hidden=frozenset({0}))
    for key in ("dd-999999999", f"unit-{ids[0]}-0", f"unit-{ids[1]}-0", "unit-x-0", "../etc"):
        with pytest.raises(NotFoundError, match="no proposed context"):
            graph_call = services.moralgraph.accept_proposal
            graph_call(curator, key)
    key = services.moralgraph.proposed_contexts(1).daily_dilemmas[0].key
    with pytest.raises(CardError, match="at least 8"):
        services.moralgraph.accept_proposal(curator, key, "x")
    assert key in {p.key for p in services.moralgraph.proposed_contexts(1).daily_dilemmas}, "nothing was lost"


# -- over HTTP ------------------------------------------------------------------------------------


def signed_in(web_app, account) -> TestClient:
    browser = TestClient(web_app)
    response = browser.post("/v1/session", json={"resume_code": account.resume_code})
    assert response.status_code == 200, response.text
    browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return browser


@pytest.fixture
def curator_client(web_app, services) -> Iterator[TestClient]:
    with signed_in(web_app, services.accounts.create(role=Role.CURATOR)) as browser:
        yield browser


def test_curators_list_accept_and_dismiss_proposals_over_the_api(curator_client, services) -> None:
    ids = add_units(services, UNITS)
    listed = curator_client.get("/v1/moralgraph/proposals?per_source=2").json()
    assert len(listed["daily_dilemmas"]) == 2
    assert [p["key"] for p in listed["annotation"]] == [f"unit-{ids[3]}-0", f"unit-{ids[0]}-0"], "newest first"
    accepted = curator_client.post(f"/v1/moralgraph/proposals/unit-{ids[0]}-0/accept", json={})
    assert accepted.status_code == 201 and accepted.json()["text"] == "when my boss ignores me in every meeting"
    dismissed = curator_client.post(f"/v1/moralgraph/proposals/{listed['daily_dilemmas'][0]['key']}/dismiss")
    assert dismissed.status_code == 200 and dismissed.json() == listed["daily_dilemmas"][0]
    again = curator_client.get("/v1/moralgraph/proposals?per_source=2").json()
    assert listed["daily_dilemmas"][0] not in again["daily_dilemmas"]
    assert [p["key"] for p in again["annotation"]] == [f"unit-{ids[3]}-0"]
    bad = curator_client.post(f"/v1/moralgraph/proposals/unit-{ids[3]}-0/accept", json={"text": "x"})
    assert bad.status_code == 422 and "at least 8" in bad.text
    assert curator_client.post("/v1/moralgraph/proposals/dd-nope/dismiss").status_code == 404


def test_proposals_are_for_curators_only(participant_client, client) -> None:
    assert 'href="/moralgraph/proposals"' not in participant_client.get("/moralgraph").text
    assert participant_client.get("/v1/moralgraph/proposals").status_code == 403
    assert participant_client.post("/v1/moralgraph/proposals/dd-55/dismiss").status_code == 403
    assert participant_client.get("/moralgraph/proposals").status_code == 403
    assert client.get("/v1/moralgraph/proposals").status_code == 403  # a visitor has no role either


def test_the_proposals_page_accepts_a_reworded_context_and_keeps_a_mistake(curator_client, services) -> None:
    ids = add_units(services, UNITS)
    assert 'href="/moralgraph/proposals"' in curator_client.get("/moralgraph").text
    page = curator_client.get("/moralgraph/proposals")
    assert page.status_code == 200 and "when my boss ignores me in every meeting" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    key = f"unit-{ids[0]}-0"
    wrong = curator_client.post(f"/moralgraph/proposals/{key}/accept", data={"csrf_token": token, "text": "no"})
    assert wrong.status_code == 422 and 'value="no"' in wrong.text and "at least 8" in wrong.text
    done = curator_client.post(
        f"/moralgraph/proposals/{key}/accept",
        data={"csrf_token": token, "text": "when a manager ignores you"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "is now a context" in done.text
    assert "when a manager ignores you" in {c.text for c in services.moralgraph.contexts()}
    gone = curator_client.post(
        f"/moralgraph/proposals/unit-{ids[3]}-0/dismiss", data={"csrf_token": token}, follow_redirects=False
    )
    assert gone.status_code == 303
    after = curator_client.get(gone.headers["location"]).text
    assert "it will not be proposed again" in after and f'id="proposal-unit-{ids[3]}-0"' not in after
