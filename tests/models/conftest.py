"""Fixtures of the model tests (the helpers live in `model_worlds`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from model_worlds import WorldStore, customer_id, label_rows, write_validated
from pyspark.sql import SparkSession

from bantay import settings as settings_module
from bantay.models.recipe import RECIPE, Recipe


@pytest.fixture()
def store(tmp_path: Path, mlflow_uri: str) -> dict[str, Any]:
    """Settings on a tmp output root with a fresh MLflow SQLite store; no ledger data."""
    out = tmp_path / "out"
    settings = settings_module.load(output_root=out, ledger_root=tmp_path / "ledger", min_alert_score=0.2,
                                    alert_budget=0.05)
    return {"settings": settings, "out": out, "tmp": tmp_path, "labels": label_rows()}


@pytest.fixture()
def fast_training() -> Recipe:
    """A recipe of few boosting rounds."""
    return replace(RECIPE, max_rounds=40, early_stopping_rounds=10)


@pytest.fixture()
def world(spark: SparkSession, store: dict[str, Any], fast_training: Recipe) -> dict[str, Any]:
    """`store` plus a validated layer: labels (30 payers, 30 look-alikes) and 120 ordinary customers; the
    fast recipe as `recipe`, the world's features as `features` (a `WorldStore`, passed to training)."""
    ordinary = [customer_id("ordinary", n) for n in range(120)]
    population = ordinary + sorted({row[0] for row in store["labels"]})
    write_validated(spark, store["out"], store["labels"], population)
    return {**store, "population": population, "recipe": fast_training, "features": WorldStore()}
