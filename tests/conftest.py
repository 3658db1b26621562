"""Shared fixtures: one real local Spark session for the whole test run, and a throw-away MLflow store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

os.environ.setdefault("BANTAY_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A real local Spark session: 2 cores, 2 shuffle partitions, UTC, as in production but small."""
    os.environ["SPARK_TESTING"] = "1"
    from bantay import settings as settings_module
    from bantay import spark as spark_module

    session = spark_module.session(
        settings_module.load(spark_master="local[2]", spark_shuffle_partitions=2, spark_driver_memory="2g"),
        app_name="bantay-tests",
    )
    yield session
    session.stop()


@pytest.fixture()
def mlflow_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point MLflow at a fresh SQLite store in the test's temporary folder."""
    uri = f"sqlite:///{tmp_path / 'mlruns.sqlite'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri
