"""A throwaway PostgreSQL cluster for benchmarks and tests: initdb into a temp dir, listen on 127.0.0.1 only.

The cluster runs as the `postgres` OS user when run as root (PostgreSQL refuses to run as root), as
the current user otherwise. Any failure to start raises `ClusterError` with the server's log. The
binaries are PostgreSQL 15's (`VALUEPRINT_PG_BIN` overrides, as does the older
`VALUEPRINT_TEST_PG_BIN`). `fsync=False` (the tests' choice) trades durability across an OS crash
for speed; the soak benchmark keeps fsync on, so an acknowledged answer is on disk.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(
    os.environ.get("VALUEPRINT_PG_BIN") or os.environ.get("VALUEPRINT_TEST_PG_BIN") or "/usr/lib/postgresql/15/bin"
)
START_TIMEOUT_S = 30
INSTALL_HINT = "run `bash scripts/system-deps.sh` (installs postgresql-15) or set VALUEPRINT_PG_BIN"


class ClusterError(RuntimeError):
    """The PostgreSQL cluster could not be created, started or used."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; `stop()` removes everything."""

    def __init__(self, fsync: bool = False, max_connections: int = 200) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="valueprint-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.os_user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.fsync, self.max_connections = fsync, max_connections
        self.started = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.os_user, "--", *command]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=True)
        except FileNotFoundError as error:
            raise ClusterError(f"cannot run {args[0]}: {error}; {INSTALL_HINT}") from error
        except subprocess.CalledProcessError as error:
            raise ClusterError(f"{args[0]} failed ({error.returncode}):\n{error.stdout}\n{error.stderr}") from error
        except subprocess.TimeoutExpired as error:
            raise ClusterError(f"{args[0]} did not finish in {START_TIMEOUT_S} s") from error

    @property
    def _options(self) -> str:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections={self.max_connections}"
        )
        return options + ("" if self.fsync else " -c fsync=off")

    def start(self) -> PostgresCluster:
        if not (PG_BIN / "initdb").exists():
            raise ClusterError(f"no PostgreSQL binaries in {PG_BIN}; {INSTALL_HINT}")
        if os.geteuid() == 0:
            shutil.chown(self.root, user=self.os_user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._pg_ctl_start()
        self.started = True
        return self

    def _pg_ctl_start(self) -> None:
        try:
            self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-o", self._options)
        except ClusterError as error:
            raise ClusterError(f"{error}\nserver log:\n{self._log_text()}") from error
        self._wait_ready()

    def restart(self, mode: str = "immediate", down_s: float = 0.0) -> float:
        """Stop the server (`immediate`: as if it crashed, recovering from its WAL on start), stay down
        `down_s` seconds, and start it again on the same port; returns the seconds it was away."""
        began = time.perf_counter()
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")
        time.sleep(down_s)
        self._pg_ctl_start()
        return time.perf_counter() - began

    def _log_text(self) -> str:
        try:
            return self.log.read_text()[-4000:]
        except OSError:
            return "(no log)"

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise ClusterError(f"PostgreSQL on port {self.port} never accepted connections: {error}") from error
                time.sleep(0.2)

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def scalar(self, database: str, sql: str) -> object:
        """One value, read directly (not through the app)."""
        import psycopg

        with psycopg.connect(self.dsn(database)) as connection:
            row = connection.execute(sql).fetchone()
        return None if row is None else row[0]

    def rows(self, database: str, sql: str) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(self.dsn(database)) as connection:
            return list(connection.execute(sql).fetchall())

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(ClusterError):  # removing the directory below is what matters
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
