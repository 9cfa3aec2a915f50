"""Personalisation strategies: précis, rerank and steering, on the real local model."""

from __future__ import annotations

import numpy as np
import pytest

from valueprint.errors import EvaluatorError, StrategyError
from valueprint.personalize import steering
from valueprint.personalize.engine import Engine
from valueprint.personalize.runtime import LocalModel, Sampling
from valueprint.personalize.strategies import Context, Rerank, parse_strategies
from valueprint.values.profile import ValueProfile

QUESTION = [{"role": "user", "content": "What should I do this weekend?"}]


@pytest.fixture(scope="module")
def local(smollm2_dir) -> LocalModel:
    return LocalModel(smollm2_dir, "smollm2-135m-instruct")


def committed_profile(space, **means: float) -> ValueProfile:
    mean = np.zeros(space.size)
    for dim, value in means.items():
        mean[space.index(dim)] = value
    return ValueProfile.from_arrays(space, mean, np.full(space.size, 0.1))


def test_strategies_parse_by_name_in_a_fixed_order(space) -> None:
    assert [s.name for s in parse_strategies("rerank+precis")] == ["precis", "rerank"]
    assert [s.name for s in parse_strategies(["steer", "precis", "precis"])] == ["precis", "steer"]
    assert [s.name for s in parse_strategies("rerank+adapter+precis")] == ["precis", "adapter", "rerank"]
    assert [s.name for s in parse_strategies("rerank+guide+precis")] == ["precis", "guide", "rerank"]
    assert parse_strategies(None) == []
    with pytest.raises(StrategyError, match="combine it with precis"):
        parse_strategies("guide")
    with pytest.raises(StrategyError, match="choose from precis, frame, steer, adapter, guide, rerank"):
        parse_strategies("precis+telepathy")


def test_rerank_returns_the_candidate_the_judge_ranks_first_for_this_person(space) -> None:
    from valueprint.judge.judge import PersonalJudge

    judge = PersonalJudge()
    target = committed_profile(space, benevolence=0.9, power=-0.8)
    context = Context(profile=target, space=space, judge=judge.rank)
    replies = [
        "Take the promotion and use the extra authority to make the team do things your way.",
        "Family benevolence kindness power family kindness benevolence care family power",
        "Turn the promotion down if it means leaving your colleagues in the lurch; they rely on you.",
    ]
    assert Rerank().choose("Should I take the promotion?", replies, context) == 2
    assert len(context.notes["rerank_scores"]) == 3 and context.notes["rerank_because"]


def test_precis_leads_the_system_prompt_and_keeps_the_apps_own(space, local) -> None:
    engine = Engine(space, model=local)
    context = engine.context(committed_profile(space, tradition=0.9))
    messages = [{"role": "system", "content": "You are Ada."}, *QUESTION]
    (precis,) = parse_strategies("precis")
    prepared = precis.prepare(messages, context)
    assert prepared[0]["role"] == "system" and prepared[0]["content"].endswith("You are Ada.")
    assert context.notes["precis"] and prepared[0]["content"].startswith(context.notes["precis"])
    assert [m["role"] for m in prepared] == ["system", "user"]


def test_steering_needs_the_local_model_and_changes_what_it_says(space, local, tmp_path) -> None:
    trained = steering.train(local, space, layers=(11, 12))
    trained.save(tmp_path / "steer")
    loaded = steering.SteeringSet.load(tmp_path / "steer", space, local.name)
    assert set(loaded.vectors) == set(space.ids) and set(loaded.vectors["humour"]) == {11, 12}
    profile = committed_profile(space, humour=1.0, stimulation=1.0)
    plain = local.generate(QUESTION, Sampling(max_new_tokens=24))[0].text
    steered = local.generate(QUESTION, Sampling(max_new_tokens=24), hook=loaded.hook(local, profile, 2.0))[0].text
    assert steered != plain
    assert local.generate(QUESTION, Sampling(max_new_tokens=24))[0].text == plain, "the hook is removed afterwards"
    with pytest.raises(EvaluatorError, match="another model"):
        steering.SteeringSet.load(tmp_path / "steer", space, "some-other-model")


