"""The scoring model: invariants every profile must satisfy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueprint.errors import ProfileError
from valueprint.values.answers import Answers, record
from valueprint.values.bank import LikertItem, ScenarioItem
from valueprint.values.profile import ValueProfile
from valueprint.values.scoring import EncodedAnswers


def likert_items(bank, dim, reverse=None):
    items = [i for i in bank.items if isinstance(i, LikertItem) and i.primary == dim]
    return [i for i in items if reverse is None or i.reverse_keyed == reverse]


def answer_strategy(bank):
    """Hypothesis: a random partial answer set (any item kinds, including skips)."""

    def one(item):
        if isinstance(item, LikertItem):
            return st.integers(1, 5) | st.none()
        if isinstance(item, ScenarioItem):
            return st.sampled_from([o.key for o in item.options]) | st.none()
        return st.fixed_dictionaries({"x": st.floats(-1, 1), "y": st.floats(-1, 1)}) | st.none()

    return st.lists(st.sampled_from(bank.items), unique_by=lambda i: i.id, max_size=40).flatmap(
        lambda items: st.tuples(*[st.tuples(st.just(i.id), one(i)) for i in items])
    )


def build(bank, pairs):
    answers = Answers()
    for item_id, value in pairs:
        record(answers, bank, item_id, value)
    return answers


def test_no_answers_gives_the_prior(model):
    posterior = model.posterior(Answers())
    assert np.allclose(posterior.mean, model.prior.mean)
    assert np.allclose(posterior.cov, model.prior.cov)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_an_answer_never_raises_any_posterior_sd(model, data):
    pairs = data.draw(answer_strategy(model.bank))
    before = model.posterior(build(model.bank, pairs)).sd
    extra_item = data.draw(st.sampled_from([i for i in model.bank.items if i.id not in dict(pairs)]))
    extra = {"likert": 5, "scenario": "A", "slider": {"x": 1.0, "y": -1.0}}[extra_item.kind]
    after = model.posterior(build(model.bank, [*pairs, (extra_item.id, extra)])).sd
    assert np.all(after <= before + 1e-12)


def test_a_skip_changes_nothing(model):
    item = likert_items(model.bank, "care")[0]
    assert np.allclose(model.posterior(build(model.bank, [(item.id, None)])).mean, model.prior.mean)


@pytest.mark.parametrize("dim", ["self_direction", "tradition", "directness", "economic"])
def test_a_reverse_keyed_item_moves_its_dimension_the_other_way(model, dim):
    index = model.space.index(dim)
    forward = likert_items(model.bank, dim, reverse=False)[0]
    reverse = likert_items(model.bank, dim, reverse=True)[0]
    agree_forward = model.posterior(build(model.bank, [(forward.id, 5)])).mean[index]
    agree_reverse = model.posterior(build(model.bank, [(reverse.id, 5)])).mean[index]
    assert agree_forward > 0.05
    assert agree_reverse < -0.05


@pytest.mark.parametrize("dim", ["benevolence", "sanctity", "humour", "social"])
def test_agreeing_with_every_item_of_a_dimension_drives_it_towards_plus_one(model, dim):
    index = model.space.index(dim)
    items = likert_items(model.bank, dim)
    pairs = [(i.id, 1 if i.reverse_keyed else 5) for i in items]
    means = [model.posterior(build(model.bank, pairs[: k + 1])).mean[index] for k in range(len(pairs))]
    assert means[-1] > 0.6
    assert means[-1] > means[0]
    assert np.all(np.diff(means) > -0.02)  # keeps moving up, give or take cross-loadings


def test_choosing_a_scenario_option_moves_towards_its_profile(model):
    scenario = next(i for i in model.bank.items if isinstance(i, ScenarioItem))
    for option in scenario.options:
        mean = model.posterior(build(model.bank, [(scenario.id, option.key)])).mean
        direction = np.zeros(model.space.size)
        for dim, value in option.profile.items():
            direction[model.space.index(dim)] = value
        others = [o for o in scenario.options if o.key != option.key]
        other_mean = np.mean([model.posterior(build(model.bank, [(scenario.id, o.key)])).mean for o in others], axis=0)
        assert (mean - other_mean) @ direction > 0


def test_the_political_slider_places_the_person(model):
    mean = model.posterior(build(model.bank, [("political-slider", {"x": 0.8, "y": -0.6})])).mean
    assert mean[model.space.index("economic")] > 0.5
    assert mean[model.space.index("social")] < -0.35


def test_batched_scoring_equals_one_at_a_time(model):
    rng = np.random.default_rng(3)
    people = [
        build(
            model.bank,
            [
                (
                    i.id,
                    int(rng.integers(1, 6))
                    if i.kind == "likert"
                    else "B"
                    if i.kind == "scenario"
                    else {"x": 0.1, "y": 0.2},
                )
                for i in model.bank.items
                if rng.random() < 0.4
            ],
        )
        for _ in range(3)
    ]
    encoded = [model.encode(p) for p in people]
    batch = EncodedAnswers(
        mask=np.concatenate([e.mask for e in encoded]),
        gaussian_y=np.concatenate([e.gaussian_y for e in encoded]),
        choice=np.concatenate([e.choice for e in encoded]),
    )
    together = np.clip(model.map_means(batch), -1, 1)
    for row, person in zip(together, people, strict=True):
        assert np.allclose(row, model.posterior(person).mean, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_profile_json_round_trip(model, data):
    answers = build(model.bank, data.draw(answer_strategy(model.bank)))
    answers.boundaries = data.draw(st.lists(st.sampled_from([b.id for b in model.space.boundaries]), unique=True))
    profile = model.profile(answers)
    again = ValueProfile.from_json(profile.to_json())
    assert again == profile
    assert again.space_version == model.space.version
    assert np.all(np.abs(again.means(model.space)) <= 1)


def test_a_profile_from_another_space_version_is_refused(model):
    profile = model.profile(Answers())
    other = profile.model_copy(update={"space_version": "0.9"})
    with pytest.raises(ProfileError, match="re-score"):
        other.means(model.space)
    with pytest.raises(ProfileError, match="not valid JSON"):
        ValueProfile.from_json("{nope")
    with pytest.raises(ProfileError, match="not a valueprint profile"):
        ValueProfile.from_json('{"scores": {}}')
