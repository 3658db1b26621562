"""Paths and names shared by the Airflow tests (a module of its own: every test folder has a `conftest`)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
SPARK_POOL = "bantay_spark"
