"""Errors carry their HTTP status and code on the class; a new error is a server-side 500 until it says otherwise."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from valueprint import errors
from valueprint.errors import ClientError, ValueprintError
from valueprint.web import errors as web_errors

# The statuses and codes the API has always answered with (the contract of this module's tree).
EXPECTED = [
    (errors.RateLimitedError("slow down", 2.0), 429, "rate_limited"),
    (errors.AuthError("x"), 401, "unauthenticated"),
    (errors.ForbiddenError("x"), 403, "forbidden"),
    (errors.NotFoundError("x"), 404, "not_found"),
    (errors.AnswerError("q1", "x"), 422, "invalid_answer"),
    (errors.AdapterError("x"), 422, "adapter_unavailable"),
    (errors.ConflictError("x"), 409, "conflict"),
    (errors.ConfigError("x"), 500, "server_misconfigured"),
    (errors.MissingDependencyError("x"), 500, "server_misconfigured"),
    (errors.KeyStoreError("x"), 500, "server_error"),
    (errors.CatalogueError("x"), 500, "server_error"),
    (errors.ProfileError("x"), 500, "server_error"),
    (errors.EvaluatorError("x"), 500, "server_error"),
    (errors.DatasetError("x"), 500, "server_error"),
    (errors.EndpointError("x"), 502, "upstream_failed"),
    (errors.EndpointUnreachableError("x"), 502, "upstream_failed"),
    (errors.TokenError("x"), 401, "token_invalid_token"),
    (errors.RevokedTokenError("x"), 401, "token_revoked"),
    (errors.MalformedTokenError("x"), 401, "token_malformed"),
    (errors.StrategyError("x"), 400, "bad_request"),
    (errors.HandleError("x"), 400, "bad_request"),
    (errors.BadRequestError("x"), 400, "bad_request"),
]


def every_error_class() -> list[type[ValueprintError]]:
    found, pending = [], [ValueprintError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__]


@pytest.mark.parametrize(("error", "status", "code"), EXPECTED, ids=lambda v: type(v).__name__)
def test_each_error_answers_with_its_status_and_code(error, status, code) -> None:
    assert web_errors.classify(error) == (status, code)
    assert error.exposed == (status < 500)


def test_the_tree_at_the_top_of_errors_names_every_error() -> None:
    missing = [cls.__name__ for cls in every_error_class() if f"── {cls.__name__} " not in errors.__doc__]
    assert missing == [] or missing == ["ValueprintError"], missing


def test_token_errors_keep_their_reason_in_code() -> None:
    assert errors.ExpiredTokenError.code == "expired" and errors.ExpiredTokenError.error_code == "token_expired"


def test_only_a_rate_limit_and_an_unavailable_database_send_retry_after() -> None:
    assert errors.RateLimitedError("slow down", 2.4).http_headers() == {"Retry-After": "2"}
    assert errors.UnavailableError().http_headers() == {"Retry-After": "2"}
    assert errors.NotFoundError("x").http_headers() is None


def test_an_unreachable_database_is_a_503_that_says_to_retry_and_names_nothing_of_the_server(caplog) -> None:
    """The one 5xx shown to the caller: its message is a fixed sentence, never the driver's text."""
    from sqlalchemy.exc import OperationalError

    from valueprint.store.db import Database

    app = FastAPI()
    web_errors.install(app)
    db = Database("sqlite://")
    secret = 'connection to server at "10.1.2.3", port 5432 failed: password authentication for user "vp"'

    @app.get("/v1/inside")
    def inside() -> None:
        with db.session():
            raise OperationalError("SELECT 1", {}, Exception(secret))

    @app.get("/v1/outside")
    def outside() -> None:
        raise OperationalError("SELECT 1", {}, Exception(secret))

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.WARNING):
        for path in ("/v1/inside", "/v1/outside"):
            response = client.get(path)
            assert response.status_code == 503 and response.headers["retry-after"] == "2"
            assert response.json()["error"]["code"] == "unavailable"
            assert "again" in response.json()["error"]["message"] and "10.1.2.3" not in response.text
    assert "10.1.2.3" in caplog.text, "the log keeps the cause"


def test_a_new_error_without_a_base_of_its_own_is_a_generic_500_that_leaks_nothing(caplog) -> None:
    class NewDomainError(ValueprintError):
        pass

    class NewCallerError(ClientError):
        pass

    app = FastAPI()
    web_errors.install(app)

    @app.get("/v1/server")
    def server() -> None:
        raise NewDomainError("cannot open /srv/judge/weights.bin")

    @app.get("/v1/caller")
    def caller() -> None:
        raise NewCallerError("send a prompt of at most 200 characters")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="valueprint.web"):
        server_side = client.get("/v1/server")
    assert server_side.status_code == 500 and server_side.json()["error"]["code"] == "server_error"
    assert "/srv" not in server_side.text and "/srv/judge" in caplog.text
    caller_side = client.get("/v1/caller")
    assert caller_side.status_code == 400
    assert caller_side.json()["error"] == {"code": "bad_request", "message": "send a prompt of at most 200 characters"}
