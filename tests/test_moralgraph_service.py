"""The moral graph's service: contexts, cards and their merges, pairs to judge, votes, the graph, the export,
"did this represent you?" and a person's deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.moralgraph_factories import (
    ADVICE,
    GRIEF,
    GRIEF_AGAIN,
    four_values,
    grief_context,
    judge_all,
    person,
    stories_upward,
    words,
)
from valueprint.errors import BadRequestError, CardError, ForbiddenError, NotFoundError
from valueprint.evaluate.datasets import bucket
from valueprint.moralgraph.aggregate import Parameters, Vote, aggregate
from valueprint.store.models import CanonicalCard, MoralContext, ValuesCard, WiserVote


@pytest.fixture
def graph(services):
    services.moralgraph.embedder = words
    return services.moralgraph


# -- contexts ----------------------------------------------------------------------------------


def test_a_new_server_has_curated_contexts_from_the_training_part_of_daily_dilemmas(graph) -> None:
    contexts = graph.contexts()
    assert "when someone asks for advice on leaving a religion" in {c.text for c in contexts}
    dilemmas = [c for c in contexts if c.source == "daily_dilemmas"]
    assert len(dilemmas) == 20 and all(c.text.startswith("when ") and c.detail for c in dilemmas)
    ids = [c.source_ref.split()[2] for c in dilemmas]
    assert all(bucket(idx, 5) != 0 for idx in ids), "a held-out dilemma became a context"
    assert graph.seed() == 0, "seeding again adds nothing"


def test_a_person_proposes_a_context_in_their_words(graph, services) -> None:
    who = person(services)
    proposed = graph.propose_context(who, "  My friend asks me to lie for her.")
    assert proposed.text == "when my friend asks me to lie for her" and proposed.source == "participant"
    assert graph.propose_context(who, "When my friend asks me to lie for her").id == proposed.id
    with pytest.raises(CardError, match="at least 8"):
        graph.propose_context(who, "lie")
    assert all(not p.startswith("when someone is grieving") for p in graph.context_proposals())


# -- cards and their merges -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        (GRIEF[:2], "3 to 7 attentional policies"),
        ([*GRIEF, *ADVICE, "ONE more thing to see", "EIGHT things at once"], "this one has 8"),
        ([GRIEF[0], GRIEF[0], GRIEF[1]], "policies 1 and 2 are the same"),
        ([GRIEF[0], "short", GRIEF[1]], "attentional policy 2 needs at least 8"),
        ("MOMENTS when", "must be a list"),
    ],
)
def test_a_card_breaking_a_rule_is_refused_naming_it(graph, services, policies, message) -> None:
    with pytest.raises(CardError, match=message):
        graph.create_card(person(services), grief_context(services), "Being there", "Staying close.", policies)


def test_a_card_without_a_title_or_in_an_unknown_context_is_refused(graph, services) -> None:
    with pytest.raises(CardError, match="the title needs at least 3"):
        graph.create_card(person(services), grief_context(services), " ", "Staying close.", GRIEF)
    with pytest.raises(NotFoundError):
        graph.create_card(person(services), 10**6, "Being there", "Staying close.", GRIEF)


def test_empty_policy_fields_are_unused_rows_not_policies(graph, services) -> None:
    card = graph.create_card(person(services), grief_context(services), "Being there", "Close.", [*GRIEF, "", "  "])
    assert card.policies == GRIEF


def test_a_near_duplicate_merges_visibly_and_its_author_can_keep_it_apart(graph, services) -> None:
    context = grief_context(services)
    first = graph.create_card(person(services), context, "Being there", "Staying close to them.", GRIEF)
    author = person(services)
    second = graph.create_card(author, context, "Presence", "Staying close to them.", GRIEF_AGAIN)
    assert second.canonical.id == first.canonical.id and second.merged_with_others
    assert second.canonical.title == "Being there", "a canonical card shows its first member's words"
    assert [(m.method, m.similarity is not None) for m in second.history] == [("embedding", True)]
    other = graph.create_card(person(services), context, "Practical advice", "Helping them on.", ADVICE)
    assert other.canonical.id != first.canonical.id and [m.method for m in other.history] == ["new"]
    with pytest.raises(ForbiddenError):
        graph.split_card(person(services), second.id)
    apart = graph.split_card(author, second.id)
    assert apart.canonical.id not in (first.canonical.id, other.canonical.id)
    assert apart.canonical.title == "Presence" and [m.method for m in apart.history] == ["embedding", "split"]
    with pytest.raises(CardError, match="already on its own"):
        graph.split_card(author, second.id)
    back = graph.merge_card(author, second.id, first.canonical.id)
    assert back.canonical.id == first.canonical.id and back.history[-1].method == "merge"
    with services.db.session() as session:
        assert session.get(CanonicalCard, apart.canonical.id) is None, "a canonical card with no member is gone"


def test_a_card_merges_only_within_its_context(graph, services) -> None:
    author = person(services)
    card = graph.create_card(author, grief_context(services), "Being there", "Staying close.", GRIEF)
    elsewhere = graph.propose_context(author, "when a neighbour loses their job")
    there = graph.create_card(author, elsewhere.id, "Being there", "Staying close.", GRIEF)
    assert there.canonical.id != card.canonical.id, "the same words in another context are another node"
    with pytest.raises(CardError, match="same context"):
        graph.merge_card(author, card.id, there.canonical.id)


def test_similar_policies_are_suggested_from_other_peoples_cards(graph, services) -> None:
    context = grief_context(services)
    four_values(services, context)
    found = graph.policy_suggestions(context, "times they want to talk about who they lost")
    assert found[0].text == GRIEF[0] and found[0].value == "Being there"
    with pytest.raises(CardError):
        graph.policy_suggestions(context, "x")


# -- transitions, votes and the graph ----------------------------------------------------------


def test_a_person_judges_every_pair_once_and_then_is_told_there_are_none(graph, services) -> None:
    context = grief_context(services)
    values = list(four_values(services, context).values())
    who = person(services)
    seen = set()
    while (shown := graph.next_transition(who, context)) is not None:
        pair = tuple(sorted((shown.from_value.id, shown.to_value.id)))
        assert pair not in seen and shown.remaining == 6 - len(seen)
        seen.add(pair)
        assert graph.vote(who, shown.id, "not_sure", "  I cannot tell.  ").judged == len(seen)
    assert len(seen) == 6 and {v for pair in seen for v in pair} == set(values)


def test_a_second_answer_on_a_pair_replaces_the_first_either_way_round(graph, services) -> None:
    context = grief_context(services)
    ids = four_values(services, context)
    who = person(services)
    there = graph.propose_transition(
        who, ids["Practical advice"], ids["Being there"], "She stopped giving advice. " * 2
    )
    back = graph.propose_transition(who, ids["Being there"], ids["Practical advice"], "He learnt to act at last. " * 2)
    assert not graph.vote(who, there.id, "yes").replaced
    again = graph.vote(who, back.id, "no", "changed my mind")
    assert again.replaced and again.judged == 1
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(WiserVote).where(WiserVote.participant_id == who)) == 1
    with pytest.raises(CardError, match="yes, no, not_sure"):
        graph.vote(who, there.id, "maybe")
    with pytest.raises(CardError, match="at most 1000"):
        graph.vote(who, there.id, "yes", "x" * 1001)


def earn_karma(services, who: str, delta: float) -> None:
    from valueprint.annotate import karma

    with services.db.session() as session:
        karma.add(session, who, "gold_agree", delta, "agreed with a known answer", None, None)


def test_a_vote_weighs_by_the_voters_annotation_karma_when_cast(graph, services) -> None:
    context = grief_context(services)
    ids = four_values(services, context)
    shown = graph.propose_transition(person(services), ids["Practical advice"], ids["Being there"], "A story. " * 3)
    fresh, halfway, established = person(services), person(services), person(services)
    earn_karma(services, halfway, 3.0)  # 0.1 + 0.9 · 3/6
    earn_karma(services, established, 4.0)
    earn_karma(services, established, 5.0)  # 9 karma: past FULL_KARMA (6), so 1
    assert [graph.vote(p, shown.id, "yes").weight for p in (fresh, halfway, established)] == [0.1, 0.55, 1.0]
    with services.db.session() as session:
        stored = dict(session.execute(select(WiserVote.participant_id, WiserVote.weight)).all())
    assert stored == {fresh: 0.1, halfway: 0.55, established: 1.0}
    e = next(e for e in graph.graph(context).edges if e.from_id == ids["Practical advice"] and e.endorse)
    # three people judged the pair (enough), together weighing 1.65: ℓ = (1.65 + 1) / (1.65 + 2)
    assert e.voters == 3 and e.votes == pytest.approx(1.65) and e.likelihood == pytest.approx(2.65 / 3.65)
    assert e.status == "kept"
    exported = next(c for c in graph.export()["contexts"] if c["id"] == context)
    assert sorted(v["weight"] for v in exported["votes"]) == [0.1, 0.55, 1.0]
    assert all(set(v) == {"from_id", "to_id", "answer", "weight"} for v in exported["votes"])  # no voter
    earn_karma(services, fresh, 6.0)  # a vote weighs what its voter's karma was when they cast it ...
    assert (
        next(c for c in graph.export()["contexts"] if c["id"] == context)["votes_digest"] == (exported["votes_digest"])
    )
    assert graph.vote(fresh, shown.id, "yes").weight == 1.0  # ... until they vote on the pair again


def test_stories_are_shown_with_the_transition_and_pick_its_direction(graph, services) -> None:
    context = grief_context(services)
    ids = four_values(services, context)
    writer = person(services)
    story = "I used to hand out advice. Then I sat with my friend and listened, and it helped her more."
    graph.propose_transition(writer, ids["Practical advice"], ids["Being there"], story)
    with pytest.raises(CardError, match="at least 20"):
        graph.propose_transition(writer, ids["Practical advice"], ids["Being there"], "too short")
    # Each fresh person is shown one of the 6 pairs, by a hash of their random id: 60 people miss the pair
    # with the story with probability (5/6)^60 < 2e-5 (12 missed it one run in nine).
    shown = [graph.next_transition(person(services), context) for _ in range(60)]
    with_story = [t for t in shown if t.story is not None]
    assert with_story and all(t.from_value.id == ids["Practical advice"] for t in with_story)
    assert with_story[0].story.text == story and with_story[0].story.origin == "person"
    with pytest.raises(BadRequestError, match="no upstream model"):
        graph.draft_story(with_story[0].id)


def test_the_crowd_s_ordering_wins_and_the_graph_is_reproducible_from_the_export(graph, services) -> None:
    context = grief_context(services)
    ids = four_values(services, context)
    order = [ids["Practical advice"], ids["Honouring the rites"], ids["Shared laughter"], ids["Being there"]]
    stories_upward(services, order)
    for _ in range(4):
        assert judge_all(services, person(services), context, order) == 6
    view = graph.graph(context)
    assert view.winner.title == "Being there" and view.values[0].id == ids["Being there"]
    assert view.votes == 24 and sum(e.kept for e in view.edges) == 6
    exported = next(c for c in graph.export()["contexts"] if c["id"] == context)
    again = aggregate(
        [v["id"] for v in exported["values"]],
        [Vote(**v) for v in exported["votes"]],
        Parameters(**graph.export()["parameters"]),
    )
    assert again.winner == exported["winner"] == ids["Being there"]
    assert again.votes_digest == exported["votes_digest"] == view.votes_digest
    assert {str(k): round(r, 6) for k, r in again.rank.items()} == {str(v["id"]): v["rank"] for v in exported["values"]}
    assert "participant_id" not in str(exported) and "why" not in str(exported)
    listed = next(c for c in graph.contexts() if c.id == context)
    assert listed.winner.title == "Being there" and listed.votes == 24 and listed.values == 4


def test_did_this_represent_you_is_asked_only_once_there_is_a_winner(graph, services) -> None:
    context = grief_context(services)
    ids = four_values(services, context)
    who = person(services)
    with pytest.raises(CardError, match="no winning value yet"):
        graph.represent(who, context, "yes")
    order = [ids["Practical advice"], ids["Honouring the rites"], ids["Shared laughter"], ids["Being there"]]
    stories_upward(services, order)
    for _ in range(3):
        judge_all(services, person(services), context, order)
    assert graph.represent(who, context, "no", "I grieve alone").winner == "Being there"
    graph.represent(who, context, "yes")  # the latest answer counts
    graph.represent(person(services), context, "partly")
    summary = graph.representation()
    assert (summary.answered, summary.yes, summary.partly, summary.share_yes) == (2, 1, 1, 0.5)
    assert summary.share_yes_or_partly == 1.0
    with pytest.raises(CardError):
        graph.represent(who, context, "maybe")


# -- deletion ----------------------------------------------------------------------------------


def test_deleting_a_person_removes_their_cards_and_votes_and_re_seats_canonical_cards(graph, services) -> None:
    context = grief_context(services)
    leaving = person(services)
    theirs = graph.create_card(leaving, context, "Being there", "Staying close to them.", GRIEF)
    staying_author = person(services)
    staying = graph.create_card(staying_author, context, "Presence", "Staying close to them.", GRIEF_AGAIN)
    alone = graph.create_card(leaving, context, "Practical advice", "Helping them on.", ADVICE)
    proposed = graph.propose_context(leaving, "when nobody came to the funeral")
    kept = graph.propose_context(leaving, "when a pet dies")
    graph.create_card(person(services), kept.id, "Being there", "Staying close.", GRIEF)
    voter = person(services)
    shown = graph.propose_transition(leaving, alone.canonical.id, theirs.canonical.id, "A long enough story here.")
    graph.vote(leaving, shown.id, "yes")
    graph.vote(voter, shown.id, "yes")
    services.delete_participant(leaving)
    with services.db.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(ValuesCard).where(ValuesCard.participant_id == leaving))
            == 0
        )
        assert (
            session.scalar(select(func.count()).select_from(WiserVote).where(WiserVote.participant_id == leaving)) == 0
        )
        reseated = session.get(CanonicalCard, theirs.canonical.id)
        assert (reseated.title, reseated.policies) == ("Presence", GRIEF_AGAIN), "the words left with their author"
        assert session.get(CanonicalCard, alone.canonical.id) is None
        assert session.scalar(select(func.count()).select_from(WiserVote)) == 0, "a vote on a card that is gone"
        assert session.get(MoralContext, proposed.id) is None
        assert session.get(MoralContext, kept.id).proposed_by is None
    assert graph.my_cards(leaving) == [] and [c.id for c in graph.my_cards(staying_author)] == [staying.id]
