"""MLflow's local store under the output root is owner-only: it holds labels, typologies, age and sex."""

from __future__ import annotations

import stat
from pathlib import Path

import mlflow
import pytest

from bantay import settings
from bantay.models import registry


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_local_store_and_artifacts_are_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = settings.load(output_root=tmp_path / "out")
    experiment = registry.ensure_experiment(config)
    with mlflow.start_run(experiment_id=experiment):
        mlflow.log_text("label,typology\n1,ocse_payer\n", "evaluation/labels.csv")
    registry.private_store(config)
    folder = tmp_path / "out" / "mlflow"
    assert _mode(folder) == 0o700
    assert _mode(folder / "mlflow.db") == 0o600
    paths = list(folder.rglob("*"))
    assert any(p.name == "labels.csv" for p in paths)
    for path in paths:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
