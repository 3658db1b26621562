"""The model card: written on promotion, every figure the MLflow run's, the CLI; real MLflow, no Spark."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest
from markupsafe import escape
from mlflow.tracking import MlflowClient
from model_worlds import CUTOFF, kind_of, training_frame

from bantay import cli
from bantay.models import registry, train, training_set, validation


def _frame(labels):
    """The world's training table with a residence country (payers GB or US, the others AU)."""
    frame = training_frame(labels)
    countries = {"payer": "GB", "lookalike": "US", "ordinary": "AU"}
    return frame.assign(residence_country=[countries[kind_of(c)] for c in frame["customer_id"]])


def test_promotion_writes_the_card_and_its_figures_are_the_runs(store, fast_training):
    settings = store["settings"]
    trained = train.train_frame(settings, CUTOFF, _frame(store["labels"]), training_set.catalogue(),
                                fast_training)
    decision = registry.promote(settings)
    assert decision["promoted"] is True
    folder = settings.output_root / "model_cards" / "version=1"
    assert decision["model_card"] == str(folder)
    for name in ("card.json", "model_card.html", "model_card.pdf"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert (folder / "model_card.pdf").read_bytes().startswith(b"%PDF")
    card = json.loads((folder / "card.json").read_text())
    run = MlflowClient(settings.tracking_uri).get_run(trained["run_id"])
    metrics = run.data.metrics
    # Every performance figure is the run's metric, intervals included.
    for key in ("pr_auc", "rules_pr_auc", "recall_at_budget", "precision_at_budget", "pr_auc_ci_low",
                "pr_auc_ci_high", "rules_pr_auc_ci_low", "recall_at_budget_ci_high"):
        assert card["performance"][key] == pytest.approx(metrics[key], abs=0, rel=1e-12), key
    assert card["performance"]["pr_auc_ci_low"] <= card["performance"]["pr_auc"] <= \
        card["performance"]["pr_auc_ci_high"]
    # The logged holdout predictions give the same PR-AUC and recall as the run's metrics.
    predictions = registry.run_parquet(settings, trained["run_id"], registry.PREDICTIONS_ARTIFACT)
    labels = predictions["label"].to_numpy()
    assert validation.pr_auc(labels, predictions["score"].to_numpy()) == pytest.approx(metrics["pr_auc"])
    assert validation.pr_auc(labels, predictions["rules_score"].to_numpy()) == \
        pytest.approx(metrics["rules_pr_auc"])
    assert set(predictions.columns) == set(validation.PREDICTION_COLUMNS)
    # Thresholds at 0.25%-2%: the 5% budget of this world is not among them, 1% is.
    budgets = [row["budget"] for row in card["thresholds"]]
    assert budgets == list(validation.BUDGETS)
    # The monitoring reference the card names is the one logged (no book given: the unlabelled sample).
    assert card["monitoring"]["reference"] == {"population": "unlabelled sample", "rows": 120}
    html = (folder / "model_card.html").read_text()
    assert "every feature over the unlabelled sample:\n120 customers" in html
    one = next(row for row in card["thresholds"] if row["budget"] == 0.01)
    assert one["recall"] == metrics["budget_1pct_recall"]
    assert one["threshold"] == metrics["budget_1pct_threshold"]
    # Segments: residence countries of the world, recall of the payers' country is the run's recall.
    countries = {row["value"]: row for row in card["segments"] if row["segment"] == "residence_country"}
    assert set(countries) == {"GB", "US", "AU"}
    assert countries["GB"]["confirmed"] == card["holdout"]["confirmed"] == int(labels.sum())
    assert countries["GB"]["recall"] == pytest.approx(metrics["recall_at_budget"])
    # Lineage: 30 confirmed and 30 cleared decisions, no lead point in this world; the gate's reason.
    assert card["labels"]["by_outcome"]["confirmed"]["decisions"] == 30
    assert card["labels"]["by_outcome"]["cleared"]["decisions"] == 30
    assert card["labels"]["cleared_kinds"] == {"ofw_remitter": 30}
    assert card["decision"]["reason"] == decision["reason"] and card["champion"] == {}
    assert card["provenance"]["ledger_fingerprint"] == run.data.tags["ledger_fingerprint"]
    html = (folder / "model_card.html").read_text()
    assert f"{metrics['pr_auc']:.3f}" in html and str(escape(decision["reason"])) in html
    # The card says sex and age are not used, and which KYC profile inputs the model does take.
    assert ("The score does not use <code>age_years</code>, <code>is_male</code>: they are in the feature"
            " table for reporting only") in html
    assert ("Of the KYC profile (typology O10) it uses <code>tenure_days</code>,"
            " <code>share_p2p_to_nationality_90d</code>, <code>share_payees_same_surname_365d</code>") in html
    assert html.count("(in the feature table for reporting only; no model input)") == 2  # the appendix
    # The same three files are the run's artifacts.
    client = MlflowClient(settings.tracking_uri)
    logged = {a.path for a in client.list_artifacts(trained["run_id"], "model_card")}
    assert logged == {f"model_card/{name}" for name in ("card.json", "model_card.html", "model_card.pdf")}


def test_the_card_compares_with_the_champion_it_replaced(store, fast_training):
    settings = store["settings"]
    frame, specs = _frame(store["labels"]), training_set.catalogue()
    train.train_frame(settings, CUTOFF, frame, specs, fast_training)
    registry.promote(settings)
    train.train_frame(settings, CUTOFF, frame.assign(share_p2p_night_90d=0.5), specs, fast_training)
    decision = registry.promote(settings, version="2", force=True)
    card = json.loads((settings.output_root / "model_cards" / "version=2" / "card.json").read_text())
    compared = card["champion"]
    assert compared["champion_version"] == "1"
    # The paired comparison's point values are the gate's own numbers, on the same rows.
    assert compared["challenger"] == pytest.approx(decision["challenger_pr_auc"])
    assert compared["champion"] == pytest.approx(decision["baseline_pr_auc"])
    assert compared["rows"] == decision["eval_rows"]
    assert compared["gain_ci_low"] <= compared["gain"] <= compared["gain_ci_high"]


def test_model_card_command_writes_a_version_and_fails_in_one_line_for_a_missing_one(
    store, fast_training, capsys
):
    settings = store["settings"]
    train.train_frame(settings, CUTOFF, _frame(store["labels"]), training_set.catalogue(), fast_training)
    out = str(settings.output_root)
    assert cli.main(["model-card", "--out", out, "--version", "1"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["version"] == "1" and written["folder"].endswith("model_cards/version=1")
    card = json.loads((settings.output_root / "model_cards" / "version=1" / "card.json").read_text())
    assert card["decision"] is None and card["aliases"] == ["challenger"]
    assert np.isfinite(card["performance"]["pr_auc"])
    assert cli.main(["model-card", "--out", out, "--version", "9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["bantay: error: model bantay-ocse: no version 9"]
