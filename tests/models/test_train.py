"""The training job: a run registers a challenger and logs its evaluation, on the driver or the cluster."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.tracking import MlflowClient
from model_worlds import CUTOFF, feature_frame, write_features

from bantay.models import registry, train, training_set, validation


def test_run_registers_a_challenger_and_logs_the_evaluation(spark, world):
    result = train.run(world["settings"], CUTOFF, recipe=world["recipe"], store=world["features"])
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
    # Every label of this world is the ledger's own; the unlabelled sample is named as such.
    unlabelled = evaluation["typology"] == "unlabelled"
    assert set(evaluation.loc[unlabelled, "origin"]) == {"unlabelled_sample"}
    assert set(evaluation.loc[~unlabelled, "origin"]) == {"ledger"} and (~unlabelled).any()
    # What lifts each typology: the holdout model's mean contributions over the evaluation rows of each.
    logged = client.download_artifacts(result["run_id"], "evaluation/contributions_by_typology.json",
                                       str(world["tmp"]))
    table = pd.DataFrame(**json.loads(Path(logged).read_text())).set_index("typology")
    assert table["rows"].to_dict() == evaluation["typology"].value_counts().to_dict()
    holdout = registry.holdout_booster(world["settings"], version)
    columns = training_set.catalogue_columns()
    contribs = holdout.predict(xgb.DMatrix(evaluation[columns].astype("float64"), feature_names=columns),
                               pred_contribs=True)[:, :-1]
    for typology, rows in evaluation.groupby("typology"):
        expected = contribs[rows.index.to_numpy()].mean(axis=0)
        assert np.allclose(table.loc[typology, columns].to_numpy(dtype="float64"), expected, atol=1e-5)
    # Confirmed payers are lifted, the cleared look-alikes are not.
    assert table.loc["ocse_payer", columns].sum() > table.loc["ofw_remitter", columns].sum()
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["bantay-training", "bantay-evaluation"]
    model = mlflow.xgboost.load_model("models:/bantay-ocse@challenger")
    assert model.feature_names == training_set.catalogue_columns()


def test_the_spark_path_trains_the_same_model_on_the_cluster(spark, world):
    # engine="spark" is what a training table above the recipe's driver_rows_limit rows takes.
    result = train.run(world["settings"], CUTOFF, engine="spark", recipe=world["recipe"],
                       store=world["features"])
    client = MlflowClient(world["settings"].tracking_uri)
    run = client.get_run(result["run_id"])
    assert run.data.tags["training_engine"] == "spark"
    assert result["rows_eval"] > 0 and result["positives_eval"] > 0
    assert result["unlabelled_sample"] == 120  # every ordinary customer (fewer than unlabelled_min)
    # The same evaluation as the driver path: the separating column is learnt, the rules are beaten.
    assert run.data.metrics["pr_auc"] > run.data.metrics["rules_pr_auc"] + 0.1
    model = mlflow.xgboost.load_model("models:/bantay-ocse@challenger")
    assert model.feature_names == training_set.catalogue_columns()
    assert model.num_boosted_rounds() == int(run.data.params["refit_rounds"])


def test_the_monitoring_reference_is_the_book_as_of_the_training_date(spark, world):
    settings = world["settings"]
    # No feature table as of the cut-off: the book's customers (a transaction in the look-back) through the
    # feature store as of the cut-off, the same values a feature table of that day would hold.
    result = train.run(settings, CUTOFF, recipe=world["recipe"], store=world["features"])
    reference = registry.run_json(settings, result["run_id"], registry.REFERENCE_ARTIFACT)
    assert reference["population"] == "book as of the training date (features computed at training)"
    assert reference["rows"] == len(world["population"]) == 180
    book = feature_frame((c, CUTOFF) for c in world["population"])
    for column in ("median_p2p_usd_90d", "n_p2p_90d", "share_p2p_small_90d"):
        assert reference["features"][column] == validation.reference_bins(book[column])
    # The feature table of the cut-off, when the features job wrote it, is what scoring that day reads.
    write_features(spark, world["out"], CUTOFF, world["population"][:50])
    again = train.run(settings, CUTOFF, recipe=world["recipe"], store=world["features"])
    reference = registry.run_json(settings, again["run_id"], registry.REFERENCE_ARTIFACT)
    assert reference["population"] == "book as of the training date (feature table)"
    assert reference["rows"] == 50
    assert reference["features"]["n_p2p_90d"] == validation.reference_bins(book["n_p2p_90d"][:50])
