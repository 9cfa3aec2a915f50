"""`valueprint evaluate FILE`: texts from JSONL or CSV in, one JSON line of scores per text out.

Input: JSONL (each line an object with a text field, or a bare JSON string) or CSV with a
header (the text column). Every input field is carried to the output, plus `scores`
(dimension -> value in [-1, 1]) and, when asked, `explanation`. Output is written to a
temporary file and renamed at the end, so a bad line or an interruption leaves no half file.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from valueprint.errors import InputFileError
from valueprint.evaluate.evaluator import ValueEvaluator

CHUNK = 512


def count_records(path: Path) -> int:
    with _open(path) as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(lines - 1, 0) if path.suffix.lower() == ".csv" else lines


def _open(path: Path) -> Any:
    try:
        return path.open(encoding="utf-8", newline="")
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}") from error


def read_records(path: Path, column: str = "text") -> Iterator[dict[str, Any]]:
    """Records with a non-empty string under `column`; the first bad one stops with its line number."""
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise InputFileError(f"{path}: give a .jsonl or .csv file")
    with _open(path) as handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
            if column not in (reader.fieldnames or []):
                raise InputFileError(f"{path} has no column {column!r}; columns: {reader.fieldnames}; use --column")
            for number, row in enumerate(reader, start=2):
                yield _checked(dict(row), column, path, number)
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as error:
                raise InputFileError(f"{path}:{number} is not valid JSON ({error})") from error
            yield _checked({column: value} if isinstance(value, str) else value, column, path, number)


def _checked(record: Any, column: str, path: Path, number: int) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get(column), str) or not record[column].strip():
        raise InputFileError(f"{path}:{number} has no text under {column!r}; use --column to name the field")
    return record


def _chunks(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def evaluate_file(
    evaluator: ValueEvaluator,
    source: Path,
    out: Path,
    column: str = "text",
    explain: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Score every record of `source` into `out` (JSONL); returns how many were written."""
    ids = evaluator.space.ids
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, staging = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    written = 0
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
            for chunk in _chunks(read_records(source, column), CHUNK):
                scores = evaluator.score([r[column] for r in chunk])
                for record, row in zip(chunk, scores, strict=True):
                    record["scores"] = {d: round(float(v), 4) for d, v in zip(ids, row, strict=True)}
                    if explain:
                        record["explanation"] = evaluator.explain(record[column])
                    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += len(chunk)
                if on_progress:
                    on_progress(written)
        os.replace(staging, out)
    finally:
        with suppress(FileNotFoundError):
            os.remove(staging)
    return written
