"""The OpenAPI document describes every response: a schema for each body, and the one error format."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/openapi.json").json()


def operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_response_body_has_a_schema(openapi) -> None:
    missing = [
        f"{name} {status} {media}"
        for name, operation in operations(openapi)
        for status, response in operation["responses"].items()
        for media, content in response.get("content", {}).items()
        if media == "application/json" and not content.get("schema")
    ]
    assert missing == []


def test_every_success_has_a_body_schema_or_no_body(openapi) -> None:
    for name, operation in operations(openapi):
        successes = {status: r for status, r in operation["responses"].items() if status.startswith("2")}
        assert successes, name
        for status, response in successes.items():
            assert status == "204" or response.get("content"), f"{name} {status} has no declared body"


def test_errors_are_declared_in_the_api_s_own_format(openapi) -> None:
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["ErrorResponse"]["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    for name, operation in operations(openapi):
        for status in ("4XX", "5XX"):
            ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorResponse"), name


def test_domain_models_describe_the_main_responses(openapi) -> None:
    def schema_of(path: str, method: str, status: str) -> str:
        content = openapi["paths"][path][method]["responses"][status]["content"]["application/json"]
        return content["schema"].get("$ref", "") or str(content["schema"])

    assert schema_of("/v1/questionnaire/next", "get", "200").endswith("/NextStep")
    assert schema_of("/v1/me/profile", "get", "200").endswith("/ResultView")
    assert schema_of("/v1/me/token", "post", "201").endswith("/IssuedTokenView")
    assert schema_of("/v1/tokens/{handle}", "get", "200").endswith("/ScopedView")
    assert schema_of("/v1/chat/completions", "post", "200").endswith("/ChatCompletion")


def test_docs_page_loads_swagger_ui_from_this_server_only(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") for source in sources), sources  # no CDN, no external URL
    assert "<script>" not in page.text  # no inline script: the CSP holds
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert 'data-openapi-url="/openapi.json"' in page.text
