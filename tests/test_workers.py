"""Several worker processes on one database: the schema is upgraded once however many start at the same
moment, and `valueprint serve --workers N` runs N uvicorn workers on PostgreSQL (and refuses on SQLite).

The PostgreSQL server is a throwaway cluster from `tests/pg.py`; if it cannot start, these tests fail
with the reason: they are never skipped.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from tests.pg import PostgresCluster, free_port
from valueprint.cli import app as cli
from valueprint.store.db import make_engine, schema_revisions

STARTERS = 4
START_TIMEOUT_S = 60

# One process that migrates: connected first, then waits for the common start signal (a file), so every
# starter's upgrade begins at the same moment, as when uvicorn forks its workers.
MIGRATE_ON_SIGNAL = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from valueprint.store.db import make_engine, migrate

    url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    engine = make_engine(url)
    with engine.connect():
        pass
    ready.touch()
    while not go.exists():
        time.sleep(0.001)
    migrate(engine)
    print("migrated")
    """
)


@pytest.fixture
def empty_postgres(pg_cluster: PostgresCluster) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return pg_cluster.create_database("vp_" + secrets.token_hex(6))


def head_revisions() -> tuple[str, ...]:
    return schema_revisions(create_engine("sqlite://"))[1]


def stored_revisions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")]
    finally:
        engine.dispose()


