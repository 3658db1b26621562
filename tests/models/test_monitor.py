"""Daily monitoring on real Spark and MLflow: drift only where the day moved, no division by zero on a day
without payments abroad, a rerun replaces the day, and the Airflow verdict."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from model_worlds import COLUMNS, CUTOFF, customer_id, feature_frame, label_rows, to_spark, training_frame

from bantay.features.catalogue import FEATURES
from bantay.jobs import monitor_model
from bantay.models import monitor, ranks, registry, train, training_set

DAY = date(2025, 6, 10)
USD_COLUMNS = sorted(spec.name for spec in FEATURES if spec.unit.startswith("USD"))
P2P_COLUMNS = [spec.name for spec in FEATURES if "p2p" in spec.name]


@pytest.fixture()
def champion(store, fast_training):
    """Version 1 trained on the world with 1,000 ordinary customers (the reference's unlabelled sample)."""
    frame = training_frame(label_rows(), ordinary=1_000)
    train.train_frame(store["settings"], CUTOFF, frame, training_set.catalogue(), fast_training)
    return store


def _write_day(spark, settings, features: pd.DataFrame) -> None:
    """OUT/features/as_of=DAY and OUT/scores/as_of=DAY as the daily steps write them (version 1's scores,
    the top 1% alerted)."""
    booster, version = registry.load_booster(settings, "models:/bantay-ocse/1")
    scores = registry.booster_scores(booster, ranks.as_scored(booster, features))
    ranked = features[["customer_id"]].assign(score=scores).sort_values("score", ascending=False)
    ranked = ranked.assign(rank=np.arange(1, len(ranked) + 1), model_version=version)
    ranked["alert"] = ranked["rank"] <= int(0.01 * len(ranked))
    out = settings.output_root
    to_spark(spark, features).write.mode("overwrite").parquet(str(out / "features" / f"as_of={DAY}"))
    spark.createDataFrame(
        ranked[["customer_id", "score", "rank", "alert", "model_version"]].astype(object).values.tolist(),
        "customer_id string, score double, rank long, alert boolean, model_version string",
    ).write.mode("overwrite").parquet(str(out / "scores" / f"as_of={DAY}"))


def _ordinary(n: int) -> pd.DataFrame:
    return feature_frame((customer_id("ordinary", i), DAY) for i in range(n))


def test_shifted_amounts_raise_drift_on_the_amount_features_only(spark, champion):
    settings = champion["settings"]
    day = _ordinary(2_000)
    day[USD_COLUMNS] = day[USD_COLUMNS] * 3 + 1  # every amount moved; counts, shares and profile did not
    _write_day(spark, settings, day)

    summary = monitor_model.run(settings, DAY)

    features = monitor.feature_history(settings.output_root)
    drifted = sorted(features.loc[features["drifted"], "feature"])
    assert drifted == USD_COLUMNS
    assert features.loc[~features["drifted"], "psi"].max() < settings.monitor_feature_psi_max / 2
    assert summary["status"] == "warning" and summary["features_drifted"] == len(USD_COLUMNS)
    assert summary["reason"].startswith(f"{len(USD_COLUMNS)} feature(s) PSI > 0.25")
    assert summary["scored_share"] == 1.0 and (summary["alerts"], summary["alerts_allowed"]) == (20, 100)
    # The day's MLflow run holds the same numbers as the table.
    run = MlflowClient(settings.tracking_uri).get_run(summary["monitoring_run_id"])
    assert run.data.tags["as_of"] == str(DAY) and run.data.tags["status"] == "warning"
    psi = dict(zip(features["feature"], features["psi"], strict=True))
    assert run.data.metrics["psi_p2p_usd_90d"] == pytest.approx(psi["p2p_usd_90d"])
    assert run.data.metrics["score_psi"] == pytest.approx(summary["score_psi"])

    # A rerun of the day replaces its row and its run.
    again = monitor_model.run(settings, DAY)
    assert list(monitor.history(settings.output_root)["as_of"]) == [str(DAY)]
    # Every model input is monitored (sex and age are in the table but no input).
    assert len(monitor.feature_history(settings.output_root)) == len(training_set.catalogue_columns())
    client = MlflowClient(settings.tracking_uri)
    experiment = client.get_experiment_by_name("bantay-ocse-monitoring").experiment_id
    assert [r.info.run_id for r in client.search_runs([experiment])] == [again["monitoring_run_id"]]
    assert (settings.output_root / "monitoring" / "monitoring_90d.png").read_bytes()[:4] == b"\x89PNG"


def test_a_day_like_the_training_book_shows_no_drift(spark, store, fast_training):
    # Reference = the book as of the training date: the same customers as of that date scored the next day
    # give PSI 0 on every feature and on the score (an unlabelled sample as of past decision dates would not).
    settings = store["settings"]
    day = _ordinary(1_000)
    book = training_set.Book(day[COLUMNS], "feature table")
    frame = training_frame(label_rows(), ordinary=1_000)
    train.train_frame(settings, CUTOFF, frame, training_set.catalogue(), fast_training, book)
    _write_day(spark, settings, day)

    summary = monitor_model.run(settings, DAY)

    features = monitor.feature_history(settings.output_root)
    assert len(features) == len(training_set.catalogue_columns())
    assert features["psi"].max() == pytest.approx(0.0, abs=1e-12)
    assert summary["score_psi"] == pytest.approx(0.0, abs=1e-12)
    assert summary["status"] == "ok" and summary["features_drifted"] == 0


def test_a_day_without_payments_abroad_divides_by_nothing(spark, champion):
    settings = champion["settings"]
    day = _ordinary(300)
    for column in P2P_COLUMNS:  # what the feature table holds when nobody paid abroad
        unit = next(spec.unit for spec in FEATURES if spec.name == column)
        day[column] = 0.0 if unit in ("count", "USD") else None
    _write_day(spark, settings, day)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's divide-by-zero and invalid-value warnings
        summary = monitor_model.run(settings, DAY)

    features = monitor.feature_history(settings.output_root).set_index("feature")
    assert np.isfinite(features["psi"]).all()
    assert features.loc["share_p2p_ph_90d", "null_rate"] == 1.0
    assert features.loc["n_p2p_90d", "null_rate"] == 0.0
    assert summary["alerts"] == 3 and np.isfinite(summary["alert_ratio"])
    assert summary["status"] == "warning" and "null rate moved" in summary["reason"]


def test_scores_of_a_version_the_registry_no_longer_holds_stop_with_one_line(spark, champion):
    from bantay.errors import ModelError

    settings = champion["settings"]
    _write_day(spark, settings, _ordinary(300))
    MlflowClient(tracking_uri=settings.tracking_uri).delete_model_version("bantay-ocse", "1")
    with pytest.raises(ModelError, match="scored by bantay-ocse/1, which the model registry no longer holds"):
        monitor_model.run(settings, DAY)


def test_an_empty_day_and_the_thresholds(champion):
    settings = champion["settings"]
    reference = registry.run_json(settings, registry.alias_version(settings, "challenger").run_id,
                                  registry.REFERENCE_ARTIFACT)
    empty = pd.DataFrame(columns=["column", "bucket", "count"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        summary, table = monitor.summarise(empty, reference, training_set.catalogue_columns(), 0, 0, 0)
    assert np.isnan(summary["score_psi"]) and np.isnan(summary["scored_share"])
    assert summary["alert_ratio"] == 0
    assert monitor.checks(summary, table, settings) == []  # nothing measured, nothing crossed
    crossed = {**summary, "score_psi": 0.4, "alert_ratio": 2.0, "alerts": 8, "alerts_allowed": 4}
    strict = settings.model_copy(update={"monitor_fail_on": ("alert_volume",)})
    status, reason = monitor.verdict(monitor.checks(crossed, table, strict))
    assert status == "failure"
    assert reason == "score PSI 0.400 > 0.25; 8 alerts for 4 allowed (ratio 2.00 > 1.5)"
    assert monitor.verdict(monitor.checks(crossed, table, settings))[0] == "warning"


def test_the_airflow_verdict_is_success_skip_or_failure_with_one_line():
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from bantay.airflow_tasks import monitoring_outcome

    day = {"as_of": "2025-06-10", "model_version": "bantay-ocse/1"}
    assert monitoring_outcome({**day, "status": "ok", "reason": "within every threshold"}) == "ok"
    with pytest.raises(AirflowSkipException, match=r"^warning: monitoring of 2025-06-10 \(bantay-ocse/1\): "
                                                   r"score PSI 0.400 > 0.25$"):
        monitoring_outcome({**day, "status": "warning", "reason": "score PSI 0.400 > 0.25"})
    with pytest.raises(AirflowFailException, match="8 alerts for 4 allowed"):
        monitoring_outcome({**day, "status": "failure", "reason": "8 alerts for 4 allowed"})
