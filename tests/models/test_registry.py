"""The promotion gate on a real MLflow SQLite store: promote a better model, refuse a worse one, force."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from mlflow.tracking import MlflowClient
from model_worlds import CUTOFF, blind_before, training_frame
from sklearn.metrics import average_precision_score

from bantay import cli
from bantay import settings as settings_module
from bantay.errors import MissingArtefactError, ModelError, RegistryError
from bantay.models import baseline, ranks, registry, train, training_set


def test_promote_moves_the_champion_only_for_a_better_model(store, fast_training):
    world = store
    settings = world["settings"]
    specs = training_set.catalogue()
    frame = training_frame(world["labels"])
    good = train.train_frame(settings, CUTOFF, frame, specs, fast_training)
    assert registry.has_champion(settings) is False
    with pytest.raises(MissingArtefactError, match="no such registered model version"):
        registry.load_booster(settings)

    # First model: compared with the rules baseline (the look-alikes fool the rules, not the model).
    first = registry.promote(settings)
    assert first["version"] == good["version"] == "1"
    assert first["baseline"] == "rules"
    assert first["promoted"] is True
    assert first["challenger_pr_auc"] >= first["baseline_pr_auc"] + settings.promotion_margin
    assert registry.has_champion(settings)

    # A model fitted without the separating column, evaluated on the same later (truthful) decisions.
    worse = train.train_frame(settings, CUTOFF, blind_before(frame, date(2025, 4, 15)), specs,
                             fast_training)
    assert worse["version"] == "2"
    refused = registry.promote(settings)
    assert refused["version"] == "2"
    assert refused["baseline"] == "champion version 1"
    assert refused["promoted"] is False
    assert refused["baseline_pr_auc"] > refused["challenger_pr_auc"]
    client = MlflowClient(settings.tracking_uri)
    assert str(client.get_model_version_by_alias("bantay-ocse", "champion").version) == "1"
    recorded = client.get_model_version("bantay-ocse", "2")
    assert json.loads(recorded.tags["promotion_decision"])["promoted"] is False
    assert "does not beat champion version 1" in recorded.description

    # Forced: promoted whatever the gate says, and recorded as forced.
    forced = registry.promote(settings, version="2", force=True)
    assert forced["promoted"] is True and forced["forced"] is True
    assert forced["reason"].endswith("promoted by force")
    assert str(client.get_model_version_by_alias("bantay-ocse", "champion").version) == "2"

    # The good model beats the (worse) champion on its own evaluation set: promoted back.
    back = registry.promote(settings, version="1")
    assert back["promoted"] is True and back["baseline"] == "champion version 2"
    booster, label = registry.load_booster(settings)
    assert label == "bantay-ocse/1"
    assert booster.feature_names == training_set.catalogue_columns()


def test_the_gate_judges_holdout_models_on_decisions_the_champion_has_not_seen(store, fast_training):
    settings = store["settings"]
    specs = training_set.catalogue()
    frame = training_frame(store["labels"])
    first = train.train_frame(settings, CUTOFF, frame, specs, fast_training)
    client = MlflowClient(settings.tracking_uri)
    run = client.get_run(first["run_id"])
    # The registered model is the refit on every row, for the holdout model's number of rounds.
    registered, _ = registry.load_booster(settings, first["model_uri"])
    holdout = registry.holdout_booster(settings, client.get_model_version("bantay-ocse", first["version"]))
    rounds = int(run.data.params["refit_rounds"])
    assert registered.num_boosted_rounds() == holdout.num_boosted_rounds() == rounds
    evaluation = registry.evaluation_set(settings, first["run_id"])
    assert not np.allclose(registry.booster_scores(registered, evaluation),
                           registry.booster_scores(holdout, evaluation))
    # The gate scores the holdout model: its PR-AUC is the run's own evaluation metric.
    decision = registry.promote(settings)
    assert decision["challenger_pr_auc"] == pytest.approx(run.data.metrics["pr_auc"])
    assert decision["eval_rows_seen_by_champion"] == 0 and decision["reason"].endswith("holdout models")

    # A champion whose evaluation cut is later saw part of the next challenger's evaluation set: left out.
    second = train.train_frame(settings, CUTOFF, frame, specs, fast_training)
    decided = pd.to_datetime(evaluation["as_of"]).dt.date
    cut = sorted(set(decided))[len(set(decided)) // 2]
    client.set_model_version_tag("bantay-ocse", first["version"], "eval_from", cut.isoformat())
    judged = registry.promote(settings, version=second["version"])
    assert judged["eval_rows_seen_by_champion"] == int((decided < cut).sum()) > 0
    assert judged["eval_rows"] == int((decided >= cut).sum())


def test_the_gate_reports_both_models_on_the_labels_no_model_chose(store, fast_training):
    settings = store["settings"]
    specs = training_set.catalogue()
    frame = training_frame(store["labels"])
    labelled = frame["typology"] != "unlabelled"
    # Every other labelled customer's label came from an alert; the others from the ledger.
    ledger_rows = labelled & (frame.groupby("typology").cumcount() % 2 == 0)
    origin = np.where(~labelled, "unlabelled_sample", np.where(ledger_rows, "ledger", "alert"))
    trained = train.train_frame(settings, CUTOFF, frame.assign(origin=origin), specs, fast_training)
    evaluation = registry.evaluation_set(settings, trained["run_id"])
    assert set(evaluation["origin"]) <= {"alert", "ledger", "unlabelled_sample"}

    decision = registry.promote(settings)
    unchosen = evaluation["origin"].isin(["ledger", "below_line_sample", "unlabelled_sample"]).to_numpy()
    labels = evaluation["label"].to_numpy()
    holdout = registry.holdout_booster(settings, MlflowClient(settings.tracking_uri).get_model_version(
        "bantay-ocse", trained["version"]))
    challenger = registry.booster_scores(holdout, evaluation)
    rules = baseline.score(ranks.raw(evaluation))
    assert decision["unchosen_rows"] == int(unchosen.sum()) < len(evaluation)
    assert decision["unchosen_positives"] == int(labels[unchosen].sum()) > 0
    assert decision["challenger_pr_auc_unchosen"] == pytest.approx(
        average_precision_score(labels[unchosen], challenger[unchosen]))
    assert decision["baseline_pr_auc_unchosen"] == pytest.approx(
        average_precision_score(labels[unchosen], rules[unchosen]))
    # The decision itself is on every row, as before; the reason reports the other comparison.
    assert decision["challenger_pr_auc"] == pytest.approx(average_precision_score(labels, challenger))
    assert f"on the {int(unchosen.sum())} rows not from alerts" in decision["reason"]
    html = (Path(decision["model_card"]) / "model_card.html").read_text()
    assert "On the labels not from alerts" in html
    assert f"{decision['challenger_pr_auc_unchosen']:.4f} against" in html


def _register_tiny_model(settings, alias: str) -> str:
    """A 2-feature booster logged and registered under `settings.model_name`, holding `alias`."""
    rows = xgb.DMatrix(np.array([[0.0, 1.0], [1.0, 0.0]]), label=[0, 1], feature_names=["a", "b"])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 1}, rows, num_boost_round=2)
    with mlflow.start_run(experiment_id=registry.ensure_experiment(settings)):
        info = mlflow.xgboost.log_model(booster, name="model", registered_model_name=settings.model_name)
    version = str(info.registered_model_version)
    registry.client(settings).set_registered_model_alias(settings.model_name, alias, version)
    return version


def test_a_missing_model_or_alias_means_no_champion(store):
    settings = store["settings"]
    # No registered model at all.
    assert registry.alias_version(settings, registry.CHAMPION) is None
    assert registry.has_champion(settings) is False
    # A registered model whose only version holds `challenger`: still no champion.
    version = _register_tiny_model(settings, registry.CHALLENGER)
    assert str(registry.alias_version(settings, registry.CHALLENGER).version) == version == "1"
    assert registry.has_champion(settings) is False
    with pytest.raises(MissingArtefactError, match="no such registered model version"):
        registry.load_booster(settings)
    with pytest.raises(MissingArtefactError, match="no such registered model version; check --model"):
        registry.load_booster(settings, "models:/bantay-ocse/7")
    registry.client(settings).set_registered_model_alias(settings.model_name, registry.CHAMPION, version)
    assert registry.has_champion(settings) is True


def test_a_corrupt_store_fails_loudly_instead_of_meaning_no_champion(tmp_path, monkeypatch, capsys):
    # A tracking URI on a file that is not a SQLite database: the store cannot be read at all.
    corrupt = tmp_path / "mlflow.db"
    corrupt.write_bytes(b"not a database" * 300)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{corrupt}")
    settings = settings_module.load(output_root=tmp_path / "out", ledger_root=tmp_path / "ledger")
    unreadable = r"^MLflow store sqlite:///.*mlflow\.db: cannot be read \(DatabaseError: .*not a database\)"
    with pytest.raises(RegistryError, match=unreadable):
        registry.has_champion(settings)
    # The CLI turns it into one line and exit code 1.
    assert cli.main(["promote", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bantay: error: MLflow store sqlite:///")


def test_a_store_that_fails_on_a_query_fails_loudly(store):
    settings = store["settings"]
    assert registry.has_champion(settings) is False  # creates the store's tables
    # The registry's tables go missing under a running store: a query fails, which is no "not found".
    database = settings.tracking_uri.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        for table in ("registered_model_aliases", "model_versions", "registered_models"):
            db.execute(f"DROP TABLE {table}")
    with pytest.raises(RegistryError, match=r"cannot be read \(TEMPORARILY_UNAVAILABLE: .*no such table"):
        registry.has_champion(settings)
    with pytest.raises(RegistryError, match="cannot be read"):
        registry.promote(settings, version="1")


def test_a_rollback_to_a_version_on_raw_amounts_needs_force_and_says_why(store, fast_training):
    # Version 1 trained on raw amounts (as before book ranks), version 2 book-relative and champion. Going
    # back to 1: its logged evaluation rows hold no ranks, so champion 2 cannot be scored on them.
    settings = store["settings"]
    specs = training_set.catalogue()
    frame = training_frame(store["labels"])
    train.train_frame(settings, CUTOFF, frame, specs, replace(fast_training, book_relative=False))
    train.train_frame(settings, CUTOFF, frame, specs, fast_training)
    registry.promote(settings, version="2", force=True)
    with pytest.raises(ModelError, match=r"no book ranks of 10 column.*`--force` promotes without"):
        registry.promote(settings, version="1")
    forced = registry.promote(settings, version="1", force=True)
    assert forced["promoted"] is True and forced["reason"].endswith("promoted by force")
    card = (settings.output_root / "model_cards" / "version=1" / "model_card.html").read_text()
    assert "Champion version 2 could not be scored on this version's evaluation rows" in card
