"""Property-based fuzzing of the whole HTTP API from its OpenAPI document (Schemathesis).

Every operation is called with requests generated from the schema, authenticated as a
signed-in participant (session cookie + CSRF header) and as a registered app (API
key), so the fuzzing reaches past the authentication checks. The check: no request
ever makes the server fail (no 5xx). Schemathesis' own pytest plugin does not run
under pytest 9, so its public strategy API is driven with Hypothesis directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from valueprint.settings import Settings
from valueprint.web.app import create_app

EXAMPLES_PER_OPERATION = 30
CHAT_EXAMPLES = 10  # each may run the language model (capped at 4 tokens here)
MODEL_PATHS = {"/v1/chat/completions", "/v1/me/picks"}


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory, smollm2_dir):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"), environment="test", model_dir=smollm2_dir, chat_max_tokens=4
    )
    app = create_app(settings)
    services = app.state.services
    key = services.registry.register_app("Fuzzer", ["schwartz", "moral", "politics", "behaviour", "boundaries"]).api_key
    with TestClient(app) as client:
        started = client.post("/v1/participants", json={"consent": True}).json()
        cookie = client.cookies.get("vp_session")
    headers = {
        "X-CSRF-Token": started["csrf_token"],
        "Authorization": f"Bearer {key}",
        "Cookie": f"vp_session={cookie}",
    }
    return schemathesis.openapi.from_asgi("/openapi.json", app), headers


def fuzz_runner(operation, auth: dict[str, str]):
    """A Hypothesis test calling `operation` with generated requests."""
    keeps_session_alive = operation.method.upper() == "DELETE" and operation.path in {"/v1/me", "/v1/session"}

    examples = CHAT_EXAMPLES if operation.path in MODEL_PATHS else EXAMPLES_PER_OPERATION

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        headers = {**auth, **(case.headers or {})}
        if keeps_session_alive:
            headers.pop("Cookie")  # the fuzzed participant must survive for the other operations
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    return run


@pytest.mark.slow
def test_no_generated_request_makes_the_server_fail(fuzzed_api):
    schema, auth = fuzzed_api
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fuzz_runner(operation, auth)()
    assert len(operations) >= 20
