"""Participants: pseudonymous accounts, answers, personal data, export and deletion."""
