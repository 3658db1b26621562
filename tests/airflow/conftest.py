"""Airflow fixtures: a throw-away AIRFLOW_HOME with a SQLite metadata DB, migrated once per test session.

Airflow reads its configuration when it is first imported, so the environment is set here, when pytest loads
this file, before any test imports `airflow`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from airflow_support import DAGS, SPARK_POOL

_HOME = Path(tempfile.mkdtemp(prefix="bantay-airflow-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """AIRFLOW_HOME with a migrated metadata DB and the `bantay_spark` pool (1 slot); removed at exit."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.upgradedb()
    Pool.create_or_update_pool(SPARK_POOL, slots=1, description="Bantay Spark jobs", include_deferred=False)
    return _HOME
