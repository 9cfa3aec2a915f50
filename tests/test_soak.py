"""The soak, short: a crowd answering on PostgreSQL with two workers while one worker is SIGKILLed and
PostgreSQL restarts (as if it crashed). No acknowledged answer is lost, and every error a client sees is
one it can act on by retrying (503 with Retry-After, or a connection the killed worker dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from valueprint.bench import soak

pytestmark = pytest.mark.slow


def test_a_killed_worker_and_a_restarted_database_lose_no_acknowledged_answer(tmp_path: Path) -> None:
    plan = soak.SoakPlan(participants=20, duration_s=60, think_s=1.0, workers=2)
    figures = soak.run(plan, work_dir=tmp_path)
    assert figures["acknowledged_lost"] == 0, figures
    assert figures["unclear_errors"] == 0 and figures["gave_up"] == 0, figures
    assert figures["passed"]
    assert figures["participants"] == 20 and figures["answers_acknowledged"] > 200, figures
    events = figures["events"]
    assert events["worker_killed_at_s"] < events["postgres_restarted_at_s"] < 60, events
    assert figures["retried_errors"] > 0, "the kill and the restart reached the clients, who retried"
    kinds = figures["retried_error_kinds"]
    assert all(kind.startswith(("503 unavailable (Retry-After", "connection dropped")) for kind in kinds), kinds
    assert figures["server_log_tracebacks"] == 0, "every database error became a 503, none a crash"
