"""A questionnaire session saved to a JSON file after every answer.

Writes are atomic (temporary file + rename), so killing the process never leaves
a half-written file. A file that cannot be read is reported and never overwritten.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from valueprint.errors import AnswerError, SessionFileError
from valueprint.values.answers import Answers, parse_answers
from valueprint.values.bank import QuestionBank
from valueprint.values.space import ValueSpace

SESSION_FORMAT = "valueprint.session/1"


def new_subject() -> str:
    """A pseudonymous subject id: random, never derived from anything personal."""
    return "p_" + secrets.token_urlsafe(12)


@dataclass
class Session:
    path: Path
    space_version: str
    subject: str = field(default_factory=new_subject)
    answers: Answers = field(default_factory=Answers)
    demographics_done: bool = False
    boundaries_done: bool = False
    handle: str | None = None
    order: list[str] = field(default_factory=list)  # items in the order first answered or skipped

    def previous(self, item_id: str) -> str | None:
        """The item asked before `item_id` (the last one asked when `item_id` is new): where Back goes."""
        end = self.order.index(item_id) if item_id in self.order else len(self.order)
        return self.order[end - 1] if end > 0 else None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "format": SESSION_FORMAT,
            "space_version": self.space_version,
            "subject": self.subject,
            "handle": self.handle,
            "demographics_done": self.demographics_done,
            "boundaries_done": self.boundaries_done,
            "order": self.order,
            **self.answers.to_json(),
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(record, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def _corrupt(path: Path, reason: str) -> SessionFileError:
    return SessionFileError(
        f"session file {path} is corrupt ({reason}). It was left untouched: move it away to "
        "start over, or pass --session with another path."
    )


def _order(saved: object, answers: Answers) -> list[str]:
    """The saved order of the items seen (older files have none: then any order)."""
    order = [item_id for item_id in saved if item_id in answers.seen] if isinstance(saved, list) else []
    return order + sorted(answers.seen - set(order))


def load_session(path: Path, bank: QuestionBank, space: ValueSpace) -> Session:
    """Open the session at `path`, or start a new one (not yet written) if there is none."""
    if not path.exists():
        return Session(path=path, space_version=space.version)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _corrupt(path, f"not readable JSON: {error}") from error
    if not isinstance(record, dict) or record.get("format") != SESSION_FORMAT:
        raise _corrupt(path, f"not a {SESSION_FORMAT} file")
    if record.get("space_version") != space.version:
        raise SessionFileError(
            f"session file {path} was made for value space {record.get('space_version')!r}; "
            f"this valueprint uses {space.version!r}. Start a new session with --session NEW_PATH."
        )
    try:
        answers = parse_answers(record, bank, space)
        return Session(
            path=path,
            space_version=space.version,
            subject=str(record["subject"]),
            answers=answers,
            demographics_done=bool(record.get("demographics_done")),
            boundaries_done=bool(record.get("boundaries_done")),
            handle=record.get("handle"),
            order=_order(record.get("order"), answers),
        )
    except (AnswerError, KeyError, TypeError) as error:
        raise _corrupt(path, str(error)) from error
