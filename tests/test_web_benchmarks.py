"""The web benchmarks, tiny: each starts the real server in a subprocess on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valueprint.bench import token_lookup, web_crash, web_load
from valueprint.cli import app

pytestmark = pytest.mark.slow

LOAD_KEYS = {"participants", "answers_acknowledged", "answers_stored", "p50_ms", "p95_ms", "answers_per_s"}
CRASH_KEYS = {"acknowledged_before_kill", "stored_after_restart", "acknowledged_lost", "restart_s"}
LOOKUP_KEYS = {"lookups_per_s", "p50_ms", "p95_ms", "errors", "health_per_s"}


def test_web_load_stores_every_acknowledged_answer(tmp_path: Path) -> None:
    figures = web_load.run(participants=5, answers=5, work_dir=tmp_path)
    assert LOAD_KEYS | {"health_p50_ms"} <= set(figures)
    assert figures["participants"] == 5
    assert figures["answers_acknowledged"] == figures["answers_stored"] == 25
    assert figures["errors"] == 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]


def test_web_crash_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    figures = web_crash.run(participants=5, answers=6, work_dir=tmp_path)
    assert set(figures) >= CRASH_KEYS
    assert figures["acknowledged_before_kill"] >= 15  # the kill comes at half of 5 x 6
    assert figures["acknowledged_lost"] == 0
    assert figures["stored_after_restart"] >= figures["acknowledged_before_kill"]
    assert figures["acknowledged_before_kill"] < 30  # the kill did interrupt the crowd
    assert figures["restart_s"] > 0


def test_token_lookup_reads_and_audits(tmp_path: Path) -> None:
    figures = token_lookup.run(participants=5, seconds=2, health_seconds=1, concurrency=5, work_dir=tmp_path)
    assert set(figures) >= LOOKUP_KEYS
    assert figures["lookups"] > 0
    assert figures["errors"] == 0
    assert figures["audited_lookups"] == figures["lookups"]
    assert figures["health_per_s"] > 0


def test_bench_command_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["bench", "web-load", "--participants", "2", "--answers", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads((out / "web_load.json").read_text())
    assert set(written) >= LOAD_KEYS
    assert written["answers_acknowledged"] == written["answers_stored"] == 6
    assert "environment" in written
