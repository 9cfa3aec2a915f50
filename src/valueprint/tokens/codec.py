"""The compact encoding of a profile inside a token (claim `vp`).

`vp` = base64url(int8[d] means ‖ uint8[d] SDs), dimensions in value-space order:
mean m ∈ [-1, 1] is stored as round(127·m), SD s ∈ [0, 1] as round(255·s). The
quantisation error is at most 0.004 on a mean and 0.002 on an SD, far below any
profile's own uncertainty, and keeps a 26-dimension token well under 600 characters.
"""

from __future__ import annotations

import base64
import binascii

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


def decode_profile(
    encoded: str, space: ValueSpace, boundaries: tuple[str, ...] = ()
) -> ValueProfile:
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
    return ValueProfile.from_arrays(space, means, sds, boundaries=boundaries)
