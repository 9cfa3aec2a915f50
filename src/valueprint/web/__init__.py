"""The web app and HTTP API (FastAPI): participant UI, JSON API under /v1, admin dashboard."""
