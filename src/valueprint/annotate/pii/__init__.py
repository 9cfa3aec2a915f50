"""Recognisers of personal data for the sanitiser: Presidio patterns (offline) and a person-name head."""
