"""Open the case store: the URL from the settings (or SQLite under the output root), migrated to head.

`BANTAY_CASE_STORE_URL` (or the `case_store_url` setting) names a PostgreSQL database in production, e.g.
`postgresql+psycopg2://bantay@db.internal/bantay_cases`; without it the store is
OUT/workbench/cases.sqlite, owner-only.
"""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bantay.cases.errors import CaseStoreError
from bantay.io import catalogue, files

logger = logging.getLogger(__name__)

URL_ENV = "BANTAY_CASE_STORE_URL"


def default_path(output_root: Path) -> Path:
    """Where the SQLite case store lives under an output root: in the catalogue's `workbench` folder."""
    return catalogue.path(output_root, "workbench") / "cases.sqlite"


def store_url(output_root: Path, url: str | None = None) -> str:
    """The case store's URL: `url`, then BANTAY_CASE_STORE_URL, then SQLite under `output_root`."""
    chosen = url or os.environ.get(URL_ENV)
    if chosen:
        return chosen
    path = default_path(output_root).resolve()
    files.private_dir(path.parent)
    files.private_file(path)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # the web app reads while the draft job writes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def engine_for(url: str) -> Engine:
    """A SQLAlchemy engine for `url` (SQLite gets foreign keys on and WAL)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Run the shipped Alembic migrations up to head on `engine` (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("bantay.cases").joinpath("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(output_root: Path, url: str | None = None) -> sessionmaker[Session]:
    """A session factory on the migrated case store."""
    chosen = store_url(output_root, url)
    engine = engine_for(chosen)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        raise CaseStoreError(
            f"case store {engine.url.render_as_string(hide_password=True)}: cannot migrate "
            f"({type(error).__name__}); check {URL_ENV}"
        ) from None
    return sessionmaker(engine, expire_on_commit=False)
