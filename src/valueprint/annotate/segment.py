"""Behaviour units: a document cut into sentences, dialogue turns or one whole post, as character spans.

Sentences come from spaCy's rule-based `sentencizer` on a blank English pipeline: punctuation rules,
no model to download, maintained, offline. Offsets are into the original document, with the
surrounding whitespace of each unit left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from valueprint.errors import InputFileError
from valueprint.evaluate.backbone import require

MAX_UNIT_CHARS = 5000  # a unit is read at a glance; longer ones are refused (choose another segmentation)
SPEAKER = re.compile(r"^\s*[\w][\w .'\-]{0,39}:\s")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@lru_cache(maxsize=1)
def _sentencizer() -> Any:
    spacy = require("spacy")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 2_000_000
    return nlp


def _trimmed(text: str, start: int, end: int) -> Span | None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return None
    lead = len(chunk) - len(chunk.lstrip())
    return Span(start + lead, start + lead + len(stripped))


def sentences(text: str) -> list[Span]:
    doc = _sentencizer()(text)
    spans = (_trimmed(text, s.start_char, s.end_char) for s in doc.sents)
    return [s for s in spans if s is not None]


def turns(text: str) -> list[Span]:
    """One unit per speaker turn (`Name: ...` starts a turn; other lines continue it), or per line when
    no line names a speaker."""
    lines, offset = [], 0
    for line in text.splitlines(keepends=True):
        lines.append((offset, offset + len(line), line))
        offset += len(line)
    tagged = any(SPEAKER.match(line) for *_, line in lines)
    groups: list[list[int]] = []
    for start, end, line in lines:
        if not line.strip():
            continue
        if groups and tagged and not SPEAKER.match(line):
            groups[-1][1] = end
        else:
            groups.append([start, end])
    spans = (_trimmed(text, start, end) for start, end in groups)
    return [s for s in spans if s is not None]


def posts(text: str) -> list[Span]:
    span = _trimmed(text, 0, len(text))
    return [span] if span is not None else []


SEGMENTERS = {"sentences": sentences, "turns": turns, "posts": posts}


def segment(text: str, mode: str, row: str) -> list[Span]:
    """The units of one document; InputFileError naming `row` when a unit is too long to annotate."""
    spans = SEGMENTERS[mode](text)
    for span in spans:
        if span.end - span.start > MAX_UNIT_CHARS:
            raise InputFileError(
                f"{row}: a unit of {span.end - span.start} characters (at {span.start}) is longer than "
                f"{MAX_UNIT_CHARS}; split the text or use segmentation 'sentences'"
            )
    return spans
