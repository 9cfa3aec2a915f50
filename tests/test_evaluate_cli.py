"""`valueprint evaluate FILE` and `valueprint evaluator report`, as a user runs them."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from valueprint.cli import app
from valueprint.errors import InputFileError
from valueprint.evaluate.files import read_records

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_jsonl_in_jsonl_out_keeps_every_field_and_adds_scores(tmp_path, space) -> None:
    source = tmp_path / "replies.jsonl"
    rows = [{"id": 1, "text": "Family comes first."}, {"id": 2, "text": "Markets should be free.", "model": "x"}]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    result = run("evaluate", str(source))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "replies.scores.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == [1, 2] and out[1]["model"] == "x"
    assert list(out[0]["scores"]) == list(space.ids)
    assert all(-1 <= v <= 1 for r in out for v in r["scores"].values())


def test_csv_with_a_named_column_and_explanations(tmp_path) -> None:
    source = tmp_path / "posts.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["author", "body"])
        writer.writerow(["a", "Protect the forests, they belong to everyone."])
    result = run("evaluate", str(source), "--column", "body", "--explain", "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert record["author"] == "a" and record["explanation"][0]["evidence"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "fine"}\n{"text": broken\n', "line 2|:2 is not valid JSON"),
        ('{"text": "fine"}\n{"body": "no text field"}\n', ":2 has no text"),
        ('{"text": "fine"}\n[1, 2]\n', ":2 has no text"),
        ('{"text": "   "}\n', ":1 has no text"),
    ],
)
def test_a_bad_line_is_named_and_no_half_output_is_left(tmp_path, content, message) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(content)
    result = run("evaluate", str(source))
    assert result.exit_code == 1
    assert any(part in result.output for part in message.split("|"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_a_missing_csv_column_lists_the_columns(tmp_path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("body\nhello\n")
    result = run("evaluate", str(source))
    assert result.exit_code == 1 and "no column 'text'" in result.output and "--column" in result.output


def test_other_file_types_and_missing_files_are_refused_clearly(tmp_path) -> None:
    (tmp_path / "x.txt").write_text("hello")
    assert "give a .jsonl or .csv file" in run("evaluate", str(tmp_path / "x.txt")).output
    assert "cannot read" in run("evaluate", str(tmp_path / "absent.jsonl")).output


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(min_size=1).filter(str.strip), min_size=1, max_size=5))
def test_any_text_round_trips_through_the_jsonl_reader(tmp_path, texts) -> None:
    source = tmp_path / "t.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    assert [r["text"] for r in read_records(source)] == texts


def test_bare_json_strings_are_texts_too(tmp_path) -> None:
    source = tmp_path / "t.jsonl"
    source.write_text('"just a string"\n')
    assert list(read_records(source)) == [{"text": "just a string"}]
    with pytest.raises(InputFileError):
        list(read_records(tmp_path / "none.jsonl"))


@pytest.mark.slow
def test_the_report_beats_both_baselines_on_held_out_labels(tmp_path) -> None:
    result = run("evaluator", "report", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = (tmp_path / "evaluator_report.md").read_text()
    assert "Touché23 test macro-F1" in report and "pyvalues" in report
    assert (tmp_path / "evaluator_touche23_f1.png").stat().st_size > 10_000
    import re

    ours, dictionary = (float(x) for x in re.search(r"\*\*([0-9.]+)\*\* \| pyvalues ([0-9.]+)", report).groups())
    assert ours > dictionary + 0.1 and ours > 0.26
