"""Value tokens: signed, verifiable offline, and every tampering refused with a specific error."""

from __future__ import annotations

import json
import os
import stat
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valueprint.bench import forgery
from valueprint.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimsError,
    KeyStoreError,
    MalformedTokenError,
    NotYetValidError,
    TokenError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
    WrongAudienceError,
    WrongIssuerError,
)
from valueprint.tokens.codec import decode_profile, encode_profile
from valueprint.tokens.handle import parse_handle
from valueprint.tokens.jws import TokenVerifier, issue_token, peek_claims
from valueprint.tokens.keys import new_signing_key
from valueprint.values.personas import load_personas
from valueprint.values.profile import ValueProfile

ISSUER, AUDIENCE = "https://values.example", "valueprint"


@pytest.fixture
def profile(space):
    persona = load_personas()[0].as_profile(space)
    return persona.model_copy(update={"boundaries": ("no-profanity", "no-religion")})


def issue(profile, space, key, **overrides):
    arguments = {"issuer": ISSUER, "audience": AUDIENCE, "subject": "p_test", "ttl_seconds": 3600, **overrides}
    return issue_token(profile, space, key, **arguments)


def verifier_for(space, *keys, audience=AUDIENCE, issuer=ISSUER):
    return TokenVerifier({"keys": [k.public_jwk() for k in keys]}, space, issuer=issuer, audience=audience)


@pytest.fixture
def token(profile, space, signing_key):
    return issue(profile, space, signing_key).token


def test_a_token_round_trips_the_profile_boundaries_and_handle(profile, space, signing_key):
    issued = issue(profile, space, signing_key, handle="Orange Eagle river SEVEN")
    verified = verifier_for(space, signing_key).verify(issued.token)
    assert verified.handle == issued.handle == "orange-eagle-river-seven"
    assert verified.subject == "p_test"
    assert verified.kid == signing_key.kid
    assert verified.profile.boundaries == ("no-profanity", "no-religion")
    assert np.allclose(verified.profile.means(space), profile.means(space), atol=0.5 / 127)
    assert np.allclose(verified.profile.sds(space), profile.sds(space), atol=0.5 / 255)


def test_a_token_is_compact_es256_and_under_600_characters(token):
    header = json.loads(forgery.unb64(token.split(".")[0]))
    assert header == {"alg": "ES256", "kid": header["kid"], "typ": "vp+jwt"}
    assert len(token) <= 600
    claims = peek_claims(token)
    assert {"iss", "sub", "aud", "iat", "exp", "jti", "vsv", "vp", "bnd", "hdl"} <= set(claims)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_changing_any_byte_is_refused_with_a_specific_error(token, space, signing_key, data):
    verifier = verifier_for(space, signing_key)
    raw = bytearray(token.encode())
    position = data.draw(st.integers(0, len(raw) - 1))
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]))
    raw[position] = replacement
    with pytest.raises(TokenError) as caught:
        verifier.verify(bytes(raw))
    assert type(caught.value) is not TokenError  # always a specific subclass


