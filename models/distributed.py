"""The distributed training path: the same model fitted on the cluster with `xgboost.spark`.

`train.run` takes this path when the training table has more than `Recipe.driver_rows_limit` rows (or when
asked to, `engine="spark"`); below it the table is fitted on the driver with pandas, which is faster for the
thousands to a few hundred thousand rows a bank's labels and the unlabelled sample make. Both paths share the
split, the parameters, the refit on every row and everything logged: only where the trees are grown differs.
`SparkXGBClassifier` trains one XGBoost worker per Spark task (`num_workers` = the default parallelism) on
the feature columns as they are (no vector assembly), with the same weights, monotone constraints and early
stopping (the stop part of the time split is its validation set); its booster is an ordinary
`xgboost.Booster`, so scoring, explanations and the registry cannot tell the two paths apart.

What still comes to the driver: the labelled rows (a few per investigated customer, for the split and the
labels-only variant), the evaluation part (the latest quarter of decisions and its share of the sample) and
a sample of `LOGGED_ROWS` rows for the MLflow signature and dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import xgboost as xgb
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

LOGGED_ROWS = 50_000
# XGBoost's native parameter names -> SparkXGBClassifier's (nthread is the Spark task's, not ours).
_RENAMED = {"seed": "random_state"}
# binary:logistic is the classifier's own objective, which it will not be told.
_DROPPED = {"nthread", "best_iteration", "max_rounds", "objective"}


def with_parts(
    table: DataFrame,
    stop_cut: date,
    eval_cut: date,
    unlabelled: str,
    weight: float,
    cleared_weight: float = 1.0,
    lead_weight: float = 1.0,
) -> DataFrame:
    """`table` with `part` and `weight`, as `fit.time_split` and `fit.weights`.

    `part` by decision date (`decided_on`): fit / stop / eval, and `lead` for a lead point whose decision
    falls in the stop or evaluation part (no part of the holdout model uses it; the refit does).
    `weight`: `weight` for the unlabelled sample, `cleared_weight` for labelled negatives, `lead_weight` for
    lead points, 1 for confirmed customers at their decision.
    """
    decided, lead = F.col("decided_on"), F.col("lead_days") > 0
    return table.withColumn(
        "part",
        F.when(decided < F.lit(stop_cut), "fit").when(lead, "lead")
        .when(decided >= F.lit(eval_cut), "eval").otherwise("stop"),
    ).withColumn(
        "weight",
        F.when(F.col("typology") == unlabelled, F.lit(weight))
        .when(F.col("label") == 0, F.lit(cleared_weight))
        .when(lead, F.lit(lead_weight))
        .otherwise(F.lit(1.0)),
    )


def class_ratio(rows: DataFrame) -> float:
    """sqrt(weighted negatives / weighted positives) of `rows` (the `scale_pos_weight` of both paths)."""
    sums = rows.groupBy("label").agg(F.sum("weight").alias("w")).collect()
    by_label = {int(row["label"]): float(row["w"]) for row in sums}
    return float(np.sqrt(by_label.get(0, 0.0) / by_label[1]))


def _estimator(params: dict[str, Any], columns: Sequence[str], workers: int, **extra: Any) -> Any:
    from xgboost.spark import SparkXGBClassifier

    settings = {_RENAMED.get(k, k): v for k, v in params.items() if k not in _DROPPED}
    return SparkXGBClassifier(
        features_col=list(columns), label_col="label", weight_col="weight", num_workers=workers,
        **settings, **extra,
    )


def fit(
    parted: DataFrame, columns: Sequence[str], params: dict[str, Any], max_rounds: int, stopping_rounds: int
) -> tuple[xgb.Booster, dict[str, Any]]:
    """The holdout model: fitted on the `fit` part, early-stopped on `stop`; cut at its best round."""
    rows = parted.where(F.col("part").isin("fit", "stop")).withColumn("is_stop", F.col("part") == "stop")
    fitted = dict(params, scale_pos_weight=class_ratio(rows.where(~F.col("is_stop"))))
    workers = parted.sparkSession.sparkContext.defaultParallelism
    model = _estimator(
        fitted, columns, workers, n_estimators=max_rounds, early_stopping_rounds=stopping_rounds,
        validation_indicator_col="is_stop",
    ).fit(rows)
    booster = model.get_booster()
    best = int(booster.best_iteration)
    return booster[: best + 1], {**fitted, "best_iteration": best, "max_rounds": max_rounds}


def refit(parted: DataFrame, columns: Sequence[str], params: dict[str, Any]) -> xgb.Booster:
    """The registered model: every row, the holdout model's number of rounds."""
    settings = dict(params, scale_pos_weight=class_ratio(parted))
    workers = parted.sparkSession.sparkContext.defaultParallelism
    model = _estimator(settings, columns, workers, n_estimators=int(params["best_iteration"]) + 1).fit(parted)
    booster: xgb.Booster = model.get_booster()
    return booster
