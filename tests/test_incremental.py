"""Re-scoring after each answer reuses what the last answer computed, and gives exactly what scoring
all the answers from scratch gives (values.incremental, ScoringModel.covariance, adaptive.plan)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from valueprint.values import adaptive
from valueprint.values.answers import Answers, record
from valueprint.values.incremental import PosteriorMemo, answers_key
from valueprint.values.scoring import ScoringModel


def some_answer(item, rng: random.Random) -> object:
    if item.kind == "likert":
        return rng.randint(1, 5)
    if item.kind == "scenario":
        return rng.choice([option.key for option in item.options])
    return {"x": rng.uniform(-1, 1), "y": rng.uniform(-1, 1)}


def from_scratch(model: ScoringModel, answers: Answers) -> tuple[np.ndarray, np.ndarray]:
    """The full recomputation: Newton from the Gaussian answers' mean over every scenario column, and the
    covariance inverted from the precision."""
    encoded = model.encode(answers)
    mean = np.clip(model.map_means(encoded)[0], -1, 1)
    return mean, np.linalg.inv(model.precision(encoded.mask)[0])


@pytest.mark.parametrize("seed", range(6))
def test_scoring_after_each_answer_equals_scoring_all_answers_from_scratch(model: ScoringModel, seed: int) -> None:
    """A questionnaire as people answer it: mostly the item asked, sometimes a skip, a changed answer or an
    item out of order; after every step the remembered path gives the full recomputation's posterior."""
    rng, memo, answers = random.Random(seed), PosteriorMemo(model), Answers()
    for _ in range(45):
        before = answers_key(answers)
        roll = rng.random()
        if roll < 0.1 and answers.answered:  # change an earlier answer
            item_id = rng.choice(sorted(answers.answered))
        elif roll < 0.2:  # an item nobody would be asked next
            item_id = rng.choice([i for i in model.item_ids if i not in answers.seen])
        else:
            item_id = adaptive.next_item(model, answers, 0.05)
        value = None if rng.random() < 0.1 else some_answer(model.bank.item(item_id), rng)
        record(answers, model.bank, item_id, value)

        posterior = memo.posterior(answers, before)
        mean, cov = from_scratch(model, answers)
        assert np.allclose(posterior.mean, mean, rtol=0, atol=1e-9)
        assert np.allclose(posterior.cov, cov, rtol=0, atol=1e-12)
    assert answers.scenario, "the path must include scenario answers (the part Newton's method solves)"


def test_the_next_search_starts_at_the_last_mean(model: ScoringModel, monkeypatch: pytest.MonkeyPatch) -> None:
    starts: list[np.ndarray | None] = []
    original = model.map_means

    def recording(encoded, start=None):
        starts.append(start)
        return original(encoded, start)

    monkeypatch.setattr(model, "map_means", recording)
    memo, answers = PosteriorMemo(model), Answers()
    scenario = next(item for item in model.bank.items if item.kind == "scenario")
    record(answers, model.bank, scenario.id, "A")
    first = memo.posterior(answers)
    before = answers_key(answers)
    record(answers, model.bank, model.bank.of_kind("likert")[0].id, 4)
    memo.posterior(answers, before)
    assert starts[0] is None
    assert starts[1] is not None and np.array_equal(starts[1][0], first.map_mean)


def test_the_remembered_plan_is_what_ranking_the_bank_again_gives(model: ScoringModel) -> None:
    """The next item and the questions left, read from the plan cache along a path with skips and
    detours, equal a fresh ranking of the bank (rank_next) in the same state, followed to the end."""
    rng, answers = random.Random(3), Answers()
    for step in range(30):
        index, left = adaptive.plan(model, answers, 0.3)
        answered = np.array([i in answers.answered for i in model.item_ids])
        seen = np.array([i in answers.seen for i in model.item_ids])
        assert index == adaptive.rank_next(model, answered.copy(), seen.copy(), 0.3)
        walked = 0
        while (following := adaptive.rank_next(model, answered, seen, 0.3)) is not None:
            answered[following] = seen[following] = True
            walked += 1
        assert left == walked
        if index is None:
            break
        unseen = [i for i in model.item_ids if i not in answers.seen]
        item_id = model.item_ids[index] if step % 7 else rng.choice(unseen)  # now and then, a detour
        record(answers, model.bank, item_id, None if step % 5 == 4 else some_answer(model.bank.item(item_id), rng))


def test_remembered_covariances_cannot_be_changed_by_a_caller(model: ScoringModel) -> None:
    cov = model.covariance(np.zeros(len(model.item_ids), dtype=bool))
    with pytest.raises(ValueError):
        cov[0, 0] = 0.0


def test_an_answered_questionnaire_stores_the_profile_scoring_from_scratch_gives(participant_client, services) -> None:
    """Through the API: the stored profile after each answer is the full recomputation's."""
    from valueprint.store.models import Profile
    from valueprint.values.profile import ValueProfile

    rng = random.Random(0)
    question = participant_client.get("/v1/questionnaire/next").json()
    participant_id = participant_client.participant["participant_id"]
    for _ in range(25):
        item = services.model.bank.item(question["item"]["id"])
        reply = participant_client.put(f"/v1/answers/{item.id}", json={"value": some_answer(item, rng)})
        assert reply.status_code == 200, reply.text
        question = reply.json()["next"]
    answers = services.accounts.answers(participant_id)
    with services.db.session() as session:
        stored = ValueProfile.from_json(session.get(Profile, participant_id).profile_json)
    mean, cov = from_scratch(services.model, answers)
    assert np.allclose(stored.means(services.model.space), mean, rtol=0, atol=1e-9)
    assert np.allclose(stored.sds(services.model.space), np.sqrt(np.diag(cov)), rtol=0, atol=1e-12)
