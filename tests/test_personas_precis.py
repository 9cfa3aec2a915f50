"""Exemplar personas and the précis."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from valueprint.errors import CatalogueError
from valueprint.values.answers import Answers
from valueprint.values.catalogue import read_package_toml
from valueprint.values.guidance import build_guidance, load_guidance
from valueprint.values.personas import load_personas, nearest_persona
from valueprint.values.precis import MAX_WORDS, SAFETY_LINE, above_all, precis, word_count
from valueprint.values.profile import ValueProfile


@pytest.fixture(scope="module")
def personas():
    return load_personas()


def high(space, dim: str) -> str:
    return load_guidance(space).of(dim).high


def low(space, dim: str) -> str:
    return load_guidance(space).of(dim).low


def says(text: str, sentence: str) -> bool:
    """Whether the précis gives this instruction (perhaps led by "Above all,")."""
    return sentence in text or above_all(sentence) in text


def test_at_least_eight_personas_spread_across_the_space(personas, space):
    assert len(personas) >= 8
    names = " ".join(p.id for p in personas)
    for expected in ("traditionalist", "libertarian", "progressive", "retiree"):
        assert expected in names
    for a, b in itertools.combinations(personas, 2):
        va, vb = a.array(space), b.array(space)
        assert va @ vb / np.linalg.norm(va) / np.linalg.norm(vb) <= 0.8, (a.id, b.id)
    for persona in personas:
        assert 40 <= len(persona.summary.split()) <= 110


def test_each_persona_is_its_own_nearest_persona(personas, space):
    for persona in personas:
        assert nearest_persona(persona.as_profile(space), space)[0].id == persona.id


def test_precis_fits_120_words_for_every_persona_with_every_boundary(personas, space):
    all_boundaries = tuple(b.id for b in space.boundaries)
    for persona in personas:
        profile = persona.as_profile(space).model_copy(update={"boundaries": all_boundaries})
        text = precis(profile, space)
        assert word_count(text) <= MAX_WORDS, persona.id
        assert "Safety comes first" in text


def test_precis_is_deterministic_and_states_values_and_behaviour(personas, space):
    profile = next(p for p in personas if p.id == "libertarian-entrepreneur").as_profile(space)
    text = precis(profile, space)
    assert text == precis(ValueProfile.from_json(profile.to_json()), space)
    assert says(text, high(space, "economic"))  # a value (the strongest: led by "Above all")
    assert text.startswith("Above all, on economic questions")
    assert says(text, high(space, "directness"))  # and a manner of answering


def test_guidance_covers_every_dimension_with_both_poles_in_the_persons_voice(space):
    guidance = load_guidance(space)
    assert set(guidance.dimension) == set(space.ids)
    for dim in space.ids:
        for text in (guidance.of(dim).high, guidance.of(dim).low):
            words = set(re.findall(r"[a-z']+", text.lower()))
            assert words & {"me", "my", "i", "i'm", "mine"}, (dim, text)  # the person speaking
            assert text.endswith(".") and text[0].isupper(), (dim, text)
            assert word_count(text) <= 25, (dim, text)
        assert guidance.of(dim).high != guidance.of(dim).low


def test_guidance_missing_a_pole_or_a_dimension_is_refused(space):
    raw = read_package_toml("guidance.toml")
    without_low = {**raw, "dimension": {**raw["dimension"], "tradition": {"high": "Respect my faith."}}}
    with pytest.raises(CatalogueError, match=r"guidance\.toml"):
        build_guidance(without_low, space)
    without_dim = {**raw, "dimension": {k: v for k, v in raw["dimension"].items() if k != "humour"}}
    with pytest.raises(CatalogueError, match="humour"):
        build_guidance(without_dim, space)


def test_every_persona_precis_reads_as_instructions_in_the_persons_voice(personas, space):
    for persona in personas:
        text = precis(persona.as_profile(space), space)
        words = re.findall(r"[a-z']+", text.lower())
        assert {"me", "my"} & set(words), persona.id
        assert "someone who" not in text and "About me:" not in text, persona.id
        assert text.endswith(SAFETY_LINE)
        assert text.count("Above all") <= 1


def test_above_all_reads_naturally():
    assert above_all("Respect my faith.") == "Above all, respect my faith."
    assert above_all("I value order.") == "Above all, I value order."
    assert above_all("I'm careful.") == "Above all, I'm careful."


def test_the_strongest_instruction_comes_first(space):
    means, sds = np.zeros(space.size), np.full(space.size, 0.2)
    means[space.index("benevolence")] = 0.9
    means[space.index("tradition")] = -0.5
    means[space.index("directness")] = 0.7
    text = precis(ValueProfile.from_arrays(space, means, sds), space)
    assert text.startswith("Above all, when you advise me, weigh what a choice means for my family")
    assert text.index("Be blunt") < text.index(low(space, "tradition"))


def test_precis_mentions_only_confident_dimensions(space):
    means = np.zeros(space.size)
    sds = np.full(space.size, 0.45)
    means[space.index("tradition")], sds[space.index("tradition")] = 0.9, 0.1
    means[space.index("humour")], sds[space.index("humour")] = 0.9, 0.45  # strong but unsure
    text = precis(ValueProfile.from_arrays(space, means, sds), space)
    assert says(text, high(space, "tradition"))
    assert not says(text, high(space, "humour"))


def test_precis_of_an_unanswered_profile_is_neutral_and_keeps_boundaries(model, space):
    answers = Answers(boundaries=["no-religion"])
    text = precis(model.profile(answers), space)
    assert "not stated my values" in text
    assert space.boundary("no-religion").text in text


def test_a_boundary_silences_the_dimension_it_contradicts(space):
    means, sds = np.zeros(space.size), np.full(space.size, 0.2)
    means[space.index("profanity_tolerance")] = 0.8
    profile = ValueProfile.from_arrays(space, means, sds, boundaries=("no-profanity",))
    text = precis(profile, space)
    assert not says(text, high(space, "profanity_tolerance"))
    assert "Never use profanity." in text


def test_a_weak_signal_within_one_sd_is_not_stated(space):
    means, sds = np.zeros(space.size), np.full(space.size, 0.3)
    means[space.index("formality")] = 0.28  # within one SD of zero
    means[space.index("humour")] = 0.45
    text = precis(ValueProfile.from_arrays(space, means, sds), space)
    assert not says(text, high(space, "formality"))
    assert says(text, high(space, "humour"))


def test_persona_fit_is_told_in_words_not_as_a_distance():
    from valueprint.values.personas import match_words

    assert match_words(0.1) == "a close match"
    assert match_words(0.3) == "a partial match"
    assert match_words(0.6).startswith("a loose match")
