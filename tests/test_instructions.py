"""The person's own custom instructions: read and edit them (API and result page), carried by the
token as claim `ins`, shared with apps that may read every value group, used by the précis strategy."""

from __future__ import annotations

import base64
import json
import re

import jwt
import numpy as np
import pytest

from tests.test_api import answer_until_done
from valueprint.errors import InvalidClaimsError
from valueprint.personalize.strategies import Context, parse_strategies
from valueprint.tokens.jws import MAX_TOKEN_CHARS, TokenVerifier, issue_token, peek_claims
from valueprint.values.precis import MAX_INSTRUCTIONS_CHARS, precis
from valueprint.values.profile import ValueProfile

OWN = "When I ask for advice, think of my two kids first. Be blunt with me; I'd rather hear it straight."
ALL_SCOPES = ["schwartz", "moral", "politics", "behaviour", "boundaries"]


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def person(participant_client):
    """A participant who answered the questionnaire and holds a token."""
    answer_until_done(participant_client, limit=40)
    participant_client.post("/v1/me/token")
    return participant_client


def test_get_put_delete_my_instructions(person, services) -> None:
    first = person.get("/v1/me/instructions").json()
    assert first["edited"] is False and first["text"] == first["generated"] and first["max_chars"] == 1200
    assert first["generated"] == person.get("/v1/me/profile").json()["precis"]

    saved = person.put("/v1/me/instructions", json={"text": f"  {OWN}\r\n"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["text"] == OWN and body["edited"] is True and body["generated"] == first["generated"]
    assert peek_claims(body["token"])["ins"] == OWN  # re-issued to carry the text
    assert person.get("/v1/me/instructions").json()["text"] == OWN
    assert person.get("/v1/me/export").json()["custom_instructions"]["text"] == OWN

    reset = person.delete("/v1/me/instructions").json()
    assert reset["edited"] is False and reset["text"] == first["generated"]
    assert "ins" not in peek_claims(reset["token"])
    tokens = person.get("/v1/me/tokens").json()
    assert sum(not t["revoked"] for t in tokens) == 1 and len(tokens) == 3


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (MAX_INSTRUCTIONS_CHARS + 1), "half a pair \ud800"])
def test_empty_or_too_long_instructions_are_refused(person, text) -> None:
    body = json.dumps({"text": text})  # ASCII JSON: a lone surrogate travels as an escape
    response = person.put("/v1/me/instructions", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert "error" in response.json()
    assert person.get("/v1/me/instructions").json()["edited"] is False


def test_instructions_need_a_signed_in_person_and_csrf(client) -> None:
    assert client.get("/v1/me/instructions").status_code == 401
    started = client.post("/v1/participants", json={"consent": True}).json()
    assert client.put("/v1/me/instructions", json={"text": OWN}).status_code == 403  # no CSRF header
    client.headers["X-CSRF-Token"] = started["csrf_token"]
    assert client.put("/v1/me/instructions", json={"text": OWN}).status_code == 200


def test_the_result_page_shows_edits_and_resets_the_text(client) -> None:
    token = csrf(client.get("/").text)
    client.post("/start", data={"csrf_token": token, "consent": "yes"})
    page = client.get("/result").text
    generated = re.search(r'<textarea id="instructions-text"[^>]*>([^<]*)</textarea>', page).group(1)
    assert 'maxlength="1200"' in page and "Reset to the generated text" not in page and generated.strip()

    refused = client.post("/result/instructions", data={"text": OWN})
    assert refused.status_code == 403  # CSRF like every other form
    saved = client.post("/result/instructions", data={"csrf_token": csrf(page), "text": OWN + "<script>x</script>"})
    assert saved.status_code == 200  # redirected back to the page
    page = client.get("/result").text
    assert "I&#39;d rather hear it straight." in page and "<script>x" not in page
    assert "Reset to the generated text" in page and "re-issued" in saved.text

    client.post("/result/instructions/reset", data={"csrf_token": csrf(page)})
    page = client.get("/result").text
    assert "Reset to the generated text" not in page and "hear it straight" not in page


def test_the_token_carries_ins_and_any_jose_verifier_reads_it(person, services) -> None:
    issued = person.put("/v1/me/instructions", json={"text": OWN + " Ça va — 家族 🙂"}).json()
    token = issued["token"]
    assert len(token) < MAX_TOKEN_CHARS
    # The registry's verifier (joserfc) ...
    verified = services.registry.verifier().verify(token)
    assert verified.instructions == OWN + " Ça va — 家族 🙂"
    # ... and PyJWT with the published JWKS, as any app does it.
    kid = jwt.get_unverified_header(token)["kid"]
    jwks = jwt.PyJWKSet.from_dict(person.get("/.well-known/jwks.json").json())
    claims = jwt.decode(token, jwks[kid], algorithms=["ES256"], audience=services.settings.audience)
    assert claims["ins"] == OWN + " Ça va — 家族 🙂" and {"vp", "bnd", "hdl"} <= set(claims)


def test_the_longest_text_in_any_script_fits_a_token(space, signing_key) -> None:
    profile = ValueProfile.from_arrays(space, np.zeros(space.size), np.full(space.size, 0.5))
    verifier = TokenVerifier({"keys": [signing_key.public_jwk()]}, space, issuer="https://x", audience="vp")
    for text in ("🙂" * MAX_INSTRUCTIONS_CHARS, '"\\' * (MAX_INSTRUCTIONS_CHARS // 2), "家" * MAX_INSTRUCTIONS_CHARS):
        issued = issue_token(
            profile,
            space,
            signing_key,
            issuer="https://x",
            audience="vp",
            subject="p",
            ttl_seconds=60,
            instructions=text,
        )
        assert len(issued.token) <= MAX_TOKEN_CHARS
        assert verifier.verify(issued.token).instructions == text


def test_a_token_without_edited_text_has_no_ins_claim(person) -> None:
    token = person.post("/v1/me/token").json()["token"]
    assert "ins" not in peek_claims(token)


def test_a_token_with_ill_formed_ins_is_refused(space, signing_key) -> None:
    from joserfc import jws

    claims = peek_claims(
        issue_token(
            ValueProfile.from_arrays(space, np.zeros(space.size), np.full(space.size, 0.5)),
            space,
            signing_key,
            issuer="https://x",
            audience="vp",
            subject="p",
            ttl_seconds=60,
        ).token
    )
    verifier = TokenVerifier({"keys": [signing_key.public_jwk()]}, space, issuer="https://x", audience="vp")
    for bad in (7, ["x"], "x" * (MAX_INSTRUCTIONS_CHARS + 1)):
        header = {"alg": "ES256", "kid": signing_key.kid, "typ": "vp+jwt"}
        token = jws.serialize_compact(header, json.dumps({**claims, "ins": bad}), signing_key.key, algorithms=["ES256"])
        with pytest.raises(InvalidClaimsError, match="ins"):
            verifier.verify(token)


def test_a_stale_token_is_flagged_until_it_carries_the_text(person, services) -> None:
    participant_id = person.participant["participant_id"]
    person.put("/v1/me/instructions", json={"text": OWN})
    profile = services.accounts.profile(participant_id)
    assert not services.registry.current_token_state(participant_id, profile, OWN).stale
    assert services.registry.current_token_state(participant_id, profile, None).stale


def test_only_an_app_allowed_every_value_group_reads_the_text(person, services) -> None:
    person.put("/v1/me/instructions", json={"text": OWN})
    token = services.registry.token_text(services.registry.current_token(person.participant["participant_id"]))
    hdl = peek_claims(token)["hdl"]
    everything = services.registry.register_app("All of it", ALL_SCOPES)
    some = services.registry.register_app("Some of it", ALL_SCOPES)
    person.put(f"/v1/me/consents/{everything.id}", json={"scopes": ["schwartz", "moral", "politics", "behaviour"]})
    person.put(f"/v1/me/consents/{some.id}", json={"scopes": ["schwartz", "behaviour", "boundaries"]})
    for app, expected in ((everything, OWN), (some, None)):
        headers = {"Authorization": f"Bearer {app.api_key}"}
        reads = [
            person.get(f"/v1/tokens/{hdl}", headers=headers).json(),
            person.get(f"/v1/tokens/{hdl}/precis", headers=headers).json(),
            person.post("/v1/tokens/verify", json={"token": token}, headers=headers).json(),
        ]
        for read in reads:
            assert read["instructions"] == expected, (app.name, read)
            assert read["precis"] and read["precis"] != OWN  # the generated précis stays beside it


def test_the_precis_strategy_uses_the_persons_own_text(space) -> None:
    means = np.zeros(space.size)
    means[space.index("tradition")] = 0.9
    profile = ValueProfile.from_arrays(space, means, np.full(space.size, 0.1))
    (strategy,) = parse_strategies("precis")
    question = [{"role": "system", "content": "You are Ada."}, {"role": "user", "content": "Should I move abroad?"}]

    own = Context(profile=profile, space=space, instructions=OWN)
    prepared = strategy.prepare(question, own)
    assert prepared[0] == {"role": "system", "content": OWN + "\n\nYou are Ada."} and own.notes["precis"] == OWN

    generated = Context(profile=profile, space=space)
    prepared = strategy.prepare(question, generated)
    assert prepared[0]["content"].startswith(precis(profile, space)) and OWN not in prepared[0]["content"]


def test_try_it_answers_with_the_persons_own_text(space) -> None:
    from valueprint.personalize.engine import Completion, Engine
    from valueprint.personalize.trial import answer_twice

    seen: list[list[dict]] = []

    class Recording(Engine):
        def complete(self, messages, sampling, strategies, context):  # no model: record the prepared prompt
            for strategy in strategies:
                messages = strategy.prepare(messages, context)
            seen.append(messages)
            return Completion("ok", "m", 1, 1, [s.name for s in strategies])

    class Personalizer:
        def engine(self):
            return Recording(space, upstream=object())

    profile = ValueProfile.from_arrays(space, np.zeros(space.size), np.full(space.size, 0.1))
    answer_twice(Personalizer(), profile, "Should I move abroad?", "precis", 8, instructions=OWN)
    assert seen[0] == [{"role": "user", "content": "Should I move abroad?"}]  # the plain model: no précis
    assert seen[1][0] == {"role": "system", "content": OWN}


def test_saving_or_resetting_instructions_names_the_apps_whose_copy_stops_working(person, services) -> None:
    app = services.registry.register_app("Acme assistant", ALL_SCOPES)
    person.put(f"/v1/me/consents/{app.id}", json={"scopes": ALL_SCOPES})
    token = person.post("/v1/me/token").json()["token"]
    headers = {"Authorization": f"Bearer {app.api_key}"}
    assert person.post("/v1/tokens/verify", json={"token": token}, headers=headers).status_code == 200
    saved = person.put("/v1/me/instructions", json={"text": OWN}).json()
    assert saved["superseded_copies"] == ["Acme assistant"]
    assert person.delete("/v1/me/instructions").json()["superseded_copies"] == [], "nobody checked the new one"
    page = person.get("/result").text
    reset = person.post("/result/instructions/reset", data={"csrf_token": csrf(page)}, follow_redirects=True)
    assert "Acme assistant" not in reset.text
    person.post("/v1/tokens/verify", json={"token": saved["token"]}, headers=headers)
    current = person.post("/v1/me/token").json()["token"]
    person.post("/v1/tokens/verify", json={"token": current}, headers=headers)
    edited = person.post("/result/instructions", data={"csrf_token": csrf(page), "text": OWN}, follow_redirects=True)
    assert "need the new one (or your handle): Acme assistant" in edited.text
