"""The terminal questionnaire: a saved session, the interview loop, rich rendering."""
