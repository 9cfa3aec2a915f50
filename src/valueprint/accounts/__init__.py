"""Participants: pseudonymous accounts, answers, personal data, export and deletion."""

from valueprint.accounts import data  # noqa: F401  (registers the domain's data duties)
