"""Errors and headers: server-side failures say nothing about the server, logs carry no handles."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from valueprint.errors import ConfigError, EvaluatorError, KeyStoreError
from valueprint.web import errors
from valueprint.web.headers import SecurityHeaders


@pytest.fixture
def failing_client():
    app = FastAPI()
    app.add_middleware(SecurityHeaders)
    errors.install(app)

    @app.get("/v1/tokens/{handle}")
    def broken(handle: str) -> None:
        raise KeyStoreError("cannot read /srv/secret/keys/signing.jwk")

    @app.get("/v1/evaluate")
    def evaluator_missing() -> None:
        raise EvaluatorError("no evaluator artefact at /opt/models")

    @app.get("/v1/config")
    def misconfigured() -> None:
        raise ConfigError("VALUEPRINT_DATA_KEY must decode to 32 bytes")

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("path", ["/v1/tokens/orange-eagle-river-seven", "/v1/evaluate", "/v1/config"])
def test_server_side_failures_are_a_generic_500(failing_client, path, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="valueprint.web"):
        response = failing_client.get(path)
    assert response.status_code == 500
    body = response.json()["error"]
    assert "/srv" not in body["message"] and "/opt" not in body["message"] and "DATA_KEY" not in body["message"]
    assert "nothing you sent was lost" in body["message"]
    assert "orange-eagle" not in caplog.text


def test_the_log_names_the_route_template_not_the_handle(failing_client, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="valueprint.web"):
        failing_client.get("/v1/tokens/orange-eagle-river-seven")
    assert "/v1/tokens/{handle}" in caplog.text


def test_api_responses_are_never_cached(client) -> None:
    response = client.get("/v1/health")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_error_pages_carry_the_content_security_policy(client) -> None:
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_static_files_may_be_cached(client) -> None:
    response = client.get("/static/app.js")
    assert response.status_code == 200 and "cache-control" not in response.headers
