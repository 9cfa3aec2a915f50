"""Value tokens: signed JWTs (ES256) carrying a quantised profile, four-word handles, keys."""
