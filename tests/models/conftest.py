"""Fixtures of the model tests (the helpers live in `model_worlds`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bantay.models import train
from model_worlds import customer_id, fake_features_for_points, label_rows, write_validated
from pyspark.sql import SparkSession

from bantay import settings as settings_module


@pytest.fixture()
def world(spark: SparkSession, tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Settings on a tmp output root with labels (30 payers, 30 look-alikes) and 120 ordinary customers."""
    out = tmp_path / "out"
    labels = label_rows()
    ordinary = [customer_id("ordinary", n) for n in range(120)]
    population = ordinary + sorted({row[0] for row in labels})
    write_validated(spark, out, labels, population)
    monkeypatch.setattr(train, "features_for_points", fake_features_for_points)
    monkeypatch.setattr(train, "MAX_ROUNDS", 40)
    monkeypatch.setattr(train, "EARLY_STOPPING_ROUNDS", 10)
    settings = settings_module.load(output_root=out, ledger_root=tmp_path / "ledger", min_alert_score=0.2,
                                    alert_budget=0.05)
    return {"settings": settings, "out": out, "labels": labels, "population": population, "tmp": tmp_path}


