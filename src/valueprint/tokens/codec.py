"""The compact encoding of a profile inside a token (claim `vp`).

`vp` = base64url(int8[d] means ‖ uint8[d] SDs), dimensions in value-space order:
mean m ∈ [-1, 1] is stored as round(127·m), SD s ∈ [0, 1] as round(255·s). The
quantisation error is at most 0.004 on a mean and 0.002 on an SD, far below any
profile's own uncertainty, and keeps a 26-dimension token well under 600 characters.

`bnd` = the person's boundaries as a bit mask over the value space's boundary list
(bit i set = the i-th boundary of that space version), so boundaries add at most a
few characters to the token.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from valueprint.errors import InvalidClaimsError
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

MEAN_SCALE = 127
SD_SCALE = 255


def encode_profile(profile: ValueProfile, space: ValueSpace) -> str:
    means = np.round(profile.means(space) * MEAN_SCALE).astype(np.int8)
    sds = np.round(profile.sds(space) * SD_SCALE).astype(np.uint8)
    return base64.urlsafe_b64encode(means.tobytes() + sds.tobytes()).rstrip(b"=").decode("ascii")


def decode_vectors(encoded: str, space: ValueSpace) -> tuple[np.ndarray, np.ndarray]:
    """The (means, SDs) arrays held by a `vp` claim; raises InvalidClaimsError."""
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidClaimsError(f"claim 'vp' is not base64url: {error}") from error
    if len(raw) != 2 * space.size:
        raise InvalidClaimsError(
            f"claim 'vp' holds {len(raw)} bytes; value space {space.version} needs {2 * space.size}"
        )
    means = np.frombuffer(raw[: space.size], dtype=np.int8).astype(float) / MEAN_SCALE
    sds = np.frombuffer(raw[space.size :], dtype=np.uint8).astype(float) / SD_SCALE
    if np.any(np.abs(means) > 1.0):
        raise InvalidClaimsError("claim 'vp' holds a mean outside [-1, 1]")
    return means, sds


def decode_profile(encoded: str, space: ValueSpace, boundaries: tuple[str, ...] = ()) -> ValueProfile:
    means, sds = decode_vectors(encoded, space)
    return ValueProfile.from_arrays(space, means, sds, boundaries=boundaries)


def encode_boundaries(boundaries: tuple[str, ...], space: ValueSpace) -> int:
    positions = {b.id: i for i, b in enumerate(space.boundaries)}
    return sum(1 << positions[b] for b in boundaries if b in positions)


def decode_boundaries(mask: object, space: ValueSpace) -> tuple[str, ...]:
    if isinstance(mask, bool) or not isinstance(mask, int) or not 0 <= mask < 1 << len(space.boundaries):
        raise InvalidClaimsError(
            f"claim 'bnd' must be a bit mask of the {len(space.boundaries)} boundaries of space {space.version}"
        )
    return tuple(sorted(b.id for i, b in enumerate(space.boundaries) if mask >> i & 1))


def carries(claims: dict[str, Any], profile: ValueProfile, space: ValueSpace, instructions: str | None = None) -> bool:
    """Whether a token's claims carry this profile, its boundaries and the person's own custom
    instructions (claim `ins`, absent when None) (False: the token is stale and a re-issue would
    hand out the person's current values)."""
    return (
        claims.get("vp") == encode_profile(profile, space)
        and claims.get("bnd") == encode_boundaries(profile.boundaries, space)
        and claims.get("ins") == instructions
    )


def vp_format(space: ValueSpace) -> dict[str, Any]:
    """The readable description of `vp` and `bnd` for this value space (served beside the JWKS
    at /.well-known/vp-format.json), enough for an app to decode a token in any language."""
    return {
        "space_version": space.version,
        "vp": {
            "encoding": "base64url without padding of int8[d] means followed by uint8[d] SDs",
            "mean": f"signed byte b: mean = b / {MEAN_SCALE}, in [-1, 1] (-1 = the dimension's low pole)",
            "sd": f"unsigned byte b: SD = b / {SD_SCALE}, in [0, 1] (1 = nothing known)",
            "dimensions": [
                {"index": i, "id": d.id, "group": d.group, "label": d.label, "low": d.low, "high": d.high}
                for i, d in enumerate(space.dimensions)
            ],
        },
        "bnd": {
            "encoding": "integer bit mask: bit i set = boundary i holds",
            "boundaries": [{"bit": i, "id": b.id, "text": b.text} for i, b in enumerate(space.boundaries)],
        },
    }


def decode_readable(claims: dict[str, Any], space: ValueSpace) -> dict[str, Any]:
    """A token's `vp` and `bnd` claims as JSON an app can read: {dimension id: {mean, sd}} and
    the boundary ids (what /.well-known/vp-format.json describes)."""
    means, sds = decode_vectors(claims.get("vp", ""), space)
    return {
        "dimensions": {
            d.id: {"mean": round(float(m), 4), "sd": round(float(s), 4)}
            for d, m, s in zip(space.dimensions, means, sds, strict=True)
        },
        "boundaries": list(decode_boundaries(claims.get("bnd", 0), space)),
    }
