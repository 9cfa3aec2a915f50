"""Engine and sessions for SQLite (default, WAL) or PostgreSQL, migrated by Alembic on start.

Every web worker migrates on start, so the upgrade is serialised: on PostgreSQL by a
session-level advisory lock, on SQLite by a lock file beside the database. The first
starter upgrades; the others wait for it, then find the schema current and do nothing.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from importlib import resources
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from valueprint.errors import ConfigError, UnavailableError

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows and freed pages are overwritten with zeros
    cursor.close()


def _private_file(path: Path) -> None:
    """Value data is sensitive: the database folder and file are for this user only (SQLite
    gives its -wal and -shm files the permissions of the database file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.chmod(0o600)


# A web worker runs requests on up to 40 threads (anyio's default), each holding at most one connection: a
# pool that keeps that many open never opens and closes a PostgreSQL connection per request (a new backend
# costs PostgreSQL a few ms of CPU, more than an answer's queries); a few more for background jobs.
POOL_SIZE, POOL_OVERFLOW = 40, 5


def make_engine(url: str, pool_size: int = POOL_SIZE, max_overflow: int = POOL_OVERFLOW) -> Engine:
    """SQLite (WAL, pragmas on every connection) or PostgreSQL (a pool of `pool_size` kept connections plus
    `max_overflow` opened when needed, each checked before use, so a restarted server costs no request)."""
    if url.startswith("sqlite"):
        path = make_url(url).database  # None or "" for "sqlite://" (in memory)
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}; use sqlite:/// or postgresql+psycopg://")


# What the database's being out of reach looks like to SQLAlchemy: no connection (refused, dropped, the server
# shutting down: the driver's OperationalError), an unusable one (InterfaceError), a pool with none free in time.
# PostgreSQL also reports a serialisation failure or a deadlock as an OperationalError: retrying is right too.
UNREACHABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)


def unavailable(error: BaseException) -> UnavailableError:
    """The caller's view of a database out of reach: 503 with Retry-After (the driver's text goes to the log)."""
    log.warning("database unavailable: %s: %s", type(error).__name__, str(error).splitlines()[0] if str(error) else "")
    return UnavailableError()


# pg_advisory_lock's key for schema upgrades: a fixed 64-bit number ("vp-migra" in ASCII), the same in
# every process and version, so two starters on one database always contend for the same lock.
MIGRATION_LOCK_KEY = int.from_bytes(b"vp-migra", "big")


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("valueprint.store") / "migrations"))
    return config


def _sqlite_path(engine: Engine) -> Path | None:
    database = engine.url.database
    return Path(database) if database and database != ":memory:" else None


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection held under the database's migration lock: one holder at a time, across processes
    (and machines, on PostgreSQL); the others wait until it is released."""
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        try:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}).scalar()
            if not taken:
                log.info("another process is upgrading the database schema; waiting for it")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()  # a session-level lock outlives the transaction that took it
        except BaseException:
            connection.close()
            raise
        try:
            yield connection
        finally:
            # the pool keeps the server session open, and with it a session-level lock: release it,
            # or, if that fails, throw the connection away (the server then drops the lock)
            try:
                if connection.in_transaction():
                    connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
            except Exception:
                connection.invalidate()
            connection.close()
        return
    path = _sqlite_path(engine) if engine.dialect.name == "sqlite" else None
    lock = FileLock(f"{path}.migrate.lock", mode=0o600) if path is not None else nullcontext()
    with lock, engine.connect() as connection:
        yield connection


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision, once however many processes call it
    at the same moment (see `migration_lock`)."""
    from alembic import command

    config = _alembic_config()
    with migration_lock(engine) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revisions(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the revisions the database is at, the newest revisions this version ships); () when never migrated."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = tuple(ScriptDirectory.from_config(_alembic_config()).get_heads())
    with engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
    return current, heads


class Database:
    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time and makes the others sleep and retry (naps of up
        # to 100 ms); queueing this process's units of work on a lock is much faster under
        # load. PostgreSQL handles concurrent transactions itself and needs none.
        self._queue: AbstractContextManager[object] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )
        self._current = threading.local()

    def scrub(self, tables: Iterable[str]) -> None:
        """After a deletion has committed, leave no readable copy of the deleted rows in the database's files.

        SQLite (with `secure_delete` on, the deleted rows are already zeros in the database's pages):
        the write-ahead log still holds the frames that wrote them, so checkpoint it and truncate it
        to zero bytes (TRUNCATE waits for readers, up to the busy timeout).
        PostgreSQL: a deleted row stays in its table's pages as a dead tuple until VACUUM prunes it,
        so the touched tables are vacuumed (plain VACUUM: no exclusive lock). Their bytes may still
        lie in a page's free space until overwritten, and in the server's WAL segments and in backups
        until those are recycled; that is the server's to configure, not ours.
        """
        if self.engine.dialect.name == "sqlite":
            with self._queue, self.engine.connect() as connection:
                busy, *_ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if busy:  # the rows are deleted regardless; the next deletion's checkpoint retries
                log.warning("the write-ahead log could not be truncated after a deletion: a reader held it")
            return
        autocommit = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as connection:  # VACUUM cannot run inside a transaction
            for table in tables:
                connection.execute(text(f'VACUUM "{table}"'))  # names from our own metadata, not input

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error; UnavailableError (503, retry)
        when the database is out of reach (a restart, a dropped connection).

        Opened inside another unit of work (on the same thread), it joins that one: an operation
        that spans services (store the profile, then issue the token that carries it) wraps their
        calls in one `session()` and commits, or rolls back, all of it at once."""
        outer = getattr(self._current, "session", None)
        if outer is not None:
            yield outer
            return
        try:
            with self._queue, self.sessions() as session, session.begin():
                self._current.session = session
                try:
                    yield session
                finally:
                    self._current.session = None
        except UNREACHABLE as error:  # not done, or not confirmed: the caller sends it again (503, Retry-After)
            raise unavailable(error) from error


_shared: weakref.WeakValueDictionary[str, Database] = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared_database(url: str, pool_size: int = POOL_SIZE) -> Database:
    """This process's `Database` for `url`, made on first use and kept while anyone holds it.

    The web app's services and the jobs they run in-process share one engine this way, and on
    SQLite one writer queue, so a job's status check and the write that depends on it are one unit
    of work however many threads write; a Dask worker keeps one while its job runs."""
    with _shared_lock:
        database = _shared.get(url)
        if database is None:
            database = _shared[url] = Database(url, pool_size)
        return database
