"""The case store: cases that live across days, their evidence, decisions, four-eyes approval and audit trail.

A real database through SQLAlchemy 2 (SQLite under the output root by default, PostgreSQL in production),
its schema made by the Alembic migrations shipped in `bantay.cases.migrations`.
"""
