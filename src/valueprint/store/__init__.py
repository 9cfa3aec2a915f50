"""Persistence: SQLAlchemy models, migrations (Alembic), encryption of personal data."""
