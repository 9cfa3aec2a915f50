"""The token registry: issued tokens, handles, registered apps, consent, audited reads."""
