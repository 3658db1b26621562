"""A migrated case store on SQLite and on PostgreSQL (127.0.0.1:5432), each test its own database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cases_support import postgres_database
from sqlalchemy.orm import Session, sessionmaker

from bantay.cases import db


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield db.store_url(tmp_path / "out")
    else:
        yield from postgres_database()


@pytest.fixture()
def factory(store_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    made = db.open_store(tmp_path / "out", store_url)
    yield made
    made.kw["bind"].dispose()
