"""Label Studio's ML backend protocol, answered with valueprint's pre-labels (the mapping; the web layer only
translates HTTP, see `valueprint.web.labelstudio`).

Label Studio (HumanSignal/label-studio-ml-backend, `label_studio_ml/api.py`) calls `POST /setup` with the
project's labelling config (`schema`) and expects `{"model_version"}`; it calls `POST /predict` with
`tasks` (each `{"id", "data": {...}}`) and the `label_config`, and expects `{"results": [...]}`, one
prediction `{"result", "score", "model_version"}` per task, in the tasks' order (Label Studio drops the
whole batch when the count differs).

The config is read for the controls `valueprint annotate label-config` writes (see `labelstudio`): a
`Choices` named `values` (choices `dimension:+` / `dimension:-`), a `Choices` named `acceptability` (the
scale, "clearly wrong" first), optionally `custom` and a `TextArea` named `why`, all pointing at one
`Text` tag whose `value="$field"` names the task field with the text. A config that does not have them
is refused with a message saying what is missing, rather than answered with predictions Label Studio
would silently drop. The config is untrusted input: a DTD or entity declaration is refused before
parsing, and its size is bounded.

Task text is never logged nor stored here: Label Studio holds it (and sanitised it, or not, under its
own rules); the backend only reads it to predict.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from valueprint.annotate.labelstudio import DIRECTIONS, to_results
from valueprint.annotate.prelabel import Prelabeller
from valueprint.annotate.schema import LabelSchema
from valueprint.errors import LabelConfigError

MODEL_CLASS = "ValueprintPrelabeller"
MAX_CONFIG_CHARS = 200_000
MAX_TASKS = 1000
HINT = "use the config `valueprint annotate label-config PROJECT` writes (or GET …/projects/{id}/labelstudio-config)"
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


@dataclass(frozen=True)
class BackendProject:
    """What a Label Studio project's config tells the backend: the label schema and where the text is."""

    schema: LabelSchema
    to_name: str
    text_field: str


def project_id(uid: Any) -> str | None:
    """Label Studio's project uid is `<id>.<created_at timestamp>`; the id part (None when absent)."""
    return str(uid).split(".", 1)[0] if uid not in (None, "") else None


def parse_xml(config: Any) -> ET.Element:
    """The config's root element; LabelConfigError for anything but a bounded, declaration-free XML text."""
    if not isinstance(config, str) or not config.strip():
        raise LabelConfigError(f"the label config is missing; {HINT}")
    if len(config) > MAX_CONFIG_CHARS:
        raise LabelConfigError(f"the label config is longer than {MAX_CONFIG_CHARS} characters")
    if _DECLARATION.search(config):
        raise LabelConfigError("the label config may not declare a DTD or entities")
    try:
        return ET.fromstring(config)
    except ET.ParseError as error:
        raise LabelConfigError(f"the label config is not well-formed XML ({error})") from None


def read_config(config: Any, dimension_ids: Sequence[str]) -> BackendProject:
    """The schema a Label Studio config labels with; LabelConfigError naming the first misfit."""
    root = parse_xml(config)
    controls = {el.get("name"): el for el in root.iter() if el.tag in ("Choices", "TextArea")}
    values, acceptability = controls.get("values"), controls.get("acceptability")
    for name, element in (("values", values), ("acceptability", acceptability)):
        if element is None or element.tag != "Choices":
            raise LabelConfigError(f'the label config has no <Choices name="{name}">; {HINT}')
    to_name = values.get("toName") or ""
    for name, element in controls.items():
        if name in ("values", "acceptability", "custom", "why") and element.get("toName") != to_name:
            raise LabelConfigError(f'<{element.tag} name="{name}"> must point at the same Text tag as "values"')
    texts = [el for el in root.iter("Text") if el.get("name") == to_name]
    field = texts[0].get("value", "") if texts else ""
    if not field.startswith("$") or len(field) < 2:
        raise LabelConfigError(f'the label config has no <Text name="{to_name}" value="$field"> for "values" to label')
    dimensions = _dimensions([c.get("value", "") for c in values.iter("Choice")], dimension_ids)
    scale = tuple(c.get("value", "") for c in acceptability.iter("Choice"))
    custom = controls.get("custom")
    why = controls.get("why")
    try:
        schema = LabelSchema(
            dimensions=dimensions,
            scale=scale,
            why=why is not None and why.tag == "TextArea",
            custom_labels=tuple(c.get("value", "") for c in custom.iter("Choice")) if custom is not None else (),
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise LabelConfigError(f"the label config's {where} does not fit: {first['msg']}") from None
    return BackendProject(schema, to_name, field[1:])


def _dimensions(choices: list[str], dimension_ids: Sequence[str]) -> tuple[str, ...]:
    """The dimensions of `values` choices, in order; each must be offered with both directions."""
    signs: dict[str, set[str]] = {}
    for choice in choices:
        dim, _, sign = choice.rpartition(":")
        if sign not in DIRECTIONS or not dim:
            raise LabelConfigError(f"values choice {choice!r} is not 'dimension:+' or 'dimension:-'; {HINT}")
        if dim not in dimension_ids:
            raise LabelConfigError(f"values choice {choice!r}: {dim!r} is not a value dimension of this server")
        signs.setdefault(dim, set()).add(sign)
    if not signs:
        raise LabelConfigError(f'<Choices name="values"> has no choices; {HINT}')
    for dim, found in signs.items():
        if found != set(DIRECTIONS):
            missing = (set(DIRECTIONS) - found).pop()
            raise LabelConfigError(f"values choice '{dim}:{missing}' is missing (both directions are suggested)")
    return tuple(signs)


def task_texts(tasks: Any, project: BackendProject) -> list[str]:
    """Each task's text; LabelConfigError naming the task (never its text) when its field is missing."""
    if not isinstance(tasks, list):
        raise LabelConfigError("'tasks' must be a list of Label Studio tasks")
    if len(tasks) > MAX_TASKS:
        raise LabelConfigError(f"at most {MAX_TASKS} tasks per request")
    texts = []
    for position, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        text = data.get(project.text_field) if isinstance(data, dict) else None
        if not isinstance(text, str):
            who = task.get("id", position) if isinstance(task, dict) else position
            raise LabelConfigError(f"task {who!r} has no text in data.{project.text_field} (the config's Text value)")
        texts.append(text)
    return texts


def predict(tasks: Any, config: Any, dimension_ids: Sequence[str], prelabeller: Prelabeller) -> list[dict[str, Any]]:
    """Label Studio predictions for the tasks, one per task in order: our suggestion as `choices` results,
    `score` the suggestion's calibrated confidence (the chance that all of it is right)."""
    project = read_config(config, dimension_ids)
    texts = task_texts(tasks, project)
    filled = [i for i, text in enumerate(texts) if text.strip()]
    suggestions = dict(zip(filled, prelabeller.predict([texts[i] for i in filled], project.schema), strict=True))
    out = []
    for i in range(len(texts)):
        suggestion = suggestions.get(i)
        if suggestion is None:  # an empty text: nothing to suggest
            out.append({"result": [], "score": 0.0, "model_version": prelabeller.model_version})
            continue
        results = to_results(suggestion.labels, project.schema, project.to_name)
        out.append({"result": results, "score": suggestion.confidence, "model_version": suggestion.model_version})
    return out
