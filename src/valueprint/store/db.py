"""Engine and sessions for SQLite (default, WAL) or PostgreSQL, migrated by Alembic on start."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from valueprint.errors import ConfigError

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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}; use sqlite:/// or postgresql+psycopg://")


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("valueprint.store") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
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
        """A unit of work: committed on success, rolled back on any error.

        Opened inside another unit of work (on the same thread), it joins that one: an operation
        that spans services (store the profile, then issue the token that carries it) wraps their
        calls in one `session()` and commits, or rolls back, all of it at once."""
        outer = getattr(self._current, "session", None)
        if outer is not None:
            yield outer
            return
        with self._queue, self.sessions() as session, session.begin():
            self._current.session = session
            try:
                yield session
            finally:
                self._current.session = None
