"""Fixtures of the model tests (the helpers live in `model_worlds`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from model_worlds import (
    customer_id,
    fake_features_for_points,
    fake_p2p_counts_at,
    label_rows,
    write_validated,
)
from pyspark.sql import SparkSession

from bantay import settings as settings_module
from bantay.models import train


@pytest.fixture()
def store(tmp_path: Path, mlflow_uri: str) -> dict[str, Any]:
    """Settings on a tmp output root with a fresh MLflow SQLite store; no ledger data."""
    out = tmp_path / "out"
    settings = settings_module.load(output_root=out, ledger_root=tmp_path / "ledger", min_alert_score=0.2,
                                    alert_budget=0.05)
    return {"settings": settings, "out": out, "tmp": tmp_path, "labels": label_rows()}


@pytest.fixture()
def fast_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Few boosting rounds, the features job replaced by the world's feature function (and counts)."""
    monkeypatch.setattr(train, "features_for_points", fake_features_for_points)
    monkeypatch.setattr(train, "p2p_counts_at", fake_p2p_counts_at)
    monkeypatch.setattr(train, "MAX_ROUNDS", 40)
    monkeypatch.setattr(train, "EARLY_STOPPING_ROUNDS", 10)


@pytest.fixture()
def world(spark: SparkSession, store: dict[str, Any], fast_training: None) -> dict[str, Any]:
    """`store` plus a validated layer: labels (30 payers, 30 look-alikes) and 120 ordinary customers."""
    ordinary = [customer_id("ordinary", n) for n in range(120)]
    population = ordinary + sorted({row[0] for row in store["labels"]})
    write_validated(spark, store["out"], store["labels"], population)
    return {**store, "population": population}
