"""Any JOSE library verifies our tokens offline with the published JWKS and its default settings:
PyJWT, joserfc and the npm `jose` library; the `vp` claim reads as documented JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet, OKPKey

from valueprint.errors import InvalidClaimsError
from valueprint.tokens.codec import decode_readable, vp_format
from valueprint.tokens.jws import TokenVerifier, issue_token
from valueprint.tokens.keys import KeyStore, SigningKey
from valueprint.values.personas import load_personas

ROOT = Path(__file__).resolve().parents[1]
ISSUER, AUDIENCE = "https://values.example", "valueprint"


@pytest.fixture
def profile(space):
    return load_personas()[0].as_profile(space).model_copy(update={"boundaries": ("no-profanity",)})


@pytest.fixture
def token(profile, space, signing_key) -> str:
    return issue_token(
        profile, space, signing_key, issuer=ISSUER, audience=AUDIENCE, subject="p_test", ttl_seconds=3600
    ).token


@pytest.fixture
def jwks(key_store: KeyStore, signing_key) -> dict:
    return key_store.jwks()


def test_pyjwt_verifies_a_token_with_the_jwks(token, jwks, signing_key):
    keys = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, keys[kid], algorithms=[keys[kid].algorithm_name], audience=AUDIENCE, issuer=ISSUER)
    assert kid == signing_key.kid and claims["sub"] == "p_test"


def test_joserfc_verifies_a_token_with_its_default_algorithms(token, jwks):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "not recommended" / deprecation warning either
        decoded = joserfc_jwt.decode(token, KeySet.import_key_set(jwks))
    assert decoded.claims["aud"] == AUDIENCE


def _node_jose() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are expected (scripts/system-deps.sh installs them from Debian)")
    subprocess.run(["bash", str(ROOT / "scripts" / "node-deps.sh")], check=True, timeout=300)
    return ROOT / ".node"


NODE_VERIFY = """
import { createLocalJWKSet, jwtVerify } from 'jose';
const [jwks, token, issuer, audience] = process.argv.slice(1);
const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(JSON.parse(jwks)), { issuer, audience });
console.log(JSON.stringify({ alg: protectedHeader.alg, sub: payload.sub }));
"""


def test_npm_jose_verifies_a_token_with_the_jwks(token, jwks):
    node_dir = _node_jose()
    run = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_VERIFY, json.dumps(jwks), token, ISSUER, AUDIENCE],
        cwd=node_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"alg": "ES256", "sub": "p_test"}


def test_npm_jose_refuses_an_altered_token(token, jwks):
    node_dir = _node_jose()
    header, payload, signature = token.split(".")
    altered = f"{header}.{payload[:-2]}AA.{signature}"
    run = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_VERIFY, json.dumps(jwks), altered, ISSUER, AUDIENCE],
        cwd=node_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0


def test_tokens_issued_before_es256_still_verify_here(profile, space, key_store, tmp_path):
    """An installation upgraded from Ed25519: its old key keeps verifying the old tokens (alg
    `Ed25519`), is published with that alg, and the next issue rotates to an ES256 key."""
    legacy = SigningKey(kid="legacyed25519key", key=OKPKey.generate_key("Ed25519"), created_at=datetime.now(UTC))
    key_store._write(legacy)
    old = issue_token(profile, space, legacy, issuer=ISSUER, audience=AUDIENCE, subject="p_old", ttl_seconds=60)
    assert jwt.get_unverified_header(old.token)["alg"] == "Ed25519"
    new_key = key_store.ensure_signing_key()
    assert new_key.kid != legacy.kid and new_key.algorithm == "ES256"
    published = key_store.jwks()
    assert {k["alg"] for k in published["keys"]} == {"Ed25519", "ES256"}
    verifier = TokenVerifier(published, space, issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(old.token).subject == "p_old"
    # PyJWT and joserfc still verify new tokens against the mixed JWKS
    token = issue_token(profile, space, new_key, issuer=ISSUER, audience=AUDIENCE, subject="p", ttl_seconds=60).token
    assert joserfc_jwt.decode(token, KeySet.import_key_set(published)).claims["sub"] == "p"
    assert jwt.decode(token, jwt.PyJWKSet.from_dict(published)[new_key.kid], algorithms=["ES256"], audience=AUDIENCE)


def test_vp_reads_as_the_documented_json(token, space, profile):
    claims = jwt.decode(token, options={"verify_signature": False})
    readable = decode_readable(claims, space)
    document = vp_format(space)
    order = [d["id"] for d in document["vp"]["dimensions"]]
    assert list(readable["dimensions"]) == order == list(space.ids)
    for dim_id, score in readable["dimensions"].items():
        assert score["mean"] == pytest.approx(profile.scores[dim_id].mean, abs=0.5 / 127 + 1e-4)
        assert score["sd"] == pytest.approx(profile.scores[dim_id].sd, abs=0.5 / 255 + 1e-4)
    assert readable["boundaries"] == ["no-profanity"]
    bits = {b["id"]: b["bit"] for b in document["bnd"]["boundaries"]}
    assert claims["bnd"] == 1 << bits["no-profanity"]


def test_the_format_document_is_served_beside_the_jwks(client, space, web_settings):
    response = client.get("/.well-known/vp-format.json")
    assert response.status_code == 200
    issuer = {"issuer": web_settings.issuer, "audience": web_settings.audience}
    assert response.json() == json.loads(json.dumps(issuer | vp_format(space)))
    assert client.get("/.well-known/jwks.json").json()["keys"][0]["alg"] == "ES256"


def test_the_readmes_pyjwt_example_verifies_a_token_from_a_running_server(web_app, participant_client):
    from tests.conftest import live_server

    readme = (ROOT / "README.md").read_text()
    example = readme.split("```python\nimport jwt  # PyJWT", 1)[1].split("```", 1)[0]
    participant_client.get("/v1/questionnaire/next")
    token = participant_client.post("/v1/me/token").json()["token"]
    with live_server(web_app) as base_url:
        scope = {"token": token}
        exec("import jwt  # PyJWT" + example.replace("http://127.0.0.1:8000", base_url), scope)
    assert scope["claims"]["vp"] and scope["claims"]["iss"] == scope["fmt"]["issuer"]


@settings(max_examples=300, deadline=None)
@given(vp=st.text(max_size=120), bnd=st.one_of(st.integers(-5, 2**20), st.text(max_size=5), st.none()))
def test_reading_any_vp_gives_the_documented_ranges_or_a_claims_error(space, vp, bnd):
    try:
        readable = decode_readable({"vp": vp, "bnd": bnd}, space)
    except InvalidClaimsError:
        return
    assert list(readable["dimensions"]) == list(space.ids)
    assert all(-1 <= s["mean"] <= 1 and 0 <= s["sd"] <= 1 for s in readable["dimensions"].values())
    assert set(readable["boundaries"]) <= {b.id for b in space.boundaries}
