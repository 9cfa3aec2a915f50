"""Ways to attack a value token, for the fuzz benchmark and the tests.

Each function returns a string an attacker could send; the verifier must refuse
every one with a specific TokenError.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_header(token: str, header: dict) -> str:
    """Replace the protected header, keeping payload and signature."""
    _, payload, signature = token.split(".")
    return f"{b64(json.dumps(header).encode())}.{payload}.{signature}"


def alg_none(token: str) -> str:
    """The classic `alg: none` downgrade: unsigned, empty signature."""
    header = json.loads(unb64(token.split(".")[0]))
    return with_header(token, {**header, "alg": "none"}).rsplit(".", 1)[0] + "."


def hmac_with_public_key(token: str, public_jwk: dict) -> str:
    """Algorithm confusion: sign with HS256 using the issuer's public key as the HMAC secret."""
    header = json.loads(unb64(token.split(".")[0]))
    forged_header = b64(json.dumps({**header, "alg": "HS256"}).encode())
    payload = token.split(".")[1]
    signing_input = f"{forged_header}.{payload}".encode()
    secret = unb64(public_jwk["x"])
    return f"{forged_header}.{payload}.{b64(hmac.new(secret, signing_input, hashlib.sha256).digest())}"


def with_claims(token: str, **changes: object) -> str:
    """Change payload claims without re-signing (the signature must then fail)."""
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    claims.update(changes)
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def mutate(token: str, rng: random.Random) -> str:
    """A random small edit: replace, insert or delete characters, or swap parts."""
    chars = list(token)
    kind = rng.randrange(6)
    position = rng.randrange(len(chars))
    if kind == 0:
        chars[position] = rng.choice(ALPHABET.replace(chars[position], ""))
    elif kind == 1:
        chars.insert(position, rng.choice(ALPHABET + ".=+/ "))
    elif kind == 2:
        del chars[position]
    elif kind == 3:
        chars[position] = chr(rng.randrange(0, 0x3000))
    elif kind == 4:
        return token[: rng.randrange(len(token))]
    else:
        parts = token.split(".")
        rng.shuffle(parts)
        return ".".join(parts)
    return "".join(chars)


def random_text(rng: random.Random) -> str:
    length = rng.choice([0, 1, 5, 40, 300, 600, 5000])
    pool = rng.choice([ALPHABET + ".", ALPHABET, "".join(map(chr, range(32, 127))), "."])
    return "".join(rng.choice(pool) for _ in range(length))


def random_json_token(rng: random.Random) -> str:
    """Well-formed base64url JSON parts with hostile contents."""
    headers = [
        {"alg": "ES256"},
        {"alg": "ES256", "kid": 5},
        {"alg": ["ES256"]},
        {"alg": "Ed25519", "kid": "k"},
        [],
        "x",
        None,
        {"alg": "EdDSA", "kid": "k"},
        {"alg": "ES256", "kid": "k", "crit": ["b64"], "b64": False},
    ]
    payloads = [{}, [], "s", 1e308, {"exp": "tomorrow"}, {"vp": None}, {"aud": {"x": 1}}, {"a": [[[[[]]]]]}]
    header, payload = rng.choice(headers), rng.choice(payloads)
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(rng.randbytes(64))}"


def hostile_claims(token: str, rng: random.Random) -> dict:
    """The token's claims with one or two replaced by hostile values (to be signed validly)."""
    claims = json.loads(unb64(token.split(".")[1]))
    hostile = {
        "exp": [0, -1, "never", 2**80, None, 1.5],
        "iat": [2**40, "now", None, True],
        "aud": ["other", ["x", "y"], {"a": 1}, None, 7],
        "iss": ["https://evil.example", 3, None],
        "vsv": ["0.1", "", None, 1.0],
        "vp": ["", "AAAA", "!!!!", "_" * 70, None, 12],
        "bnd": [-1, 2**20, "no-profanity", [0], None, 1.5, True],
        "hdl": ["", "one two three", "orange-eagle-river-xyzzy", None],
        "sub": [None, 5, ["p"]],
        "jti": [None, {}],
    }
    for name in rng.sample(sorted(hostile), rng.choice([1, 2])):
        value = rng.choice(hostile[name])
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims
