"""Personalisation: précis, rerank, steering and personal adapters, behind one engine."""

from valueprint.personalize import data  # noqa: F401  (registers the domain's data duties)