@settings(max_examples=300, deadline=None)
@given(garbage=st.one_of(st.text(max_size=700), st.binary(max_size=700), st.none(), st.integers()))
def test_arbitrary_input_is_refused_never_crashes(space, garbage):
    verifier = TokenVerifier({"keys": [new_signing_key().public_jwk()]}, space, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(TokenError):
        verifier.verify(garbage)


@pytest.mark.parametrize("alg", ["none", "HS256", "EdDSA", "RS256", "ES384", "Ed25519", ""])
def test_any_other_algorithm_is_refused(token, space, signing_key, alg):
    """Ed25519 too: a key verifies only its own algorithm (legacy Ed25519 keys only Ed25519 tokens)."""
    header = json.loads(forgery.unb64(token.split(".")[0]))
    with pytest.raises(UnsupportedAlgorithmError, match=r"not accepted|not the algorithm of key"):
        verifier_for(space, signing_key).verify(forgery.with_header(token, {**header, "alg": alg}))


def test_alg_none_and_hmac_with_the_public_key_are_refused(token, space, signing_key):
    verifier = verifier_for(space, signing_key)
    with pytest.raises(UnsupportedAlgorithmError):
        verifier.verify(forgery.alg_none(token))
    with pytest.raises(UnsupportedAlgorithmError):
        verifier.verify(forgery.hmac_with_public_key(token, signing_key.public_jwk()))


def test_changed_claims_break_the_signature(token, space, signing_key):
    with pytest.raises(BadSignatureError, match="altered or forged"):
        verifier_for(space, signing_key).verify(forgery.with_claims(token, vp="AAAA", exp=2**40))


def test_a_token_from_another_key_is_an_unknown_key(profile, space, signing_key):
    stranger = new_signing_key()
    with pytest.raises(UnknownKeyError, match="does not know"):
        verifier_for(space, signing_key).verify(issue(profile, space, stranger).token)


def test_same_kid_but_another_key_is_a_bad_signature(profile, space, signing_key):
    impostor = new_signing_key()
    forged = issue(profile, space, type(signing_key)(signing_key.kid, impostor.key, impostor.created_at)).token
    with pytest.raises(BadSignatureError):
        verifier_for(space, signing_key).verify(forged)


def test_expired_not_yet_valid_wrong_audience_and_issuer(profile, space, signing_key):
    verifier = verifier_for(space, signing_key)
    old = issue(profile, space, signing_key, now=time.time() - 7200).token
    with pytest.raises(ExpiredTokenError, match="re-issue"):
        verifier.verify(old)
    future = issue(profile, space, signing_key, now=time.time() + 7200).token
    with pytest.raises(NotYetValidError):
        verifier.verify(future)
    with pytest.raises(WrongAudienceError):
        verifier_for(space, signing_key, audience="another-app").verify(issue(profile, space, signing_key).token)
    with pytest.raises(WrongIssuerError):
        verifier_for(space, signing_key, issuer="https://evil.example").verify(issue(profile, space, signing_key).token)


def test_a_token_for_another_value_space_is_refused(profile, space, signing_key):
    other_space = space.model_copy(update={"version": "2.0"})
    with pytest.raises(InvalidClaimsError, match="value space"):
        TokenVerifier({"keys": [signing_key.public_jwk()]}, other_space, issuer=ISSUER, audience=AUDIENCE).verify(
            issue(profile, space, signing_key).token
        )


@pytest.mark.parametrize("text", ["", "a.b", "a.b.c.d", "....", "x" * 5000, "é.é.é"])
def test_malformed_shapes_are_malformed(space, signing_key, text):
    with pytest.raises(MalformedTokenError):
        verifier_for(space, signing_key).verify(text)


def test_rotation_keeps_old_tokens_valid_until_the_key_is_retired(profile, space, key_store):
    first = key_store.create()
    old_token = issue(profile, space, key_store.signing_key()).token
    second = key_store.create()
    assert key_store.signing_key().kid == second.kid
    new_token = issue(profile, space, key_store.signing_key()).token
    jwks_verifier = TokenVerifier(key_store.jwks(), space, issuer=ISSUER, audience=AUDIENCE)
    assert jwks_verifier.verify(old_token).kid == first.kid
    assert jwks_verifier.verify(new_token).kid == second.kid
    key_store.retire(first.kid)
    after_retirement = TokenVerifier(key_store.jwks(), space, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(UnknownKeyError):
        after_retirement.verify(old_token)
    assert after_retirement.verify(new_token)


def test_jwks_holds_public_keys_only_and_key_files_are_private(key_store):
    key = key_store.create()
    jwks = key_store.jwks()
    assert jwks == {"keys": [key.public_jwk()]}
    assert "d" not in jwks["keys"][0]
    assert jwks["keys"][0]["alg"] == "ES256" and jwks["keys"][0]["crv"] == "P-256"
    mode = stat.S_IMODE(os.stat(key_store.directory / f"{key.kid}.json").st_mode)
    assert mode == 0o600


def test_a_key_store_without_keys_names_the_fix(key_store):
    with pytest.raises(KeyStoreError, match="valueprint keys new"):
        key_store.signing_key()
    (key_store.directory).mkdir(parents=True)
    (key_store.directory / "broken.json").write_text("{")
    with pytest.raises(KeyStoreError, match="unreadable"):
        key_store.keys()


@given(
    means=st.lists(st.floats(-1, 1), min_size=26, max_size=26),
    sds=st.lists(st.floats(0, 1), min_size=26, max_size=26),
)
def test_profile_codec_round_trips_within_quantisation(space, means, sds):
    profile = ValueProfile.from_arrays(space, np.array(means), np.array(sds))
    decoded = decode_profile(encode_profile(profile, space), space)
    assert np.all(np.abs(decoded.means(space) - profile.means(space)) <= 0.5 / 127 + 1e-9)
    assert np.all(np.abs(decoded.sds(space) - profile.sds(space)) <= 0.5 / 255 + 1e-9)


def test_handles_in_tokens_are_canonical(profile, space, signing_key):
    issued = issue(profile, space, signing_key)
    assert parse_handle(issued.handle) == issued.handle


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"exp": 2**80}, InvalidClaimsError),
        ({"iat": "now"}, InvalidClaimsError),
        ({"bnd": 2**20}, InvalidClaimsError),
        ({"vp": "AAAA"}, InvalidClaimsError),
        ({"hdl": "one two three"}, InvalidClaimsError),
        ({"aud": ["x", "y"]}, WrongAudienceError),
    ],
)
def test_validly_signed_but_ill_formed_claims_are_refused(token, space, signing_key, claims, error):
    """Even the issuer's own key cannot make the verifier accept (or crash on) bad claims."""
    from joserfc import jws

    payload = {**peek_claims(token), **claims}
    header = {"alg": "ES256", "kid": signing_key.kid, "typ": "vp+jwt"}
    signed = jws.serialize_compact(header, json.dumps(payload), signing_key.key, algorithms=["ES256"])
    with pytest.raises(error):
        verifier_for(space, signing_key).verify(signed)


@pytest.mark.parametrize(
    "jwks",
    [
        [],
        {"keys": "none"},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "k"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k"}]},
        {"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "kid": "k"}]},
    ],
)
def test_a_broken_jwks_is_a_key_store_error(space, jwks):
    with pytest.raises(KeyStoreError):
        TokenVerifier(jwks, space, issuer=ISSUER, audience=AUDIENCE)
