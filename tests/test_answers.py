"""Bad answers give an error that names the item, and never anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueprint.errors import AnswerError
from valueprint.values.answers import parse_answers


def parse(bank, space, answers, **extra):
    return parse_answers({"answers": answers, **extra}, bank, space)


def test_a_valid_answer_set_parses(bank, space):
    answers = parse(
        bank,
        space,
        {"sd-01": 4, "political-slider": {"x": -0.3, "y": 0.2}, "sc-01": "b", "tr-01": None},
        demographics={"country": "Kenya", "age_band": "25-34"},
        boundaries=["no-profanity"],
    )
    assert answers.likert == {"sd-01": 4}
    assert answers.scenario == {"sc-01": "B"}
    assert answers.slider == {"political-slider": (-0.3, 0.2)}
    assert answers.skipped == {"tr-01"}
    assert answers.demographics == {"country": "Kenya", "age_band": "25-34"}


@pytest.mark.parametrize(
    ("item", "value", "message"),
    [
        ("sd-01", 0, "between 1 and 5"),
        ("sd-01", 6, "between 1 and 5"),
        ("sd-01", 3.5, "whole number"),
        ("sd-01", "4", "integer 1-5"),
        ("sd-01", True, "integer 1-5"),
        ("sd-01", [4], "integer 1-5"),
        ("sc-01", "Z", "choose one of"),
        ("sc-01", 1, "choose one of"),
        ("political-slider", {"x": 2, "y": 0}, "in \\[-1, 1\\]"),
        ("political-slider", {"x": float("nan"), "y": 0}, "number in"),
        ("political-slider", 0.5, "slider answer must be"),
        ("no-such-item", 3, "no such item"),
    ],
)
def test_bad_answers_name_the_item(bank, space, item, value, message):
    with pytest.raises(AnswerError, match=message) as caught:
        parse(bank, space, {item: value})
    assert caught.value.item_id == item
    assert repr(item) in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected a JSON object"),
        ({"answers": [1, 2]}, "expected a JSON object"),
        ({"answers": {}, "space_version": "0.1"}, "value space"),
        ({"answers": {}, "demographics": {"shoe_size": "44"}}, "shoe_size"),
        ({"answers": {}, "demographics": {"age_band": "ancient"}}, "choose one of"),
        ({"answers": {}, "boundaries": ["no-fun"]}, "unknown boundary"),
    ],
)
def test_bad_documents_are_refused_clearly(bank, space, document, message):
    with pytest.raises(AnswerError, match=message):
        parse_answers(document, bank, space)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(item=st.sampled_from(["sd-01", "sc-01", "political-slider", "unknown"]), value=json_values)
def test_any_value_is_accepted_or_refused_with_an_answer_error(bank, space, item, value):
    try:
        parse(bank, space, {item: value})
    except AnswerError as error:
        assert error.item_id == item
