"""The token registry: issued tokens, handles, registered apps, consent, audited reads."""

from valueprint.registry import data  # noqa: F401  (registers the domain's data duties)
