"""`bantay train --as-of D`: fit XGBoost on labels decided before D, evaluate, log to MLflow, register.

The job wires the parts: the recipe (`bantay.models.recipe`), the training set as of D
(`bantay.models.training_set`), the time split, fit and refit on the driver or the cluster
(`bantay.models.fit`), metrics of the holdout model against the rules baseline and the labels-only variant
(`bantay.models.evaluate`), and the MLflow run with its provenance (`bantay.models.tracking`). Both boosters
carry the reason baseline (`explain.set_baseline`: the mean contribution of each feature over the unlabelled
sample's customers), so that scoring words what sets a customer apart from them. With `promote`, the
promotion gate (`registry.promote`) runs on the new version. What was measured for each choice of the
recipe: docs/experiments.md.
"""

from __future__ import annotations

import dataclasses
import logging
import time as clock
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame

from bantay import spark as spark_session
from bantay.errors import ModelError
from bantay.features import store as feature_store
from bantay.models import (
    baseline,
    evaluate,
    explain,
    fit,
    ranks,
    registry,
    tracking,
    training_set,
    validation,
)
from bantay.models.recipe import RECIPE, Recipe
from bantay.settings import Settings

logger = logging.getLogger(__name__)


def run(
    settings: Settings,
    as_of: date,
    promote: bool = False,
    engine: str = "auto",
    recipe: Recipe = RECIPE,
    store: training_set.FeatureStore = feature_store,
) -> dict[str, Any]:
    """Train as of `as_of`, log and register the model (alias `challenger`); optionally run the gate.

    `engine`: "driver" (pandas), "spark" (`xgboost.spark`) or "auto" (spark above `recipe.driver_rows_limit`
    rows). `store`: where the training set's point-in-time features come from (the feature store).
    """
    if engine not in fit.ENGINES:
        raise ModelError(f"engine {engine!r}: expected auto, driver or spark")
    started = clock.monotonic()
    spark = spark_session.session(settings)
    specs = training_set.catalogue()
    table = training_set.training_rows(spark, settings, as_of, [spec.name for spec in specs], recipe,
                                       store)
    rows = table.count()
    if fit.engine_for(engine, rows, recipe) == "spark":
        logger.info("training on the cluster (xgboost.spark): %d rows", rows)
        fitted = fit.fit_table(table, specs, recipe)
    else:
        fitted = fit.fit_frame(training_set.to_frame(table), specs, recipe)
    table.unpersist()
    # Each evaluation row's label origin, for the gate's comparison on the labels not from alerts.
    fitted = dataclasses.replace(fitted, evaluation=training_set.with_origin(
        fitted.evaluation, training_set.label_origins(spark, settings, as_of)))
    book = training_set.book_features(spark, settings, as_of, [spec.name for spec in specs], recipe, store)
    result = _evaluate_and_log(settings, as_of, specs, fitted, recipe, book)
    result["seconds"] = round(clock.monotonic() - started, 1)
    if promote:
        result["promotion"] = registry.promote(settings, version=result["version"])
    return result


def train_frame(
    settings: Settings,
    as_of: date,
    frame: pd.DataFrame,
    specs: Sequence[Any],
    recipe: Recipe = RECIPE,
    book: training_set.Book | None = None,
) -> dict[str, Any]:
    """Split, fit, evaluate against the rules, log and register; `frame` is `training_table`'s output, `book`
    the monitoring reference's population (`training_set.book_features`; None: the unlabelled sample)."""
    return _evaluate_and_log(settings, as_of, specs, fit.fit_frame(frame, specs, recipe), recipe, book)


def train_distributed(
    settings: Settings,
    as_of: date,
    table: DataFrame,
    specs: Sequence[Any],
    recipe: Recipe = RECIPE,
    book: training_set.Book | None = None,
) -> dict[str, Any]:
    """`train_frame` for a table kept in Spark (`training_rows`'s output), fitted by `xgboost.spark`."""
    return _evaluate_and_log(settings, as_of, specs, fit.fit_table(table, specs, recipe), recipe, book)


def _evaluate_and_log(
    settings: Settings,
    as_of: date,
    specs: Sequence[Any],
    fitted: fit.Fitted,
    recipe: Recipe,
    book: training_set.Book | None = None,
) -> dict[str, Any]:
    """Metrics of the holdout model, the rules and the variant on the evaluation part; log and register."""
    columns = [spec.name for spec in specs]
    frame, evaluation = fitted.frame, fitted.evaluation
    booster, variant, fit_seconds = fitted.booster, fitted.variant, fitted.seconds
    reference = frame[frame["typology"] == evaluate.UNLABELLED]
    for model in (booster, fitted.production):
        explain.set_baseline(model, reference if len(reference) else frame, columns)
    model_scores = fit.predict(booster, evaluation, columns)
    rules_scores = baseline.score(ranks.raw(evaluation)[columns])  # the rules read amounts, not ranks
    variant_scores = fit.predict(variant, evaluation, columns)
    budget, floor = settings.alert_budget, settings.min_alert_score
    metrics = {
        **evaluate.metrics(evaluation, model_scores, budget, floor),
        **evaluate.metrics(evaluation, rules_scores, budget, 0.0, prefix="rules_"),
    }
    labels_only = evaluate.metrics(evaluation, variant_scores, budget, floor, prefix="variant_labels_only_")
    kept = ("pr_auc", "_labelled", "recall_at_budget")
    metrics |= {k: v for k, v in labels_only.items() if k.endswith(kept)}
    rules_auc = metrics["rules_pr_auc"]
    metrics["pr_auc_ratio_vs_rules"] = metrics["pr_auc"] / rules_auc if rules_auc else float("nan")
    metrics["fit_seconds"] = fit_seconds
    # The validation pack: bootstrap intervals and the alert line at each budget from 0.25% to 2%.
    predictions = validation.holdout_predictions(evaluation, model_scores, rules_scores)
    metrics |= validation.holdout_intervals(predictions, budget, floor)
    metrics |= validation.threshold_metrics(predictions, floor)
    counts = {**fitted.counts, "positives_eval": int(evaluation["label"].sum()),
              "eval_from": str(evaluation["as_of"].min())}
    run_info = tracking.log_run(settings, as_of, fitted, specs, counts, metrics, model_scores, rules_scores,
                                recipe, predictions, book)
    logger.info("trained %s version %s as of %s: PR-AUC %.3f (rules %.3f) on %d evaluation rows",
                settings.model_name, run_info["version"], as_of, metrics["pr_auc"], rules_auc,
                counts["rows_eval"])
    return {
        "as_of": as_of.isoformat(),
        **run_info,
        **counts,
        "metrics": {k: round(v, 4) for k, v in metrics.items() if np.isfinite(v)},
    }
