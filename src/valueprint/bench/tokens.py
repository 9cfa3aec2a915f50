"""Token benchmark: issue and verify throughput, size, and a fuzz run of the verifier."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws

from valueprint.bench import forgery
from valueprint.errors import TokenError
from valueprint.tokens.jws import TOKEN_TYPE, TokenVerifier, issue_token
from valueprint.tokens.keys import ALGORITHM, new_signing_key
from valueprint.values.personas import load_personas
from valueprint.values.space import load_space

ISSUER, AUDIENCE = "https://bench.valueprint.localhost", "valueprint"


def _rate(action: Callable[[], object], seconds: float = 2.0) -> float:
    """Calls per second, best of three timed rounds of about `seconds` / 3 each."""
    rates = []
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            for _ in range(100):
                action()
            calls += 100
        rates.append(calls / elapsed)
    return max(rates)


class SignedHostile(str):
    """A token validly signed by the issuer's key around hostile claims (not a forgery)."""


def _fuzz_case(rng: random.Random, valid: list[str], public_jwk: dict, sign: Callable[[dict], str]) -> object:
    token = rng.choice(valid)
    roll = rng.random()
    if roll < 0.65:
        return forgery.mutate(token, rng)
    if roll < 0.70:
        return SignedHostile(sign(forgery.hostile_claims(token, rng)))
    if roll < 0.80:
        return forgery.random_text(rng)
    if roll < 0.88:
        return forgery.random_json_token(rng)
    if roll < 0.92:
        return forgery.with_claims(token, exp=0, aud="someone-else", vp="AAAA", hdl="not a handle")
    if roll < 0.96:
        return forgery.alg_none(token) if rng.random() < 0.5 else forgery.hmac_with_public_key(token, public_jwk)
    return rng.choice([None, 42, b"\xff\xfe", token.encode(), token + ".", " " + token + "\n"])


def fuzz(
    verifier: TokenVerifier,
    valid: list[str],
    public_jwk: dict,
    sign: Callable[[dict], str],
    inputs: int,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, object]:
    rng = random.Random(20261123)
    codes: Counter[str] = Counter()
    unhandled: Counter[str] = Counter()
    accepted_changed = accepted_signed_hostile = 0
    originals = set(valid)
    for i in range(inputs):
        case = _fuzz_case(rng, valid, public_jwk, sign)
        try:
            verifier.verify(case)
        except TokenError as error:
            codes[error.code] += 1
        except Exception as error:
            unhandled[type(error).__name__] += 1
        else:
            text = case.decode() if isinstance(case, bytes) else str(case)
            if isinstance(case, SignedHostile):
                accepted_signed_hostile += 1
            elif text.strip() not in originals:
                accepted_changed += 1
            else:
                codes["accepted_unchanged"] += 1
        if on_progress and i % 1000 == 999:
            on_progress(i + 1)
    return {
        "fuzz_inputs": inputs,
        "fuzz_unhandled": sum(unhandled.values()),
        "fuzz_unhandled_types": dict(unhandled),
        "fuzz_changed_tokens_accepted": accepted_changed,
        "fuzz_signed_hostile_accepted": accepted_signed_hostile,
        "fuzz_refusals_by_reason": dict(sorted(codes.items())),
    }


def run(fuzz_inputs: int = 100_000, on_progress: Callable[[int], None] | None = None) -> dict[str, object]:
    space = load_space()
    key = new_signing_key()
    profiles = [p.as_profile(space) for p in load_personas()]
    worst = profiles[0].model_copy(update={"boundaries": tuple(b.id for b in space.boundaries)})

    def issue(profile: object = profiles[0]) -> str:
        return issue_token(
            profile,
            space,
            key,
            issuer=ISSUER,
            audience=AUDIENCE,
            subject="p_benchmark00000000",
            ttl_seconds=86400 * 365,
        ).token

    verifier = TokenVerifier({"keys": [key.public_jwk()]}, space, issuer=ISSUER, audience=AUDIENCE)
    valid = [issue(p) for p in profiles]
    token = valid[0]
    verify_rate = _rate(lambda: verifier.verify(token))

    raw_key = ec.generate_private_key(ec.SECP256R1())  # the bare ES256 check, for the overhead of ours
    signing_input = token.rsplit(".", 1)[0].encode()
    signature = raw_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    raw_rate = _rate(lambda: raw_key.public_key().verify(signature, signing_input, ec.ECDSA(hashes.SHA256())))
    figures: dict[str, object] = {
        "issue_per_s": round(_rate(issue)),
        "verify_per_s": round(verify_rate),
        "raw_es256_verify_per_s": round(raw_rate),
        "verify_vs_raw_es256": round(verify_rate / raw_rate, 3),
        "token_chars": max(len(t) for t in valid),
        "token_chars_all_boundaries": len(issue(worst)),
        "token_chars_median": int(statistics.median(len(t) for t in valid)),
    }

    def sign(claims: dict) -> str:
        header = {"alg": ALGORITHM, "kid": key.kid, "typ": TOKEN_TYPE}
        return jws.serialize_compact(header, json.dumps(claims), key.key, algorithms=[ALGORITHM])

    figures.update(fuzz(verifier, valid, key.public_jwk(), sign, fuzz_inputs, on_progress))
    return figures