def run_at_once(count: int, command: list[str], workdir: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start `count` copies of `command` (+ its ready and go files), release them together, collect them."""
    go = workdir / "go"
    ready = [workdir / f"ready-{index}" for index in range(count)]
    processes = [
        subprocess.Popen([*command, str(mark), str(go)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for mark in ready
    ]
    deadline = time.monotonic() + START_TIMEOUT_S
    while not all(mark.exists() for mark in ready):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            for process in processes:
                process.kill()
            outputs = [process.communicate()[0] for process in processes]
            pytest.fail("a starter failed before the start signal:\n" + "\n".join(outputs))
        time.sleep(0.01)
    go.touch()
    results = []
    for process in processes:
        output, _ = process.communicate(timeout=START_TIMEOUT_S)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, output, None))
    return results


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_starters_migrating_at_the_same_moment_upgrade_the_schema_once(
    backend: str, pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = (
        pg_cluster.create_database("vp_" + secrets.token_hex(6))
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'one-file.db'}"
    )
    results = run_at_once(STARTERS, [sys.executable, "-c", MIGRATE_ON_SIGNAL, url], tmp_path)

    for result in results:
        assert result.returncode == 0, result.stdout
        assert result.stdout.strip().endswith("migrated")
        assert "UniqueViolation" not in result.stdout and "already exists" not in result.stdout
    assert stored_revisions(url) == list(head_revisions())
    engine = make_engine(url)
    assert {"participants", "answers", "tokens"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_migration_lock_is_released_after_an_upgrade(empty_postgres: str) -> None:
    """A worker that migrated leaves no advisory lock behind (the pool keeps its server session open)."""
    from valueprint.store.db import MIGRATION_LOCK_KEY, migrate

    engine = make_engine(empty_postgres)
    migrate(engine)
    migrate(engine)  # a second upgrade on a current schema does nothing
    with engine.connect() as connection:
        held = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        ).scalar()
    engine.dispose()
    assert held == 0, MIGRATION_LOCK_KEY


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, "VALUEPRINT_DATA_DIR": str(data_dir), "VALUEPRINT_ENVIRONMENT": "test"}
    env["OMP_NUM_THREADS"] = "1"
    env.pop("VALUEPRINT_DATABASE_URL", None)
    if database_url is not None:
        env["VALUEPRINT_DATABASE_URL"] = database_url
    return env


def call(url: str, payload: dict | None = None, cookie: str | None = None) -> tuple[int, dict, str | None]:
    """(status, JSON body, the session cookie it set) of a GET, or a POST of `payload`."""
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
            set_cookie = response.headers.get("set-cookie")
            return response.status, json.loads(response.read()), set_cookie and set_cookie.split(";", 1)[0]
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), None


def get_json(url: str, payload: dict | None = None) -> tuple[int, dict]:
    status, body, _ = call(url, payload)
    return status, body


def wait_until_healthy(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            pytest.fail(f"the server exited ({server.returncode}) before answering:\n{log.read_text()}")
        try:
            if get_json(base + "/v1/health")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the server never answered /v1/health:\n{log.read_text()}")
        time.sleep(0.2)


def stop(server: subprocess.Popen) -> int:
    server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        pytest.fail("the server did not stop within 30 s of SIGTERM")


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def raw_get(port: int, header: str) -> bytes:
    """GET /v1/health with one extra header line; the raw answer (empty when the server hung up)."""
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            request = f"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{header}\r\n\r\n"
            connection.sendall(request.encode())
            while chunk := connection.recv(65536):
                answer += chunk
    except ConnectionResetError:
        pass
    return answer


def sign_up(base: str) -> tuple[dict, str]:
    """A new participant: the API's answer and their session cookie."""
    status, body, cookie = call(base + "/v1/participants", {"consent": True})
    assert status == 201 and cookie, body
    return body, cookie


def test_uvicorn_workers_started_together_on_an_empty_database_all_come_up(empty_postgres: str, tmp_path: Path) -> None:
    """The operator's way that crashed a worker before (both ran the migration: UniqueViolation)."""
    port, log = free_port(), tmp_path / "uvicorn.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "valueprint.web.app:create_app"]
    command += ["--workers", "3", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as output:
        server = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=server_env(tmp_path / "data", empty_postgres)
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server, log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while log.read_text().count("Application startup complete") < 3:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        stop(server)
    text = log.read_text()
    assert "UniqueViolation" not in text and "Traceback" not in text, text
    assert "died unexpectedly" not in text, text  # uvicorn's word for a worker it had to restart
    assert stored_revisions(empty_postgres) == list(head_revisions())
    assert len(list((tmp_path / "data" / "keys").glob("*.json"))) == 1, "one signing key, not one per worker"


def test_serve_with_workers_on_postgresql_answers_from_every_worker_and_stops_cleanly(
    empty_postgres: str, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "valueprint", "serve", "--workers", "2", "--host", "127.0.0.1"]
    with log.open("w") as output:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=server_env(tmp_path / "data", empty_postgres),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while log.read_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert len(children_of(server.pid)) >= 2, log.read_text()  # the workers (+ uvicorn's helper)
        started = [sign_up(base) for _ in range(6)]
        assert len({person["participant_id"] for person, _ in started}) == 6
        assert all(get_json(base + "/v1/health")[0] == 200 for _ in range(6))
        _, cookie = started[0]
        for _ in range(6):  # the session is in the database: whichever worker takes the request knows them
            status, question, _ = call(base + "/v1/questionnaire/next", cookie=cookie)
            assert status == 200 and question["item"], question
        assert not raw_get(port, "X-Huge: " + "a" * 300_000).startswith(b"HTTP/1.1 200"), "headers stay bounded"
    finally:
        code = stop(server)
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text and "UniqueViolation" not in text, text
    with psycopg.connect(empty_postgres.replace("postgresql+psycopg://", "postgresql://")) as connection:
        assert connection.execute("SELECT count(*) FROM participants").fetchone()[0] == 6


def test_serve_refuses_several_workers_on_sqlite_before_starting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VALUEPRINT_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    message = " ".join(result.output.split())
    assert "SQLite" in message and "one writer" in message and "VALUEPRINT_DATABASE_URL" in message, message
    assert not (tmp_path / "data" / "valueprint.db").exists(), "nothing may start (not even the database file)"


@pytest.mark.parametrize("workers", ["0", "65"])
def test_serve_accepts_only_a_sane_number_of_workers(workers: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", workers])
    assert result.exit_code == 2 and "--workers" in result.output, result.output


def test_db_upgrade_is_an_explicit_step_and_db_current_tells_whether_it_is_needed(tmp_path: Path) -> None:
    runner, heads = CliRunner(), ", ".join(head_revisions())
    behind = runner.invoke(cli, ["db", "current", "--check"])
    assert behind.exit_code == 1 and "empty database" in behind.output and "valueprint db upgrade" in behind.output

    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and f"to {heads}" in upgraded.output, upgraded.output
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and f"the schema is current: {heads}" in again.output, again.output

    current = runner.invoke(cli, ["db", "current", "--check"])
    assert current.exit_code == 0 and f"database at {heads}; newest {heads} (current)" in current.output
    assert stored_revisions(f"sqlite:///{tmp_path / 'data' / 'valueprint.db'}") == list(head_revisions())