def test_a_strong_many_sided_profile_is_capped_at_one_unit_of_steering(space) -> None:
    vectors = {d: {11: np.eye(space.size)[i]} for i, d in enumerate(space.ids)}
    steer = steering.SteeringSet(vectors, {})
    everything = ValueProfile.from_arrays(space, np.ones(space.size), np.zeros(space.size))
    assert np.linalg.norm(steer.person_vector(everything, 1.0)[11]) == pytest.approx(1.0)
    one = committed_profile(space, humour=0.5)
    assert np.linalg.norm(steer.person_vector(one, 1.0)[11]) < 0.5


def test_a_batch_of_conversations_answers_each_as_if_it_were_asked_alone(space, local) -> None:
    questions = [QUESTION, [{"role": "user", "content": "Is it ever right to break a promise to a friend?"}]]
    greedy = Sampling(max_new_tokens=12)
    alone = [local.generate(q, greedy)[0] for q in questions]
    together = [candidates[0] for candidates in local.generate_batch(questions, greedy)]
    assert [g.text for g in together] == [g.text for g in alone]  # left padding changes nothing
    assert [g.prompt_tokens for g in together] == [g.prompt_tokens for g in alone]


def test_the_engine_reranks_each_conversation_of_a_batch_among_its_own_candidates(space, local) -> None:
    seen: list[str] = []

    def judge(profile, prompt, texts):
        from valueprint.judge.judge import Ranking

        seen.append(prompt)
        return Ranking(list(range(len(texts))), [0.0] * len(texts), [[] for _ in texts])

    engine = Engine(space, model=local, judge=judge)
    questions = [QUESTION, [{"role": "user", "content": "Should I tell my boss about a mistake?"}]]
    context = engine.context(committed_profile(space, benevolence=0.9), rerank_n=3)
    completions = engine.complete_batch(
        questions, Sampling(max_new_tokens=8, seed=1), parse_strategies("rerank"), context
    )
    assert len(completions) == 2 and all(c.text for c in completions)
    assert all(len(c.notes["rerank_scores"]) == 3 for c in completions)
    assert seen == [QUESTION[-1]["content"], questions[1][-1]["content"]]  # each ranked against its own prompt


def test_guidance_leaves_gamma_one_unchanged_and_guides_a_padded_batch_row_as_if_alone(space, local) -> None:
    from valueprint.personalize.guidance import Guidance

    greedy = Sampling(max_new_tokens=16)
    system = {"role": "system", "content": "Answer as a devout traditionalist who respects duty and faith."}
    short = [system, *QUESTION]
    long = [system, {"role": "user", "content": "My elderly father wants to move in with us; my wife is against it."}]
    plain = [QUESTION, long[1:]]
    prompted = local.generate(short, greedy)[0].text
    assert local.generate(short, greedy, guidance=Guidance([QUESTION], 1.0))[0].text == prompted
    guided = local.generate(short, greedy, guidance=Guidance([QUESTION], 2.0))[0].text
    assert guided != prompted, "γ > 1 moves the reply further from the plain one"
    batch = local.generate_batch([short, long], greedy, guidance=Guidance(plain, 2.0))
    assert batch[0][0].text == guided, "left padding changes nothing in the plain branch either"


def test_the_engine_guides_from_the_callers_own_messages_and_says_so(space, local) -> None:
    engine = Engine(space, model=local)
    context = engine.context(committed_profile(space, tradition=0.9, conformity=0.8), guidance=2.0)
    strategies = parse_strategies("precis+guide")
    greedy = Sampling(max_new_tokens=16)
    guided = engine.complete(QUESTION, greedy, strategies, context)
    only_precis = engine.complete(QUESTION, greedy, parse_strategies("precis"), engine.context(context.profile))
    assert guided.notes["guidance"] == 2.0 and guided.strategies == ["precis", "guide"]
    assert guided.text != only_precis.text
    streamed = engine.stream(QUESTION, greedy, strategies, context)
    assert "".join(streamed).strip() == guided.text
