"""Drafts and stores for the case store and workbench tests.

`draft_c1.json` is the draft the real draft job (`jobs/draft_cases.py` on tests/sar's hand-made world) wrote
for customer c1 on 2025-03-01; the tests copy it for other customers and days.
"""

from __future__ import annotations

import copy
import json
import socket
import uuid
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bantay.io import catalogue, files
from bantay.sar import build

HERE = Path(__file__).resolve().parent
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PASSWORD = "correct horse battery"


@cache
def _base_draft() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / "draft_c1.json").read_text(encoding="utf-8"))
    return loaded


def draft(customer_id: str, as_of: date, full_name: str | None = None, score: float = 0.9) -> dict[str, Any]:
    """c1's draft, re-keyed to `customer_id` and `as_of` (case id as the draft job makes it)."""
    made = copy.deepcopy(_base_draft())
    made["case_id"] = build.case_id(customer_id, as_of)
    made["as_of"] = as_of.isoformat()
    made["subject"]["customer_id"] = customer_id
    made["model"]["score"] = score
    if full_name is not None:
        made["subject"]["full_name"] = full_name
    return made


def write_day(out: Path, as_of: date, drafts: list[dict[str, Any]]) -> Path:
    """OUT/cases/as_of=D with one CASE_ID/draft.json per draft, as the draft job lays it out."""
    folder = catalogue.partition(out, "cases", as_of)
    for made in drafts:
        files.write_private(folder / made["case_id"] / "draft.json", json.dumps(made))
    return folder


def postgres_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


def _admin():  # type: ignore[no-untyped-def]
    import psycopg2

    for dbname in ("postgres", "test"):
        try:
            connection = psycopg2.connect(
                host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, connect_timeout=5
            )
        except psycopg2.OperationalError:
            continue
        connection.autocommit = True
        return connection
    raise AssertionError(f"PostgreSQL on {PG_HOST}:{PG_PORT} answers but refuses user {PG_USER}")


def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database's URL, dropped afterwards; skipped, saying so, when no server answers."""
    if not postgres_answers():
        pytest.skip(f"no PostgreSQL server answers on {PG_HOST}:{PG_PORT}")
    name = f"bantay_cases_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
