"""A person's answers, parsed from JSON-like data with errors that name the item.

Wire format (also the format of `valueprint score ANSWERS.json`):

    {
      "space_version": "1.0",                 # optional; refused if it differs
      "answers": {
        "sd-01": 4,                           # Likert: integer 1..5
        "political-slider": {"x": -0.3, "y": 0.2},   # slider: both in [-1, 1]
        "sc-03": "B",                         # scenario: an option key
        "tr-02": null                         # skipped (any item)
      },
      "demographics": {"country": "Kenya", "age_band": "25-34"},   # optional, never scored
      "boundaries": ["no-profanity"]          # optional boundary ids
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from valueprint.errors import AnswerError
from valueprint.values.bank import LikertItem, QuestionBank, ScenarioItem, SliderItem
from valueprint.values.space import ValueSpace

LIKERT_MIN, LIKERT_MAX = 1, 5


@dataclass
class Answers:
    """Validated answers. Mutating helpers re-validate, so an Answers is always usable."""

    likert: dict[str, int] = field(default_factory=dict)
    scenario: dict[str, str] = field(default_factory=dict)
    slider: dict[str, tuple[float, float]] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    demographics: dict[str, str] = field(default_factory=dict)
    boundaries: list[str] = field(default_factory=list)

    @property
    def answered(self) -> set[str]:
        return set(self.likert) | set(self.scenario) | set(self.slider)

    @property
    def seen(self) -> set[str]:
        """Items answered or skipped: the questionnaire will not ask them again."""
        return self.answered | self.skipped

    def value_of(self, item_id: str) -> object:
        """The answer to one item in the wire format (None when skipped or not answered)."""
        if item_id in self.slider:
            x, y = self.slider[item_id]
            return {"x": x, "y": y}
        return self.likert.get(item_id, self.scenario.get(item_id))

    def to_json(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        answers.update(self.likert)
        answers.update(self.scenario)
        answers.update({item_id: {"x": x, "y": y} for item_id, (x, y) in self.slider.items()})
        answers.update(dict.fromkeys(sorted(self.skipped)))
        return {"answers": answers, "demographics": dict(self.demographics), "boundaries": list(self.boundaries)}


def _likert_value(item_id: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnswerError(item_id, f"a Likert answer must be an integer 1-5, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise AnswerError(item_id, f"a Likert answer must be a whole number 1-5, got {value!r}")
    if not LIKERT_MIN <= value <= LIKERT_MAX:
        raise AnswerError(item_id, f"a Likert answer must be between 1 and 5, got {value!r}")
    return int(value)


def _slider_value(item_id: str, value: object) -> tuple[float, float]:
    if not isinstance(value, Mapping) or set(value) != {"x", "y"}:
        raise AnswerError(item_id, f'the slider answer must be {{"x": number, "y": number}}, got {value!r}')
    coordinates = []
    for axis in ("x", "y"):
        number = value[axis]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise AnswerError(item_id, f"slider {axis} must be a number in [-1, 1], got {number!r}")
        if not -1.0 <= number <= 1.0:  # also refuses NaN, and huge integers that have no float (math.isfinite raises)
            raise AnswerError(item_id, f"slider {axis} must be a number in [-1, 1], got {number!r}")
        coordinates.append(float(number))
    return coordinates[0], coordinates[1]


def _scenario_value(item: ScenarioItem, value: object) -> str:
    keys = [option.key for option in item.options]
    if not isinstance(value, str) or value.strip().upper() not in keys:
        raise AnswerError(item.id, f"choose one of {', '.join(keys)}, got {value!r}")
    return value.strip().upper()


def record(answers: Answers, bank: QuestionBank, item_id: str, value: object) -> None:
    """Validate one answer and store it (`None` records a skip). Raises AnswerError."""
    item = bank.get(item_id)
    if item is None:
        raise AnswerError(item_id, "no such item in the question bank")
    for store in (answers.likert, answers.scenario, answers.slider):
        store.pop(item_id, None)
    answers.skipped.discard(item_id)
    if value is None:
        answers.skipped.add(item_id)
    elif isinstance(item, LikertItem):
        answers.likert[item_id] = _likert_value(item_id, value)
    elif isinstance(item, SliderItem):
        answers.slider[item_id] = _slider_value(item_id, value)
    else:
        answers.scenario[item_id] = _scenario_value(item, value)


def parse_demographics(bank: QuestionBank, raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise AnswerError("demographics", f"must be an object of field -> answer, got {type(raw).__name__}")
    fields = {f.id: f for f in bank.demographics}
    parsed: dict[str, str] = {}
    for key, value in raw.items():
        spec = fields.get(key)
        if spec is None:
            raise AnswerError(str(key), f"no such demographic field; known: {', '.join(fields)}")
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 200:
            raise AnswerError(key, "a demographic answer must be a string of at most 200 characters")
        if spec.kind == "choice" and value not in spec.choices:
            raise AnswerError(key, f"choose one of {list(spec.choices)}, got {value!r}")
        parsed[key] = value
    return parsed


def parse_boundaries(space: ValueSpace, raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(b, str) for b in raw):
        raise AnswerError("boundaries", "must be a list of boundary ids")
    known = {b.id for b in space.boundaries}
    for boundary in raw:
        if boundary not in known:
            raise AnswerError("boundaries", f"unknown boundary {boundary!r}; known: {', '.join(sorted(known))}")
    return sorted(set(raw))


def parse_answers(data: object, bank: QuestionBank, space: ValueSpace) -> Answers:
    """Parse the wire format above. Raises AnswerError naming the first bad item."""
    if not isinstance(data, Mapping) or not isinstance(data.get("answers"), Mapping):
        raise AnswerError("answers", 'expected a JSON object with an "answers" object of item id -> answer')
    version = data.get("space_version")
    if version is not None and version != space.version:
        raise AnswerError("space_version", f"answers are for value space {version!r}; this is {space.version!r}")
    answers = Answers()
    for item_id, value in data["answers"].items():
        record(answers, bank, str(item_id), value)
    answers.demographics = parse_demographics(bank, data.get("demographics"))
    answers.boundaries = parse_boundaries(space, data.get("boundaries"))
    return answers
