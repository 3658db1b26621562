"""Production set-up fixtures: a fresh PostgreSQL database per test, and background services stopped after it.

The PostgreSQL tests need a server on 127.0.0.1:5432 that accepts user `postgres` without a password (trust
auth, as in CI); they skip, saying so, only when nothing answers there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from production_support import Services, fresh_database, running_services


@pytest.fixture()
def postgres_db() -> Iterator[str]:
    """Name of a fresh, empty database, dropped (with any connection left open to it) after the test."""
    yield from fresh_database()


@pytest.fixture()
def services(tmp_path: Path) -> Iterator[Services]:
    """Start background processes through this; all of them are stopped when the test ends."""
    yield from running_services(tmp_path)
