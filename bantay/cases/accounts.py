"""`bantay users add`: create a workbench user in the case store of the settings."""

from __future__ import annotations

from typing import Any

from bantay.cases import db, users
from bantay.settings import Settings


def add(settings: Settings, username: str, role: str, password: str) -> dict[str, Any]:
    """Create the user; returns its name and role (never the password or its hash)."""
    factory = db.open_store(settings.output_root, settings.case_store_url)
    try:
        with factory.begin() as session:
            user = users.add_user(session, username, password, role)
            made = {"username": user.username, "role": user.role}
    finally:
        factory.kw["bind"].dispose()
    return made
