"""The personal judge: ranks replies for a person, says why, and is not fooled by fluent-looking text."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from valueprint.cli import app
from valueprint.errors import AlignmentError
from valueprint.judge.judge import PersonalJudge, dimension_weights, profile_arrays
from valueprint.judge.pairs import accuracy_by_kind, load_pairs
from valueprint.judge.quality import degeneracy, is_cut_off, recital_share
from valueprint.judge.reader import ValueReader
from valueprint.judge.service import rank_lines
from valueprint.judge.style import STYLE_DIMENSIONS, read_style

PROMPT = "My parents want me to take over the family shop, but I got a job offer abroad. What should I do?"
STAY = (
    "Stay and take over the shop. Your family built it over decades, and keeping it going honours what your "
    "parents gave you. Ask them to teach you the parts you don't know yet, and make it yours over time."
)
GO = (
    "Take the job abroad. It is your life, and a chance like this may not come again. Tell your parents kindly "
    "that you need to find your own path, and help them look for someone else to run the shop."
)


@pytest.fixture(scope="module")
def judge() -> PersonalJudge:
    """The product judge without the language-model term (fast; the term is tested in the slow test below)."""
    return PersonalJudge(ValueReader.load("a"))


def test_a_profile_is_read_from_means_or_mean_and_sd_and_unmentioned_dimensions_are_unknown(space) -> None:
    means, sds = profile_arrays({"tradition": 0.8, "self_direction": {"mean": -0.6, "sd": 0.2}}, space)
    assert means[space.index("tradition")] == 0.8 and sds[space.index("self_direction")] == 0.2
    assert sds[space.index("care")] == 1.0 and means[space.index("care")] == 0.0
    assert dimension_weights(means, sds)[space.index("care")] == 0.0


@pytest.mark.parametrize(
    ("profile", "message"),
    [({"virtue": 0.5}, "unknown dimension"), ({"care": 1.5}, "[-1, 1]"), ({"care": "high"}, "numbers"), ([], "object")],
)
def test_a_bad_profile_is_refused_with_a_message_naming_the_problem(space, profile, message) -> None:
    with pytest.raises(AlignmentError, match=message):
        profile_arrays(profile, space)


def test_the_ranking_follows_the_person_not_the_replies(judge) -> None:
    traditional = judge.rank({"tradition": 0.8, "self_direction": -0.6}, PROMPT, [GO, STAY])
    independent = judge.rank({"tradition": -0.8, "self_direction": 0.6}, PROMPT, [GO, STAY])
    assert traditional.order == [1, 0] and independent.order == [0, 1]
    assert any(reason.startswith(("tradition", "self_direction")) for reason in traditional.because[1])


def test_the_answer_has_an_order_a_score_and_reasons_for_every_reply(judge) -> None:
    ranking = judge.rank({"care": 0.7}, PROMPT, [GO, STAY, GO + " Good luck!"]).as_dict()
    assert sorted(ranking["order"]) == [0, 1, 2]
    assert len(ranking["scores"]) == len(ranking["because"]) == 3
    assert ranking["scores"][ranking["order"][0]] == max(ranking["scores"])


def test_a_person_with_no_stated_values_still_gets_a_ranking_on_quality_alone(judge) -> None:
    ranking = judge.rank({}, PROMPT, ["Family tradition faith loyalty heritage family tradition elders", STAY])
    assert ranking.order[0] == 1


def test_a_jumble_of_the_persons_value_words_loses_to_a_real_answer(judge) -> None:
    salad = "Tradition family faith heritage customs elders loyalty respect tradition family honour ancestors duty"
    loop = "Family is family and tradition is tradition. Family is tradition and tradition is family. " * 3
    for trap in (salad, loop):
        assert judge.rank({"tradition": 0.9, "loyalty": 0.8}, PROMPT, [trap, STAY]).order[0] == 1


def test_a_cut_off_reply_and_a_recital_of_the_instructions_lose(judge) -> None:
    cut = "Stay and take over the shop. Your family built it over decades, and keeping it going honours what"
    recital = "About me: above all, I am someone who values customs, faith and the ways handed down. How to answer me."
    for trap in (cut, recital):
        ranking = judge.rank({"tradition": 0.9}, PROMPT, [trap, GO])
        assert ranking.order[0] == 1, ranking


def test_style_is_read_from_the_form_of_a_reply() -> None:
    blunt = "Quit. You should leave this job now. Don't wait for them to change."
    gentle = "It might be worth considering whether this job is right for you. Perhaps, gently, you could explore."
    crude = "Fuck that job, honestly. It's shit and you know it."
    formal = "I would recommend that you consult your manager regarding the appropriate procedure. Therefore, prepare."
    casual = "Yeah, just chat with your boss, it's totally fine! Don't stress, it's gonna be ok."
    readings = read_style([blunt, gentle, crude, formal, casual])
    column = {dim: i for i, dim in enumerate(STYLE_DIMENSIONS)}
    assert readings[0, column["directness"]] > readings[1, column["directness"]]
    assert readings[2, column["profanity_tolerance"]] > readings[0, column["profanity_tolerance"]]
    assert readings[3, column["formality"]] > readings[4, column["formality"]]


def test_quality_checks_see_cut_text_loops_and_recitals() -> None:
    assert is_cut_off("This answer stops in the middle of") and not is_cut_off("A full sentence.")
    assert not is_cut_off("Steps:\n1. Pack a bag\n2. Book the train ticket")
    vocabulary = frozenset({"tradition", "family", "faith"})
    assert degeneracy("Tradition family faith tradition family faith tradition family faith", vocabulary) > 1
    assert degeneracy("Take the train in the morning; it is quicker and you can read on the way.", vocabulary) == 0
    assert recital_share("About me: I value customs and faith.", "I value customs and faith") > 0.5


def test_rank_lines_judges_every_good_line_and_names_each_bad_one(judge) -> None:
    good = json.dumps({"profile": {"tradition": 0.8}, "prompt": PROMPT, "replies": [GO, STAY]})
    lines = [good, "{not json", json.dumps({"profile": {}}), "", good]
    results = list(rank_lines(judge, lines))
    assert [r.get("line") for r in results] == [None, 2, 3, None]
    assert results[0]["order"] == [1, 0] and "error" in results[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200) | st.builds(json.dumps, st.dictionaries(st.text(max_size=8), st.integers() | st.text())))
def test_rank_lines_never_crashes_on_arbitrary_input(judge, line) -> None:
    for result in rank_lines(judge, [line]):
        assert "error" in result or "order" in result


def test_the_rank_command_prints_one_json_line_per_input(tmp_path) -> None:
    source = tmp_path / "candidates.jsonl"
    line = {"profile": {"tradition": {"mean": 0.8, "sd": 0.1}}, "prompt": PROMPT, "replies": [GO, STAY]}
    source.write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n")
    result = CliRunner().invoke(app, ["rank", str(source), "--no-fluency"])
    assert result.exit_code == 0, result.output
    outputs = [json.loads(x) for x in result.output.strip().splitlines()]
    assert [o["order"] for o in outputs] == [[1, 0], [1, 0]]


def test_the_rank_command_names_an_unreadable_file(tmp_path) -> None:
    result = CliRunner().invoke(app, ["rank", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 1 and "cannot read" in result.output


@pytest.mark.slow
def test_the_judge_passes_its_held_out_test_pairs_with_the_language_model_term(smollm2_dir) -> None:
    from valueprint.judge.quality import mean_logprobs
    from valueprint.personalize.runtime import LocalModel

    model = LocalModel(smollm2_dir, "smollm2")
    judge = PersonalJudge(ValueReader.load("a"), lambda prompt, replies: mean_logprobs(model, prompt, replies))
    table = accuracy_by_kind(load_pairs("test"), lambda p, q, r: judge.rank(p, q, r).order[0])
    assert table["overall"]["accuracy"] >= 0.85 and table["salad"]["accuracy"] >= 0.97, table


def test_an_app_ranks_replies_for_a_person_through_the_api_within_their_consent(tmp_path, smollm2_dir) -> None:
    from fastapi.testclient import TestClient

    from tests.test_api import answer_until_done
    from valueprint.settings import Settings
    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "web", environment="test", model_dir=smollm2_dir))
    with TestClient(app) as client:
        registered = app.state.services.registry.register_app("Reranker", ["schwartz", "moral"])
        started = client.post("/v1/participants", json={"consent": True}).json()
        client.headers["X-CSRF-Token"] = started["csrf_token"]
        answer_until_done(client)
        issued = client.post("/v1/me/token").json()
        headers = {"Authorization": f"Bearer {registered.api_key}"}
        body = {"prompt": PROMPT, "replies": [GO, STAY], "value_token": issued["handle"]}
        assert client.post("/v1/rank", json=body, headers=headers).status_code == 404  # no consent yet: as if unknown
        client.put(f"/v1/me/consents/{registered.id}", json={"scopes": ["schwartz"]})
        ranked = client.post("/v1/rank", json=body, headers=headers)
        assert ranked.status_code == 200, ranked.text
        result = ranked.json()
        assert sorted(result["order"]) == [0, 1] and result["scopes"] == ["schwartz"]
        reasons = [reason.split()[0] for reasons in result["because"] for reason in reasons]
        assert not {"care", "fairness", "directness"} & set(reasons)  # only the consented group shapes it
        by_jws = client.post("/v1/rank", json={**body, "value_token": issued["token"]}, headers=headers)
        assert by_jws.json()["order"] == result["order"]
        # the openai-style flow: the same API key, the token in a header, raw HTTP from any client
        via_header = client.post(
            "/v1/rank", json={"prompt": PROMPT, "replies": [GO]}, headers={**headers, "X-Value-Token": issued["handle"]}
        )
        assert via_header.status_code == 200 and via_header.json()["order"] == [0]
        for bad in ({**body, "replies": []}, {**body, "replies": ["x" * 9000]}, {"prompt": PROMPT, "replies": [GO]}):
            refused = client.post("/v1/rank", json=bad, headers=headers)
            assert refused.status_code in (400, 422) and "error" in refused.json()
        assert client.post("/v1/rank", json=body).status_code == 401


@pytest.mark.slow
def test_bench_judge_reports_every_kind_for_every_method_beside_the_old_one(tmp_path) -> None:
    result = CliRunner().invoke(app, ["bench", "judge", "--no-fluency", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "judge.json").read_text())
    for name in ("dev", "test"):
        assert set(figures[name]) >= {"judge", "referee", "evaluator_distance"}
        assert set(figures[name]["judge"]) == {"explicit", "subtle", "style", "salad", "cutoff", "recital", "overall"}
        low, high = figures[name]["judge"]["overall"]["ci95"]
        assert low <= figures[name]["judge"]["overall"]["accuracy"] <= high
    assert (
        figures["test"]["judge"]["overall"]["accuracy"] > figures["test"]["evaluator_distance"]["overall"]["accuracy"]
    )
    assert {"fulcra_heldout", "touche_test"} <= set(figures["heldout_real"]["judge"])
    assert figures["ranks_per_s_4_replies"]["without_lm_term"] > 0 and (tmp_path / "judge.png").stat().st_size > 10_000
