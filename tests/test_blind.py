"""Blind reading in development: cases hide which reply is personalised; the score counts picks against the key."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from valueprint.cli import app


def test_cases_hide_the_personalised_side_and_the_score_counts_it(tmp_path) -> None:
    replies = tmp_path / "personalize_replies.jsonl"
    rows = [
        {"persona": "devout-traditionalist", "prompt": f"Q{i}?", "base": f"plain {i}", "precis+rerank": f"mine {i}"}
        for i in range(10)
    ]
    rows.append({"persona": "devout-traditionalist", "prompt": "same?", "base": "x", "precis+rerank": "x"})
    replies.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "blind"
    made = CliRunner().invoke(app, ["bench", "blind", "make", "--replies", str(replies), "--n", "8", "--out", str(out)])
    assert made.exit_code == 0, made.output
    cases = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    key = json.loads((out / "key.json").read_text())
    assert len(cases) == 8 and all(set(c) == {"id", "person", "prompt", "A", "B"} for c in cases)
    assert "same?" not in {c["prompt"] for c in cases}  # identical replies are not worth a reader's time
    assert {v["personal"] for v in key.values()} == {"A", "B"}  # the side varies
    answers = {c["id"]: key[c["id"]]["personal"] for c in cases[:5]} | {cases[5]["id"]: "same"}
    answers["incoherent"] = [f"{cases[0]['id']}:{key[cases[0]['id']]['personal']}"]
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    scored = CliRunner().invoke(
        app,
        [
            "bench",
            "blind",
            "score",
            str(tmp_path / "answers.json"),
            "--key",
            str(out / "key.json"),
            "--out",
            str(tmp_path),
        ],
    )
    assert scored.exit_code == 0, scored.output
    figures = json.loads((tmp_path / "blind.json").read_text())
    assert figures["personal_picked"] == 5 and figures["no_difference"] == 1 and figures["answered"] == 6
    assert figures["personal_share_of_decided"] == 1.0 and figures["personal_share_ci95"][1] == 1.0
    assert figures["incoherent_personal"] == 1
