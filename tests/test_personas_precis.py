"""Exemplar personas and the précis."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from valueprint.values.answers import Answers
from valueprint.values.personas import load_personas, nearest_persona
from valueprint.values.precis import MAX_WORDS, precis, word_count
from valueprint.values.profile import ValueProfile


@pytest.fixture(scope="module")
def personas():
    return load_personas()


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
    assert "About me:" in text and "How to answer me:" in text
    assert space.dimension("economic").high in text
    assert space.dimension("directness").high in text


def test_precis_mentions_only_confident_dimensions(space):
    means = np.zeros(space.size)
    sds = np.full(space.size, 0.45)
    means[space.index("tradition")], sds[space.index("tradition")] = 0.9, 0.1
    means[space.index("humour")], sds[space.index("humour")] = 0.9, 0.45  # strong but unsure
    text = precis(ValueProfile.from_arrays(space, means, sds), space)
    assert space.dimension("tradition").high in text
    assert space.dimension("humour").high not in text


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
    assert space.dimension("profanity_tolerance").high not in text
    assert "Never use profanity." in text


def test_a_weak_signal_within_one_sd_is_not_stated(space):
    means, sds = np.zeros(space.size), np.full(space.size, 0.3)
    means[space.index("formality")] = 0.28  # within one SD of zero
    means[space.index("humour")] = 0.45
    text = precis(ValueProfile.from_arrays(space, means, sds), space)
    assert space.dimension("formality").high not in text
    assert space.dimension("humour").high in text
