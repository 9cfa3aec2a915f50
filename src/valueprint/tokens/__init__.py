"""Value tokens: signed JWS (Ed25519) carrying a quantised profile, four-word handles, keys."""
