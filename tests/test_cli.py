"""The `valueprint` command, as a person uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valueprint.cli import app
from valueprint.values import adaptive
from valueprint.values.answers import Answers, record

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def scripted_input(model, stop_sd: float, answered: int = 0, limit: int | None = None) -> tuple[str, list[str]]:
    """Keyboard input for `ask`: skip the demographics, then answer each question the
    adaptive questionnaire will ask (its order depends only on what was answered),
    then pick boundaries 3 and 4. Returns the input and the item ids it answers."""
    answers = Answers()
    lines, asked = [], []
    while (item_id := adaptive.next_item(model, answers, stop_sd)) is not None:
        item = model.bank.item(item_id)
        value = {"likert": 4, "scenario": "B", "slider": {"x": 0.6, "y": -0.4}}[item.kind]
        record(answers, model.bank, item_id, value)
        if len(asked) >= answered:
            lines += {"likert": ["4"], "scenario": ["b"], "slider": ["3", "-2"]}[item.kind]
        asked.append(item_id)
    lines.append("3,4")
    if limit is not None:
        return "\n".join(lines[:limit]) + "\n", asked
    return "\n".join(lines) + "\n", asked


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    return tmp_path / "session.json"


def test_ask_runs_the_whole_questionnaire_and_prints_profile_precis_token_and_handle(model, session_file):
    keys, asked = scripted_input(model, 0.45)
    result = invoke("ask", "--session", str(session_file), "--stop-sd", "0.45", input="\n" * 6 + keys)
    assert result.exit_code == 0, result.output
    for expected in ("Your value profile", "Nearest persona", "Your précis", "Your value token", "handle"):
        assert expected in result.output
    saved = json.loads(session_file.read_text())
    assert len([v for v in saved["answers"].values() if v is not None]) == len(asked)
    assert saved["boundaries"] == ["no-medical-advice", "no-profanity"]
    assert saved["handle"] and saved["handle"] in result.output


def test_an_interrupted_ask_resumes_where_it_stopped(model, session_file):
    keys, asked = scripted_input(model, 0.45, limit=12)
    first = invoke("ask", "--session", str(session_file), "--stop-sd", "0.45", input="\n" * 6 + keys)
    assert first.exit_code == 0
    assert "Saved" in first.output and "Your value token" not in first.output
    done = len(json.loads(session_file.read_text())["answers"])
    assert 8 <= done < len(asked)
    rest, _ = scripted_input(model, 0.45, answered=done)
    second = invoke("ask", "--session", str(session_file), "--stop-sd", "0.45", input=rest)
    assert second.exit_code == 0, second.output
    assert "Resuming" in second.output and "Your value token" in second.output
    assert len(json.loads(session_file.read_text())["answers"]) == len(asked)


def test_enter_or_a_stray_key_at_a_question_re_asks_with_a_hint(model, session_file):
    keys, asked = scripted_input(model, 0.45)
    *answers, boundaries = keys.splitlines()
    confused = "".join(f"\n{'maybe' if n % 2 else ''}\n{line}\n" for n, line in enumerate(answers))
    result = invoke("ask", "--session", str(session_file), "--stop-sd", "0.45", input="\n" * 6 + confused + boundaries)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Type a whole number from -5 to +5" in result.output  # the slider comes first
    assert "Type a number from 1 to 5" in result.output
    assert "Your value token" in result.output
    assert len(json.loads(session_file.read_text())["answers"]) == len(asked)


def test_back_re_asks_the_previous_question_and_a_new_answer_replaces_the_old(model, session_file):
    keys, asked = scripted_input(model, 0.45)
    lines = keys.splitlines()
    second = model.bank.item(asked[1])
    assert model.bank.item(asked[0]).kind == "slider" and second.kind in ("likert", "scenario")
    changed = "1" if second.kind == "likert" else "a"
    lines[3:3] = ["p", changed]  # at the third question: back to the second, and change it
    result = invoke(
        "ask", "--session", str(session_file), "--stop-sd", "0.45", input="\n" * 6 + "\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    earlier = "4" if second.kind == "likert" else "B"
    assert f"Your answer was {earlier}" in result.output
    saved = json.loads(session_file.read_text())
    assert saved["answers"][asked[1]] == (1 if second.kind == "likert" else "A")
    assert saved["order"] == asked, "a changed answer keeps its place"
    assert len(saved["answers"]) == len(asked)


def test_a_corrupt_session_file_gives_a_clear_error_and_is_never_overwritten(session_file):
    session_file.write_text('{"format": "valueprint.session/1", "answers": {"sd-01": 9')
    before = session_file.read_bytes()
    result = invoke("ask", "--session", str(session_file), input="\n" * 10)
    assert result.exit_code == 1
    assert "corrupt" in result.output and "left untouched" in result.output
    assert "Traceback" not in result.output
    assert session_file.read_bytes() == before


def test_score_token_issue_verify_and_show(tmp_path: Path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"answers": {"sd-01": 5, "sc-01": "A"}, "boundaries": ["no-profanity"]}))
    profile_path = tmp_path / "profile.json"
    assert invoke("score", str(answers), "-o", str(profile_path)).exit_code == 0
    assert json.loads(profile_path.read_text())["format"] == "valueprint.profile/1"
    issued = invoke("token", "issue", str(profile_path))
    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.output)
    verified = invoke("token", "verify", token["token"])
    assert verified.exit_code == 0
    assert json.loads(verified.output)["handle"] == token["handle"]
    shown = invoke("token", "show", token["token"])
    assert "valid" in shown.output and "no-profanity" in shown.output
    forged = invoke("token", "verify", token["token"][:-3] + "AAA")
    assert forged.exit_code == 1 and "does not verify" in forged.output


def test_verify_against_another_issuers_jwks_file(tmp_path: Path):
    assert invoke("keys", "new").exit_code == 0
    jwks = tmp_path / "jwks.json"
    jwks.write_text(invoke("keys", "jwks").output)
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"answers": {"hd-01": 2}}))
    token = json.loads(invoke("token", "issue", str(answers)).output)["token"]
    assert invoke("token", "verify", token, "--jwks", str(jwks)).exit_code == 0
    for broken in ("[]", "{}", '{"keys": []}'):
        jwks.write_text(broken)
        refused = invoke("token", "verify", token, "--jwks", str(jwks))
        assert refused.exit_code == 1 and "no public keys" in refused.output


def test_keys_rotate_and_list(tmp_path: Path):
    first = invoke("keys", "new").output.split()[-1]
    second = invoke("keys", "new").output.split()[-1]
    listing = invoke("keys", "list").output
    assert first in listing and second in listing and "signing" in listing and "verifying" in listing
    assert len(json.loads(invoke("keys", "jwks").output)["keys"]) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"answers": {"sd-01": 9}}', "'sd-01'"),
        ('{"answers": {"nope": 3}}', "'nope': no such item"),
        ("not json", "not valid JSON"),
    ],
)
def test_score_refuses_bad_input_naming_the_problem(tmp_path: Path, content, message):
    path = tmp_path / "answers.json"
    path.write_text(content)
    result = invoke("score", str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_score_names_a_missing_file_as_missing(tmp_path: Path):
    result = invoke("score", str(tmp_path / "nonexistent.json"))
    assert result.exit_code == 1
    assert "nonexistent.json: no such file" in result.output
    assert "answer to item" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_serve_refuses_a_port_outside_1_to_65535(port: str):
    result = invoke("serve", "--port", port)
    assert result.exit_code == 2
    assert "--port" in result.output


def test_serve_on_a_port_in_use_says_so_in_one_line():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = invoke("serve", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1
    assert "already in use" in result.output and "Traceback" not in result.output
    assert "valueprint on" not in result.output, "nothing claims to serve"


def test_version_prints_the_package_version():
    from valueprint import __version__

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"valueprint {__version__}"


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "valueprint", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "ask" in result.stdout and "token" in result.stdout


@pytest.mark.slow
def test_benchmarks_write_their_json(tmp_path: Path):
    assert invoke("bench", "scoring", "--out", str(tmp_path)).exit_code == 0
    assert invoke("bench", "tokens", "--out", str(tmp_path), "--fuzz-inputs", "3000").exit_code == 0
    assert invoke("bench", "adaptive", "--out", str(tmp_path), "--respondents", "40").exit_code == 0
    scoring = json.loads((tmp_path / "scoring.json").read_text())
    tokens = json.loads((tmp_path / "tokens.json").read_text())
    adaptive_figures = json.loads((tmp_path / "adaptive.json").read_text())
    assert scoring["full_bank_ms"] > 0
    assert tokens["fuzz_unhandled"] == 0 and tokens["fuzz_changed_tokens_accepted"] == 0
    assert tokens["token_chars"] <= 600
    assert adaptive_figures["items_in_bank"] >= 150
    assert adaptive_figures["adaptive_items_to_match"] <= adaptive_figures["random_items_to_match"]
    assert (tmp_path / "adaptive.png").stat().st_size > 10_000
