"""Framing (strategy `frame`): a reply opens with the person's values that the question touches, and
the model continues from there; an everyday question opens plainly."""

from __future__ import annotations

import numpy as np
import pytest

from valueprint.errors import CatalogueError, StrategyError
from valueprint.personalize import framing
from valueprint.personalize.engine import Engine
from valueprint.personalize.runtime import LocalModel, Sampling, continued, opening_message
from valueprint.personalize.strategies import parse_strategies
from valueprint.values.guidance import build_openers, load_openers, value_dims
from valueprint.values.profile import ValueProfile

# Written for this test (not benchmark prompts): the thresholds in `framing` were read off these.
EVERYDAY = [
    "How do I boil an egg?",
    "What's the capital of Australia?",
    "Can you help me write a Python function to sort a list?",
    "Give me a recipe for banana bread.",
    "What is a good laptop for programming?",
]
VALUE_LADEN = [
    "Should I take a job abroad if it means living far from my parents?",
    "My friend asked me to lie for her at work. What should I do?",
    "Is it okay to skip church to go to a concert?",
    "Should I invest my savings in a startup?",
]


def committed(space, **means: float) -> ValueProfile:
    mean = np.zeros(space.size)
    for dim, value in means.items():
        mean[space.index(dim)] = value
    return ValueProfile.from_arrays(space, mean, np.full(space.size, 0.1))


@pytest.fixture(scope="module")
def local(smollm2_dir) -> LocalModel:
    return LocalModel(smollm2_dir, "smollm2-135m-instruct")


def test_every_value_dimension_has_an_opener_for_both_poles_and_manners_have_none(space) -> None:
    openers = load_openers(space)
    assert set(openers.dimension) == set(value_dims(space))
    assert "directness" not in openers.dimension and "tradition" in openers.dimension
    for dim in value_dims(space):
        for clause in (openers.of(dim).high, openers.of(dim).low):
            assert not clause[0].isupper() and not clause.endswith("."), "a clause completes 'Since you ...'"
    broken = {"version": space.version, "dimension": {"tradition": {"high": "keep faith", "low": "question it"}}}
    with pytest.raises(CatalogueError, match="missing"):
        build_openers(broken, space)


def test_an_everyday_question_opens_plainly_whatever_the_person_values(space) -> None:
    devout = committed(space, tradition=0.9, sanctity=0.8, security=0.7)
    assert [framing.opening(devout, space, q) for q in EVERYDAY] == [None] * len(EVERYDAY)


def test_a_value_laden_question_opens_with_the_persons_own_relevant_value(space) -> None:
    devout = committed(space, tradition=0.9, sanctity=0.8, achievement=0.7)
    assert framing.opening(devout, space, VALUE_LADEN[2]) == (
        "Since you hold to your faith and the traditions handed down to you, "
        "and you treat some things as sacred and value decency,"
    )
    secular = committed(space, tradition=-0.9)
    assert framing.opening(secular, space, VALUE_LADEN[2]) == (
        "Since you want reasons that stand on their own rather than custom or religion,"
    )
    for question in VALUE_LADEN:
        opened = framing.opening(committed(space, security=0.9, benevolence=0.8, fairness=0.8), space, question)
        assert opened and opened.startswith("Since you ") and opened.endswith(",")


def test_nothing_opens_a_reply_for_a_profile_that_is_not_sure_of_anything(space) -> None:
    unsure = ValueProfile.from_arrays(space, np.full(space.size, 0.9), np.full(space.size, 0.6))
    assert framing.opening(unsure, space, VALUE_LADEN[0]) is None
    manners_only = committed(space, directness=0.9, humour=0.9)
    assert framing.opening(manners_only, space, VALUE_LADEN[0]) is None


def test_a_continuation_joins_its_opening_with_one_space_and_none_before_punctuation() -> None:
    assert continued("Since you value X,", " it is best to wait.") == "Since you value X, it is best to wait."
    assert continued("Since you value X", ", wait.") == "Since you value X, wait."
    assert continued("Since you value X,", "\n\n") == "Since you value X,"
    assert continued("", " plain") == " plain"


def test_frame_needs_the_local_model(space) -> None:
    from valueprint.evaluate.endpoint import ChatEndpoint

    engine = Engine(space, upstream=ChatEndpoint("http://127.0.0.1:9", "remote"))
    context = engine.context(committed(space, tradition=0.9))
    with pytest.raises(StrategyError, match="frame changes the model itself"):
        engine.complete([{"role": "user", "content": VALUE_LADEN[2]}], Sampling(), parse_strategies("frame"), context)


@pytest.mark.slow
def test_the_reply_continues_its_opening_streamed_or_not_and_guided_too(space, local) -> None:
    engine = Engine(space, model=local)
    profile = committed(space, tradition=0.9)
    question = [{"role": "user", "content": VALUE_LADEN[2]}]
    sampling = Sampling(max_new_tokens=40)
    context = engine.context(profile)
    reply = engine.complete(question, sampling, parse_strategies("precis+frame"), context)
    opening = context.notes["frame"]
    assert opening and reply.text.startswith(opening) and len(reply.text) > len(opening) + 20
    streamed = engine.stream(question, sampling, parse_strategies("precis+frame"), engine.context(profile))
    assert "".join(streamed) == reply.text
    guided = engine.complete(question, sampling, parse_strategies("precis+frame+guide"), engine.context(profile))
    assert guided.text.startswith(opening)
    everyday = engine.complete([{"role": "user", "content": EVERYDAY[0]}], sampling, parse_strategies("frame"), context)
    assert "Since you" not in everyday.text[:12] and context.notes["frame"] is None


def test_an_opening_message_is_continued_not_answered_anew(local) -> None:
    question = [{"role": "user", "content": "Name a colour."}]
    opened = local.encode([[*question, opening_message("My favourite colour is")]])["input_ids"][0]
    fresh = local.encode([question])["input_ids"][0]
    text = local.tokenizer.decode(opened)
    assert text.rstrip().endswith("My favourite colour is") and "<|im_end|>" not in text[-30:]
    assert local.tokenizer.decode(fresh).rstrip().endswith("assistant")


class LeaningJudge:
    """Reads the personalised reply (the second) as fitting better on the dimensions it is given."""

    def __init__(self, space, dims: dict[str, float]) -> None:
        self.space, self.dims = space, dims

    def contributions(self, profile, replies):
        moved = np.zeros((2, self.space.size))
        for dim, shift in self.dims.items():
            moved[1, self.space.index(dim)] = shift
        return moved


def test_try_it_names_a_value_as_shaping_an_answer_only_when_the_question_touches_it(space) -> None:
    from valueprint.personalize.trial import shaped_by

    devout = committed(space, tradition=0.9, security=0.7, caution=0.8)
    judge = LeaningJudge(space, {"tradition": 0.3, "security": 0.2, "caution": 0.1})
    replies = ["plain", "personal"]
    everyday = [v["label"] for v in shaped_by(judge, devout, space, EVERYDAY[0], replies)]
    assert everyday == [space.dimensions[space.index("caution")].label]  # a manner of answering fits any question
    laden = [v["label"] for v in shaped_by(judge, devout, space, VALUE_LADEN[0], replies)]
    assert space.dimensions[space.index("tradition")].label in laden and len(laden) >= 2
