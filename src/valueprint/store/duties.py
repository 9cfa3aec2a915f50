"""Per-domain data duties: how each domain exports and deletes one participant's data.

Privacy rests on this list being complete: "export everything" and "delete my account"
must reach every row and file that a domain keeps about a person. So no central code
lists the tables. Each domain registers its duties where it defines them, at import
(peft-style self-registration):

    register(DataDuty("answers", tables=(Answer,), export=_export_answers))
    register(DataDuty("adapter", erase_files=_erase_adapter))   # files only

`accounts` then runs every registered duty, and `uncovered()` names any table with a
`participant_id` column that no duty exports or deletes: a test and the app's start both
fail on it, so a new domain cannot forget.

Deleting: by default a duty deletes the rows of its tables whose `participant_id` is the
person's (give `delete` to do more); `erase_files` runs once the rows are committed.
Export: `export` returns the JSON-ready section stored under the duty's name; a duty
without `export` adds nothing to the document (and leaves its tables uncovered).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, delete
from sqlalchemy.orm import Session

from valueprint.store.crypto import Sealer

PARTICIPANT_COLUMN = "participant_id"


@dataclass(frozen=True)
class DutyContext:
    """What a duty may use: the unit of work, the person, their sealed data's key and the data folder."""

    session: Session
    participant_id: str
    sealer: Sealer
    data_dir: Path


Exporter = Callable[[DutyContext], Any]
Deleter = Callable[[DutyContext], None]
FileEraser = Callable[[Path, str], None]  # (data folder, participant id)


@dataclass(frozen=True)
class DataDuty:
    """One domain's duty for one kind of personal data; `name` is its key in the export document."""

    name: str
    tables: tuple[Any, ...] = ()  # ORM classes (or Core tables) holding the data
    export: Exporter | None = None
    delete: Deleter | None = None  # default: delete the tables' rows of the person
    erase_files: FileEraser | None = None

    def delete_rows(self, context: DutyContext) -> None:
        if self.delete is not None:
            self.delete(context)
            return
        for table in (_table(t) for t in self.tables):
            column = table.c[PARTICIPANT_COLUMN]
            context.session.execute(delete(table).where(column == context.participant_id))


_DUTIES: dict[str, DataDuty] = {}


def register(duty: DataDuty) -> DataDuty:
    """Add a duty (re-registering the same name replaces it, so reloading a module is harmless)."""
    if duty.tables and any(PARTICIPANT_COLUMN not in _table(t).c for t in duty.tables):
        raise ValueError(f"data duty {duty.name!r}: every table needs a {PARTICIPANT_COLUMN} column")
    _DUTIES[duty.name] = duty
    return duty


def duties() -> list[DataDuty]:
    """Every registered duty, in registration order."""
    return list(_DUTIES.values())


def export(context: DutyContext) -> dict[str, Any]:
    """Every duty's export section, keyed by duty name."""
    return {duty.name: duty.export(context) for duty in duties() if duty.export is not None}


def delete_rows(context: DutyContext) -> None:
    """Every duty's rows, the last registered first (so later domains go before those they build on)."""
    for duty in reversed(duties()):
        duty.delete_rows(context)


def erase_files(data_dir: Path, participant_id: str) -> None:
    for duty in duties():
        if duty.erase_files is not None:
            duty.erase_files(data_dir, participant_id)


def participant_tables(metadata: MetaData) -> list[str]:
    """Names of the tables that hold data of one participant (they have a `participant_id` column)."""
    return sorted(name for name, table in metadata.tables.items() if PARTICIPANT_COLUMN in table.c)


def uncovered(metadata: MetaData, registered: Iterable[DataDuty] | None = None) -> dict[str, list[str]]:
    """Participant tables that no duty exports, and those that no duty deletes ({} when all are covered)."""
    registered = duties() if registered is None else list(registered)
    exported = {_table(t).name for d in registered if d.export is not None for t in d.tables}
    deleted = {_table(t).name for d in registered for t in d.tables}
    tables = participant_tables(metadata)
    gaps = {
        "export": [name for name in tables if name not in exported],
        "delete": [name for name in tables if name not in deleted],
    }
    return {kind: names for kind, names in gaps.items() if names}


def _table(table_or_model: Any) -> Table:
    return getattr(table_or_model, "__table__", table_or_model)
