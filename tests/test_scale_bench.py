"""`valueprint bench scale`, tiny: the same crowd on SQLite and on PostgreSQL with 1, 2 and 4 workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valueprint.cli import app

pytestmark = pytest.mark.slow


def test_bench_scale_measures_every_configuration_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = CliRunner().invoke(app, ["bench", "scale", "--participants", "3", "--answers", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads((out / "scale.json").read_text())
    runs = {(run["database"], run["workers"]): run for run in written["runs"]}
    assert set(runs) == {("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 4)}
    for (database, workers), run in runs.items():
        assert run["answers_acknowledged"] == run["answers_stored"] == 12, run
        assert run["acknowledged_lost"] == 0 and run["errors"] == 0, run
        assert run["answers_per_s"] > 0 and 0 < run["p50_ms"] <= run["p95_ms"]
        assert run["server_cpu_ms_per_answer"] > 0 and run["server_cpu_ms_per_sign_up"] > 0
        assert len(run["worker_memory_mb"]) == workers and all(m["rss"] > 50 for m in run["worker_memory_mb"])
        assert (run["postgres_cpu_ms_per_answer"] is None) == (database == "sqlite")
    projection = written["projection"]
    assert projection["same_machine_answers_per_s"]["8"] > 0 and "cores x utilisation" in projection["method"]
    assert (out / "scale.png").stat().st_size > 10_000
