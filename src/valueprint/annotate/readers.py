"""Import formats: each reads a file (or folder) into `Record`s, or fails naming the row (pure reads).

Formats: `jsonl`, `csv`, `lines` (plain text, one document per line), `files` (a folder of .txt files,
one document each), `hf` (a Hugging Face dataset saved with `save_to_disk`), `labelstudio` (Label
Studio task JSON; its `predictions` and `annotations` come along as pre-labels). Everything is read
and checked before anything is stored, so a bad row leaves nothing half-imported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from valueprint.errors import InputFileError
from valueprint.evaluate.backbone import require

MAX_FILE_BYTES = 100 * 2**20
MAX_DOCUMENT_CHARS = 1_000_000
FORMATS = ("jsonl", "csv", "lines", "files", "hf", "labelstudio")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "lines", ".json": "labelstudio"}


@dataclass(frozen=True)
class Record:
    """One document to import; `row` names where it came from in messages ("line 3", "task 2")."""

    row: str
    text: str
    source: str
    licence: str
    external_id: str | None = None
    prelabels: list[dict[str, Any]] = field(
        default_factory=list
    )  # Label Studio results (checked later) or copied labels


@dataclass(frozen=True)
class Fields:
    """Which fields hold the text and optional id, source and licence; defaults for the last two."""

    text: str = "text"
    id: str = "id"
    source: str | None = None
    licence: str | None = None


def detect(path: Path) -> str:
    if path.is_dir():
        return "hf" if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists() else "files"
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(f"{path}: cannot tell the format from the name; give --format, one of {FORMATS}")
    return fmt


def read_records(path: Path, fmt: str | None, fields: Fields) -> list[Record]:
    """Every document in `path`, checked; InputFileError naming the file and row of the first problem."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder")
    fmt = fmt or detect(path)
    if fmt not in FORMATS:
        raise InputFileError(f"unknown format {fmt!r}; choose one of {FORMATS}")
    if fmt == "hf":
        return list(_checked(_hf_rows(path, fields), path.name, fields))
    if fmt == "files":
        return list(_text_files(path, fields))
    text = _decoded(path)
    if fmt == "lines":
        rows = ({fields.text: line} for line in text.splitlines())
        return [r for r in _checked(_numbered(rows, "line"), path.name, fields) if r.text.strip()]
    if fmt == "jsonl":
        return list(_checked(_jsonl_rows(text, path), path.name, fields))
    if fmt == "csv":
        return list(_checked(_csv_rows(text, path), path.name, fields))
    return list(_labelstudio(_json(text, path), path.name, fields))


def records_from_items(items: Iterable[Any], fields: Fields, source: str) -> list[Record]:
    """Documents sent as JSON objects (the API); errors name "document N"."""
    return list(_checked(_numbered(items, "document"), source, fields))


def labelstudio_records(tasks: Any, fields: Fields, source: str) -> list[Record]:
    return list(_labelstudio(tasks, source, fields))


def _numbered(rows: Iterable[Any], noun: str) -> Iterator[tuple[str, Any]]:
    for number, row in enumerate(rows, start=1):
        yield f"{noun} {number}", row


def _decoded(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            f"{path}: {size / 2**20:.0f} MB is more than the {MAX_FILE_BYTES // 2**20} MB one import takes; split it"
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputFileError(
            f"{path}: line {line} is not UTF-8 (byte {error.start}); convert the file, e.g. iconv -f latin1 -t utf-8"
        ) from error


def _json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise InputFileError(f"{path}: not valid JSON: {error}") from error


def _jsonl_rows(text: str, path: Path) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except ValueError as error:
            raise InputFileError(f"{path.name}: line {number} is not valid JSON: {error}") from error


def _csv_rows(text: str, path: Path) -> Iterator[tuple[str, Any]]:
    csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield f"row {reader.line_num}", row
    except csv.Error as error:
        raise InputFileError(f"{path.name}: row {reader.line_num} is not valid CSV: {error}") from error


def _hf_rows(path: Path, fields: Fields) -> Iterator[tuple[str, Any]]:
    datasets = require("datasets")
    try:
        dataset = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as error:
        raise InputFileError(f"{path}: not a dataset saved with save_to_disk: {error}") from error
    if isinstance(dataset, datasets.DatasetDict):
        for split, part in dataset.items():
            yield from ((f"{split} row {i}", row) for i, row in enumerate(part))
        return
    yield from ((f"row {i}", row) for i, row in enumerate(dataset))


def _text_files(folder: Path, fields: Fields) -> Iterator[Record]:
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise InputFileError(f"{folder}: no .txt files in this folder")
    for file in files:
        name = str(file.relative_to(folder))
        rows = [(f"file {name}", {fields.text: _decoded(file), fields.id: name})]
        yield from _checked(rows, f"{folder.name}/{name}", fields)


def _checked(rows: Iterable[tuple[str, Any]], source: str, fields: Fields) -> Iterator[Record]:
    for row, item in rows:
        yield _record(row, item, source, fields)


def _record(row: str, item: Any, source: str, fields: Fields, prelabels: list[dict[str, Any]] | None = None) -> Record:
    where = f"{source}: {row}"
    if not isinstance(item, dict):
        raise InputFileError(f"{where}: expected an object with a {fields.text!r} field")
    text = item.get(fields.text)
    if text is None:
        raise InputFileError(f"{where}: the field {fields.text!r} is missing (fields here: {sorted(item)[:10]})")
    if not isinstance(text, str):
        raise InputFileError(f"{where}: the field {fields.text!r} is not text")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InputFileError(f"{where}: {len(text)} characters is more than a document may have ({MAX_DOCUMENT_CHARS})")
    licence = _text_field(item, "licence", "license") or fields.licence
    if not licence:
        raise InputFileError(f"{where}: no licence; add a 'licence' field or give one for the whole import")
    origin = _text_field(item, "source") or fields.source or source
    external = item.get(fields.id)
    return Record(
        where, text, origin[:500], licence[:200], None if external is None else str(external)[:200], prelabels or []
    )


def _text_field(item: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if isinstance(item.get(name), str) and item[name].strip():
            return item[name].strip()
    return None


def _labelstudio(tasks: Any, source: str, fields: Fields) -> Iterator[Record]:
    """Label Studio tasks: `data` holds the text; `predictions` and `annotations` (their `result`s) are
    kept as pre-labels, to be checked against the project's schema."""
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InputFileError(f"{source}: Label Studio JSON is a list of tasks")
    for number, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InputFileError(f"{source}: task {number}: expected an object with a 'data' object")
        prelabels = [
            {
                "origin": f"import:{kind}:{i}",
                "model_version": str(entry.get("model_version") or kind),
                "score": entry.get("score"),
                "result": entry.get("result"),
            }
            for kind in ("predictions", "annotations")
            for i, entry in enumerate(task.get(kind) or [])
            if isinstance(entry, dict)
        ]
        data = {**task["data"], **({fields.id: task["id"]} if "id" in task else {})}
        yield _record(f"task {number}", data, source, fields, prelabels)
