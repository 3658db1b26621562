"""Alembic environment: run on the connection `bantay.cases.db.upgrade` hands over (never from a .ini)."""

from __future__ import annotations

from alembic import context

from bantay.cases.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
