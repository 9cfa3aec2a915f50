"""The real server in a subprocess for the web benchmarks, and what they measure with.

`Server` runs `python -m valueprint serve` (with `--workers N` when asked) on 127.0.0.1 and a
free port with a clean environment (no inherited `VALUEPRINT_*`), waits for /v1/health, and
stops it with SIGTERM or kills it with SIGKILL. Its output goes to `server.log` in the data dir.
CPU time and memory are read from Linux's /proc for the whole process tree (uvicorn's
supervisor and its workers).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import ValueprintError

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0

# phase, done, total: how far a benchmark is, for a progress bar
OnProgress = Callable[[str, float, float], None]


def no_progress(_phase: str, _done: float, _total: float) -> None:
    return None


def httpx_module() -> Any:
    try:
        import httpx
    except ImportError as error:
        raise ValueprintError(
            "the web benchmarks need httpx: pip install 'httpx>=0.27' (or pip install -e '.[dev]')"
        ) from error
    return httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without any VALUEPRINT_* setting, plus the benchmark's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VALUEPRINT_")}
    env.update({"VALUEPRINT_DATA_DIR": str(data_dir), "VALUEPRINT_ENVIRONMENT": "development"})
    env.update(extra or {})
    return env


class Server:
    """`valueprint serve` on 127.0.0.1 for one data directory (SQLite inside it)."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None, workers: int = 1
    ) -> None:
        self.data_dir, self.workers = data_dir, workers
        self.port = port or free_port()
        self.env = server_env(data_dir, env)
        self.log_path = data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "valueprint.db"

    def start(self) -> float:
        """Start and wait until /v1/health answers; returns the seconds that took."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        command = [sys.executable, "-m", "valueprint", "serve", "--host", HOST, "--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_healthy()
        return time.perf_counter() - began

    def _wait_healthy(self) -> None:
        httpx = httpx_module()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ValueprintError(f"the server exited while starting; its log:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/v1/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise ValueprintError(f"the server did not answer /v1/health in {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server has used so far, its workers and their exited predecessors
        included (Linux /proc; None elsewhere)."""
        return None if self.process is None else tree_cpu_seconds(self.process.pid)

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the server itself with one worker, else its worker children."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        return [pid for pid in children(self.process.pid) if "resource_tracker" not in command_line(pid)]

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush or clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL if it takes too long."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Start the server for a block; always stopped afterwards (even on Ctrl-C)."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of `pid` and every live descendant, plus what its exited children used (the
    kernel adds a reaped child's time to its parent's cutime/cstime). None when `pid` is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    seconds = ticks / os.sysconf("SC_CLK_TCK")
    for child in children(pid):
        seconds += tree_cpu_seconds(child) or 0.0
    return seconds


def memory_mb(pid: int) -> dict[str, float] | None:
    """Resident (RSS) and proportional (PSS: shared pages split among their users) memory of one process, MB."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in rollup.splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name.lower()] = round(int(rest.split()[0]) / 1024, 1)
    return values


def sqlite_scalar(database: Path, sql: str) -> Any:
    """One value from the SQLite file, read directly (not through the server)."""
    connection = sqlite3.connect(database, timeout=30)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def sqlite_rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(database, timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def host_load() -> float | None:
    """The machine's 1-minute load average: other work on the box skews every figure measured here."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def ms_each(seconds: float | None, count: int) -> float | None:
    """Seconds spent over `count` events, in milliseconds per event (None when unknown or no events)."""
    return None if seconds is None or not count else round(seconds / count * 1000, 2)


def percentile_ms(seconds: list[float], q: float) -> float | None:
    """The q-th percentile of durations in seconds, in milliseconds (None when there are none)."""
    if not seconds:
        return None
    return round(float(np.percentile(np.asarray(seconds), q)) * 1000, 2)


def phase_bars(progress: Any) -> OnProgress:
    """An OnProgress drawing one bar per phase on a rich `Progress`."""
    tasks: dict[str, Any] = {}

    def update(phase: str, done: float, total: float) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    return update
