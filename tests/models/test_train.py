"""Training: point-in-time training set, time split, MLflow run and registration, no personal data."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.tracking import MlflowClient
from model_worlds import CUTOFF, PAYING_FROM, customer_id, write_validated

from bantay.models import distributed, evaluate, registry, train


def test_labelled_points_keeps_the_latest_label_decided_before_the_cutoff(spark):
    labels = spark.createDataFrame(
        [
            ("a", 0, datetime(2025, 3, 1, 9), "cleared"),      # superseded by the confirmation below
            ("a", 1, datetime(2025, 4, 2, 15), "ocse_payer"),  # latest before the cut-off: kept, on 04-02
            ("b", 1, datetime(2025, 5, 31, 23, 59), "ocse_payer"),  # the last minute before the cut-off: kept
            ("c", 1, datetime(2025, 6, 1, 0, 0), "ocse_payer"),  # decided at the cut-off: never used
            ("d", 0, datetime(2025, 5, 1), None),                # no typology: "cleared"
        ],
        "customer_id string, label int, decided_at timestamp, typology string",
    )
    rows = sorted(tuple(r) for r in train.labelled_points(labels, CUTOFF).collect())
    assert rows == [
        ("a", date(2025, 4, 2), 1, "ocse_payer"),
        ("b", date(2025, 5, 31), 1, "ocse_payer"),
        ("d", date(2025, 5, 1), 0, "cleared"),
    ]


def test_training_table_never_sees_a_label_decided_after_the_cutoff(spark, world):
    late = customer_id("payer", 99)
    labels = [*world["labels"], (late, 1, datetime(2025, 6, 2, 8), "ocse_payer")]
    write_validated(spark, world["out"], labels, [*world["population"], late])
    frame = train.training_table(spark, world["settings"], CUTOFF, train.catalogue_columns())
    decisions = frame[frame["lead_days"] == 0]
    assert int(decisions["label"].sum()) == 30  # the 30 payers decided before the cut-off, not the late one
    assert frame.loc[frame["customer_id"] == late, "label"].tolist() in ([], [0])
    labelled = decisions[decisions["typology"] != evaluate.UNLABELLED]
    assert len(labelled) == 60
    # Each labelled row carries the features of its own decision date, never a later one.
    decided = {c: d.date() for c, _, d, _ in labels}
    assert all(row.as_of == row.decided_on == decided[row.customer_id] for row in labelled.itertuples())
    assert (frame["as_of"] < CUTOFF).all() and (frame["decided_on"] < CUTOFF).all()
    # Lead points: every confirmed customer again every LEAD_DAYS before its decision, label 1, as of the
    # earlier date, where it already paid abroad (from PAYING_FROM in this world: 2 payments in 90 days
    # before it, under LEAD_MIN_P2P); none for cleared customers.
    leads = frame[frame["lead_days"] > 0]
    payers = {c for c, label, when, _ in labels if label == 1 and when.date() < CUTOFF}
    wanted = sorted((c, n) for c in payers for n in train.LEAD_DAYS
                    if decided[c] - timedelta(days=n) >= PAYING_FROM)
    assert 0 < len(wanted) < len(payers) * len(train.LEAD_DAYS)
    assert sorted(zip(leads["customer_id"], leads["lead_days"], strict=True)) == wanted
    assert (leads["label"] == 1).all()
    assert all(row.as_of == decided[row.customer_id] - timedelta(days=row.lead_days)
               and row.decided_on == decided[row.customer_id] for row in leads.itertuples())
    # The unlabelled sample: 3 x 60 wanted, 120 ordinary + 1 late customer available.
    assert (frame["typology"] == evaluate.UNLABELLED).sum() == 121


def test_weights_favour_cleared_customers_over_the_unlabelled_sample(spark):
    frame = pd.DataFrame({"label": [1, 0, 0, 0, 1, 1],
                          "typology": ["ocse_payer", "cleared", "sextortion_victim", evaluate.UNLABELLED,
                                       "ocse_payer", "ocse_payer"],
                          "lead_days": [0, 0, 0, 0, 0, 28]})
    expected = [1.0, train.CLEARED_WEIGHT, train.CLEARED_WEIGHT, train.UNLABELLED_WEIGHT, 1.0,
                train.LEAD_WEIGHT]
    assert train.weights(frame).tolist() == expected
    assert train.UNLABELLED_WEIGHT < 1.0 < train.CLEARED_WEIGHT and train.LEAD_WEIGHT < 1.0
    # The Spark path weighs the same rows the same way.
    table = spark.createDataFrame(frame.assign(as_of=date(2025, 1, 1), decided_on=date(2025, 1, 29)))
    parted = distributed.with_parts(table, date(2025, 2, 1), date(2025, 3, 1), evaluate.UNLABELLED,
                                    train.UNLABELLED_WEIGHT, train.CLEARED_WEIGHT, train.LEAD_WEIGHT)
    assert [row["weight"] for row in parted.collect()] == expected


def test_time_split_evaluates_on_the_latest_decisions(spark):
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(20)]
    frame = pd.DataFrame({"as_of": days * 2, "label": [1, 0] * 20, "typology": ["x"] * 40})
    frame = frame.assign(decided_on=frame["as_of"], lead_days=0, customer_id=[f"c{n}" for n in range(40)])
    # Lead points of a payer decided on day 0 and of one decided on day 19 (evaluation): 28 days earlier.
    leads = frame[frame["label"] == 1].iloc[[0, -1]].assign(lead_days=28)
    leads["as_of"] = leads["decided_on"] - timedelta(days=28)
    frame = pd.concat([frame, leads], ignore_index=True)
    fit, stop, evaluation = train.time_split(frame)
    assert frame.loc[evaluation, "decided_on"].min() > frame.loc[stop, "decided_on"].max()
    assert frame.loc[stop, "decided_on"].min() > frame.loc[fit, "decided_on"].max()
    # 40 labelled decisions: the cut is the date of row floor(0.75 x 39) = 29 in date order, i.e. day 14.
    assert frame.loc[evaluation, "as_of"].min() == date(2025, 1, 15)
    # A lead point goes with its decision: the day-0 payer's is fitted; the evaluated payer's is in no part
    # (its features date is the earliest of all, yet fitting it would show the holdout model an evaluated
    # customer).
    assert fit.tolist()[-2:] == [True, False] and not (stop | evaluation).tolist()[-1]
    assert set(frame.loc[evaluation, "lead_days"]) == {0}
    # The Spark path cuts the same way (parts "fit", "stop", "eval", and "lead" for the unused lead point).
    stop_cut, eval_cut = frame.loc[stop, "decided_on"].min(), frame.loc[evaluation, "decided_on"].min()
    parted = distributed.with_parts(spark.createDataFrame(frame), stop_cut, eval_cut, evaluate.UNLABELLED,
                                    train.UNLABELLED_WEIGHT)
    parts = {row["customer_id"] + f"/{row['lead_days']}": row["part"] for row in parted.collect()}
    expected = np.select([fit, stop, evaluation], ["fit", "stop", "eval"], "lead")
    assert [parts[f"{c}/{n}"] for c, n in zip(frame["customer_id"], frame["lead_days"], strict=True)] == \
        expected.tolist()


def test_run_registers_a_challenger_and_logs_the_evaluation(spark, world):
    result = train.run(world["settings"], CUTOFF)
    client = MlflowClient(world["settings"].tracking_uri)
    version = client.get_model_version_by_alias("bantay-ocse", "challenger")
    assert str(version.version) == result["version"] == "1"
    run = client.get_run(result["run_id"])
    assert run.data.tags["as_of"] == "2025-06-01"
    assert len(run.data.tags["ledger_fingerprint"]) == 64
    assert {"pr_auc", "rules_pr_auc", "recall_at_budget", "precision_at_budget", "brier",
            "alert_rate_ofw_remitter", "variant_labels_only_pr_auc"} <= set(run.data.metrics)
    # The look-alikes trip the rules as often as the payers: the model sees the separating column and wins.
    assert run.data.metrics["pr_auc"] > run.data.metrics["rules_pr_auc"] + 0.1
    artifacts = {a.path for a in client.list_artifacts(result["run_id"], "plots")}
    names = ("pr_curve", "score_distribution", "shap_summary", "feature_importance", "reliability",
             "contributions_by_typology")
    assert artifacts == {f"plots/{n}.png" for n in names}
    evaluation = registry.evaluation_set(world["settings"], result["run_id"])
    assert "customer_id" not in evaluation.columns
    assert len(evaluation) == result["rows_eval"]
    # What lifts each typology: the holdout model's mean contributions over the evaluation rows of each.
    logged = client.download_artifacts(result["run_id"], "evaluation/contributions_by_typology.json",
                                       str(world["tmp"]))
    table = pd.DataFrame(**json.loads(Path(logged).read_text())).set_index("typology")
    assert table["rows"].to_dict() == evaluation["typology"].value_counts().to_dict()
    holdout = registry.holdout_booster(world["settings"], version)
    columns = train.catalogue_columns()
    contribs = holdout.predict(xgb.DMatrix(evaluation[columns].astype("float64"), feature_names=columns),
                               pred_contribs=True)[:, :-1]
    for typology, rows in evaluation.groupby("typology"):
        expected = contribs[rows.index.to_numpy()].mean(axis=0)
        assert np.allclose(table.loc[typology, columns].to_numpy(dtype="float64"), expected, atol=1e-5)
    # Confirmed payers are lifted, the cleared look-alikes are not.
    assert table.loc["ocse_payer", columns].sum() > table.loc["ofw_remitter", columns].sum()
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["bantay-training", "bantay-evaluation"]
    model = mlflow.xgboost.load_model("models:/bantay-ocse@challenger")
    assert model.feature_names == train.catalogue_columns()


def test_run_leaves_no_personal_data_in_the_mlflow_store(spark, world):
    result = train.run(world["settings"], CUTOFF, promote=True)
    assert result["promotion"]["promoted"] is True
    store = [world["tmp"] / "mlruns.sqlite", *sorted(world["settings"].artifact_root.rglob("*"))]
    blobs = [p.read_bytes() for p in store if p.is_file()]
    assert len(blobs) > 10
    for customer in world["population"]:
        assert not any(customer.encode() in blob for blob in blobs), "a customer id reached MLflow"
    assert not any(b"zq-" in blob for blob in blobs)


def test_the_spark_path_trains_the_same_model_on_the_cluster(spark, world):
    # engine="spark" is what a training table above DRIVER_ROWS_LIMIT rows takes.
    result = train.run(world["settings"], CUTOFF, engine="spark")
    client = MlflowClient(world["settings"].tracking_uri)
    run = client.get_run(result["run_id"])
    assert run.data.tags["training_engine"] == "spark"
    assert result["rows_eval"] > 0 and result["positives_eval"] > 0
    assert result["unlabelled_sample"] == 120  # every ordinary customer (fewer than UNLABELLED_MIN)
    # The same evaluation as the driver path: the separating column is learnt, the rules are beaten.
    assert run.data.metrics["pr_auc"] > run.data.metrics["rules_pr_auc"] + 0.1
    model = mlflow.xgboost.load_model("models:/bantay-ocse@challenger")
    assert model.feature_names == train.catalogue_columns()
    assert model.num_boosted_rounds() == int(run.data.params["refit_rounds"])
