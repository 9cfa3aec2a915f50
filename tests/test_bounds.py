"""Inputs the server refuses before they cost anything: out-of-range numbers, oversized headers,
and error messages that never show the server's folders."""

from __future__ import annotations

import time

import pytest

from tests.test_api import app_headers, app_key  # noqa: F401  (fixture)
from valueprint.personalize.adapters import ADAPTER_CONFIG


def test_a_huge_chat_seed_is_refused_at_once(client, app_key) -> None:  # noqa: F811
    started = time.monotonic()
    body = {"messages": [{"role": "user", "content": "hi"}], "seed": 10**30}
    refused = client.post("/v1/chat/completions", json=body, headers=app_headers(app_key))
    assert refused.status_code == 422 and "seed" in refused.json()["error"]["message"]
    assert time.monotonic() - started < 5, "refused by the schema, before any model runs"


@pytest.mark.parametrize(
    "raw",
    [
        '{"value": {"x": 1' + "0" * 400 + ', "y": 0}}',  # an integer no float can hold
        '{"value": {"x": NaN, "y": 0}}',
        '{"value": {"x": Infinity, "y": 0}}',
        '{"value": 1' + "0" * 400 + "}",
        '{"value": -1e308}',
    ],
)
def test_answers_with_absurd_numbers_are_refused_not_crashed_on(participant_client, raw) -> None:
    item = participant_client.get("/v1/questionnaire/next").json()["item"]
    response = participant_client.put(
        f"/v1/answers/{item['id']}", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text


def test_a_slider_number_past_every_float_is_an_answer_error() -> None:
    from valueprint.errors import AnswerError
    from valueprint.values.answers import _slider_value

    with pytest.raises(AnswerError, match=r"\[-1, 1\]"):
        _slider_value("political-slider", {"x": 10**400, "y": 0})


def test_an_error_never_echoes_unbounded_input(participant_client) -> None:
    refused = participant_client.put(f"/v1/answers/{'x' * 5000}", json={"value": 3})
    assert refused.status_code == 422
    assert len(refused.json()["error"]["message"]) < 200 and "…" in refused.json()["error"]["message"]


def test_headers_over_the_limit_get_431(client) -> None:
    assert client.get("/v1/health", headers={"X-Padding": "a" * 1000}).status_code == 200
    refused = client.get("/v1/health", headers={"X-Padding": "a" * 20_000})
    assert refused.status_code == 431 and refused.json()["error"]["code"] == "headers_too_large"


def test_an_unreadable_adapter_is_reported_without_the_servers_path(participant_client, services) -> None:
    folder = services.personalizer.adapters.person(participant_client.participant["participant_id"])
    folder.mkdir(parents=True)
    (folder / ADAPTER_CONFIG).write_text("{}")  # an adapter whose description is missing
    response = participant_client.get("/v1/me/adapter")
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert str(services.settings.data_dir.resolve()) not in message and "/" not in message


def numbers_without_bounds(schema: dict, components: dict, where: str, seen: set[str]) -> list[str]:
    """Paths of integer/number schemas (reached from `schema`) lacking a lower or an upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return numbers_without_bounds(components[name], components, f"{where}<{name}>", seen | {name})
    found = []
    if schema.get("type") in ("integer", "number"):
        low = "minimum" in schema or "exclusiveMinimum" in schema
        high = "maximum" in schema or "exclusiveMaximum" in schema
        if not (low and high):
            found.append(where)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for i, option in enumerate(schema.get(key, [])):
            found += numbers_without_bounds(option, components, f"{where}|{i}", seen)
    for name, option in schema.get("properties", {}).items():
        found += numbers_without_bounds(option, components, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += numbers_without_bounds(schema[key], components, f"{where}[]", seen)
    return found


def test_every_number_a_request_may_carry_is_bounded(web_app) -> None:
    document = web_app.openapi()
    components = document.get("components", {}).get("schemas", {})
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                unbounded += numbers_without_bounds(parameter["schema"], components, f"{method} {path} ?", set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += numbers_without_bounds(content["schema"], components, f"{method} {path} body", set())
    assert unbounded == []
