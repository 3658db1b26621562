"""MLflow with a PostgreSQL backend store, as a bank would deploy it: a run, a registered model, an alias."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from production_support import PG_HOST, PG_PORT, PG_USER, query

pytestmark = pytest.mark.postgres


@pytest.fixture()
def postgres_tracking(postgres_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """MLflow pointed at the fresh database; the previous tracking URI comes back afterwards."""
    import mlflow

    # SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3; the lock holds psycopg2, so name the driver.
    uri = f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{postgres_db}"
    previous, previous_registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    # Earlier tests in the same process may have set a registry URI globally (bantay.models.registry does).
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(previous)
        mlflow.set_registry_uri(previous_registry)


def test_mlflow_postgres_registers_a_model_and_resolves_its_alias(
    postgres_tracking: str, postgres_db: str, tmp_path: Path
) -> None:
    import mlflow
    import xgboost as xgb
    from mlflow.tracking import MlflowClient

    # A 2-feature model whose scores rise with the first feature: 20 rows, 4 positives.
    features = np.array([[i / 20, (i % 3) / 3] for i in range(20)], dtype="float64")
    labels = (features[:, 0] >= 0.8).astype("int64")
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2, "seed": 7},
        xgb.DMatrix(features, label=labels, feature_names=["f0", "f1"]),
        num_boost_round=5,
    )

    client = MlflowClient(tracking_uri=postgres_tracking, registry_uri=postgres_tracking)
    experiment_id = client.create_experiment("bantay-postgres", artifact_location=(tmp_path / "art").as_uri())
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_param("max_depth", 2)
        mlflow.log_metric("pr_auc", 0.75)
        info = mlflow.xgboost.log_model(booster, name="model", registered_model_name="bantay-ocse-pg")
    version = str(info.registered_model_version)
    client.set_registered_model_alias("bantay-ocse-pg", "champion", version)

    assert version == "1"
    assert str(client.get_model_version_by_alias("bantay-ocse-pg", "champion").version) == "1"
    assert client.get_run(run.info.run_id).data.metrics == {"pr_auc": 0.75}
    assert client.get_run(run.info.run_id).data.params == {"max_depth": "2"}
    loaded = mlflow.xgboost.load_model("models:/bantay-ocse-pg@champion")
    expected = booster.predict(xgb.DMatrix(features, feature_names=["f0", "f1"]))
    assert np.allclose(loaded.predict(xgb.DMatrix(features, feature_names=["f0", "f1"])), expected)
    # The store really is the PostgreSQL database, not a local fallback.
    assert query(postgres_db, "SELECT name FROM registered_models") == [("bantay-ocse-pg",)]
    assert query(postgres_db, "SELECT alias, version FROM registered_model_aliases") == [("champion", 1)]
