"""Our labels as Label Studio results and back (pure), and the labelling config that reads them.

A unit's labels are `{"values": {dim: 1 | -1}, "acceptability": index | None, "why": str | None,
"custom": [label, ...]}`. In Label Studio they are `choices` results on the control tags `values`
(choices such as `care:+` and `care:-`), `acceptability` (the scale's words) and `custom`, and a
`textarea` result `why`, all pointing at the `Text` tag `text`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from valueprint.annotate.schema import LabelSchema, check_labels
from valueprint.errors import LabelError

TO_NAME = "text"
DIRECTIONS = {"+": 1, "-": -1}


def _choices(name: str, choices: list[str], kind: str = "choices", to_name: str = TO_NAME) -> dict[str, Any]:
    value = {"text": choices} if kind == "textarea" else {"choices": choices}
    return {"from_name": name, "to_name": to_name, "type": kind, "value": value}


def to_results(labels: dict[str, Any], schema: LabelSchema, to_name: str = TO_NAME) -> list[dict[str, Any]]:
    """Label Studio results for our labels, on the controls pointing at the Text tag `to_name`."""
    results = []
    if labels.get("values"):
        signs = {1: "+", -1: "-"}
        chosen = [f"{dim}:{signs[d]}" for dim, d in sorted(labels["values"].items())]
        results.append(_choices("values", chosen, to_name=to_name))
    if labels.get("acceptability") is not None:
        results.append(_choices("acceptability", [schema.scale[labels["acceptability"]]], to_name=to_name))
    if labels.get("custom"):
        results.append(_choices("custom", list(labels["custom"]), to_name=to_name))
    if labels.get("why"):
        results.append(_choices("why", [labels["why"]], "textarea", to_name))
    return results


def from_results(result: Any, schema: LabelSchema) -> dict[str, Any]:
    """Labels from Label Studio results, checked against the schema; LabelError saying what does not fit."""
    if not isinstance(result, list):
        raise LabelError("'result' must be a list of Label Studio results")
    values: dict[str, Any] = {}
    acceptability, custom, why = None, [], None
    for item in result:
        name = item.get("from_name") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, dict):
            raise LabelError(f"a result without a 'value' object (from_name {name!r})")
        if name == "values":
            values.update(_value_choice(choice) for choice in value.get("choices", []))
        elif name == "acceptability":
            acceptability = _scale_index(value.get("choices", []), schema)
        elif name == "custom":
            custom = list(value.get("choices", []))
        elif name == "why":
            why = "\n".join(value.get("text", [])) or None
        else:
            raise LabelError(f"from_name {name!r} is not in this project's schema (values, acceptability, custom, why)")
    values, acceptability, custom, why = check_labels(schema, values, acceptability, custom, why)
    return {"values": values, "acceptability": acceptability, "why": why, "custom": custom}


def _value_choice(choice: Any) -> tuple[str, int]:
    dim, _, sign = str(choice).rpartition(":")
    if sign not in DIRECTIONS or not dim:
        raise LabelError(f"value choice {choice!r} is not 'dimension:+' or 'dimension:-'")
    return dim, DIRECTIONS[sign]


def _scale_index(choices: list[Any], schema: LabelSchema) -> int:
    if len(choices) != 1 or choices[0] not in schema.scale:
        raise LabelError(f"acceptability {choices!r} is not one of {list(schema.scale)}")
    return schema.scale.index(choices[0])


def label_config(schema: LabelSchema) -> str:
    """The Label Studio labelling config (XML) for a project with this schema."""
    values = "".join(f'<Choice value="{escape(dim)}:{sign}"/>' for dim in schema.dimensions for sign in ("+", "-"))
    scale = "".join(f'<Choice value="{escape(word)}"/>' for word in schema.scale)
    parts = [
        f'<Text name="{TO_NAME}" value="$text"/>',
        f'<Choices name="values" toName="{TO_NAME}" choice="multiple">{values}</Choices>',
        f'<Choices name="acceptability" toName="{TO_NAME}" choice="single">{scale}</Choices>',
    ]
    if schema.custom_labels:
        custom = "".join(f'<Choice value="{escape(label)}"/>' for label in schema.custom_labels)
        parts.append(f'<Choices name="custom" toName="{TO_NAME}" choice="multiple">{custom}</Choices>')
    if schema.why:
        parts.append(f'<TextArea name="why" toName="{TO_NAME}"/>')
    return f"<View>{''.join(parts)}</View>"
