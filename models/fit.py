"""The fit: time split, sample weights, the holdout model, the refit on every row, and where trees grow.

The evaluation part is every decision point decided on or after the date that leaves the last
`recipe.eval_share` of labelled decisions; the earlier part is fitted, with early stopping on its own tail
(the last `recipe.stop_share` of its decisions). Lead points belong to the part of their decision and are
fitted only when that part is the fitted one. That *holdout model* gives every metric and plot of a run and
is what the promotion gate compares. The registered model is the refit: the same parameters on every row,
for the holdout model's number of rounds. Rows are weighed by what their label is worth (`weights`:
investigated and cleared customers, the hard negatives, above confirmed decisions; lead points and the
unlabelled sample below); class imbalance by `scale_pos_weight` = sqrt(weighted negatives / positives);
monotone constraints come from `FeatureSpec.monotone`. Metrics, the gate and early stopping use decision
points only.

Both run on the driver with pandas, or, for a training table above `recipe.driver_rows_limit` rows (or
`engine="spark"`), on the cluster with `xgboost.spark` (`bantay.models.distributed`), with the same split,
weights and parameters.

With `recipe.book_relative`, the amount columns (`ranks.columns`) are first replaced by their rank among
the unlabelled sample's customers paying abroad (`ranks.ranked`, or `ranks.spark_ranked` on the cluster;
the raw values stay beside them for the evaluation set and the reasons), and every booster is marked with
the ranked columns (`ranks.mark`), so that scoring and the gate rank a day's customers the same way.
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bantay.errors import ModelError, TooFewLabelsError
from bantay.models import distributed, evaluate, ranks
from bantay.models.recipe import RECIPE, Recipe
from bantay.models.training_set import to_frame

ENGINES = ("auto", "driver", "spark")


def time_split(frame: pd.DataFrame, recipe: Recipe = RECIPE) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Boolean masks (fit, stop, evaluation) of `frame` by its `decided_on` (decision date).

    Cut dates are quantiles of the labelled decisions; every point decided on or after a cut date falls after
    it. Stop and evaluation hold decision points only (`lead_days` 0); a lead point is fitted when its
    decision falls in the fitted part, and used by no part otherwise.
    """
    decided, decision = frame["decided_on"], frame["lead_days"] == 0
    labelled_dates = np.sort(decided[(frame["typology"] != evaluate.UNLABELLED) & decision].to_numpy())
    if len(set(labelled_dates.tolist())) < 3:
        raise TooFewLabelsError("labels were decided on fewer than 3 days; a time-ordered split needs more")
    eval_cut = labelled_dates[int(np.floor((1 - recipe.eval_share) * (len(labelled_dates) - 1)))]
    if eval_cut == labelled_dates[0]:
        eval_cut = sorted(set(labelled_dates.tolist()))[1]
    earlier = labelled_dates[labelled_dates < eval_cut]
    stop_cut = earlier[int(np.floor((1 - recipe.stop_share) * (len(earlier) - 1)))]
    if stop_cut == earlier[0]:
        stop_cut = max(earlier)
    evaluation = (decided >= eval_cut) & decision
    stop = (decided >= stop_cut) & (decided < eval_cut) & decision
    fit = decided < stop_cut
    for name, mask in (("fitted", fit), ("early-stopping", stop), ("evaluation", evaluation)):
        if int(frame.loc[mask, "label"].sum()) < 1:
            raise TooFewLabelsError(
                f"the {name} part of the time split has no confirmed label; more are needed"
            )
    if int(frame.loc[fit & decision, "label"].sum()) < recipe.min_positives:
        raise TooFewLabelsError(f"the fitted part has fewer than {recipe.min_positives} confirmed labels")
    return fit, stop, evaluation


def weights(frame: pd.DataFrame, recipe: Recipe = RECIPE) -> np.ndarray:
    """Sample weights: 1 for confirmed customers at their decision, `recipe.lead_weight` for their lead
    points, `recipe.cleared_weight` for investigated and cleared ones, `recipe.unlabelled_weight` for the
    unlabelled sample."""
    confirmed = np.where(frame["lead_days"].to_numpy() > 0, recipe.lead_weight, 1.0)
    cleared = np.where(frame["label"].to_numpy() == 0, recipe.cleared_weight, confirmed)
    return np.where(frame["typology"] == evaluate.UNLABELLED, recipe.unlabelled_weight, cleared)


def fit(
    frame: pd.DataFrame,
    fit_mask: pd.Series,
    stop_mask: pd.Series,
    columns: Sequence[str],
    monotone: Sequence[int],
    recipe: Recipe = RECIPE,
) -> tuple[xgb.Booster, dict[str, Any]]:
    """Fit on the `fit_mask` rows with early stopping on `stop_mask`; return the booster cut at its best
    round, and its parameters (with `best_iteration` and `max_rounds`)."""
    columns = list(columns)
    train_rows, stop_rows = frame[fit_mask], frame[stop_mask]
    train_weights = weights(train_rows, recipe)
    positive = train_weights[train_rows["label"].to_numpy() == 1].sum()
    negative = train_weights[train_rows["label"].to_numpy() == 0].sum()
    params = {
        **recipe.params(),
        "scale_pos_weight": float(np.sqrt(negative / positive)),
        "monotone_constraints": "(" + ",".join(str(int(m)) for m in monotone) + ")",
    }
    dtrain = xgb.DMatrix(train_rows[columns].astype("float64"), label=train_rows["label"],
                         weight=train_weights, feature_names=columns)
    dstop = xgb.DMatrix(stop_rows[columns].astype("float64"), label=stop_rows["label"],
                        weight=weights(stop_rows, recipe), feature_names=columns)
    booster = xgb.train(params, dtrain, num_boost_round=recipe.max_rounds, evals=[(dstop, "stop")],
                        early_stopping_rounds=recipe.early_stopping_rounds, verbose_eval=False)
    best = int(booster.best_iteration)
    booster = booster[: best + 1]
    return booster, {**params, "best_iteration": best, "max_rounds": recipe.max_rounds}


def refit(
    frame: pd.DataFrame, columns: Sequence[str], params: dict[str, Any], recipe: Recipe = RECIPE
) -> xgb.Booster:
    """The same model fitted on every row of `frame` for the holdout model's `best_iteration + 1` rounds."""
    columns = list(columns)
    row_weights = weights(frame, recipe)
    labels = frame["label"].to_numpy()
    ratio = row_weights[labels == 0].sum() / row_weights[labels == 1].sum()
    settings = {k: v for k, v in params.items() if k not in ("best_iteration", "max_rounds")}
    settings["scale_pos_weight"] = float(np.sqrt(ratio))
    matrix = xgb.DMatrix(frame[columns].astype("float64"), label=frame["label"], weight=row_weights,
                         feature_names=columns)
    return xgb.train(settings, matrix, num_boost_round=int(params["best_iteration"]) + 1)


def predict(booster: xgb.Booster, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Scores of `frame`'s `columns` (float64)."""
    matrix = xgb.DMatrix(frame[list(columns)].astype("float64"), feature_names=list(columns))
    return booster.predict(matrix).astype("float64")



def engine_for(engine: str, rows: int, recipe: Recipe = RECIPE) -> str:
    """Where a training table of `rows` rows is fitted: "driver" or "spark".

    `engine`: "driver", "spark", or "auto" (spark above `recipe.driver_rows_limit` rows).
    """
    if engine not in ENGINES:
        raise ModelError(f"engine {engine!r}: expected auto, driver or spark")
    if engine == "spark" or (engine == "auto" and rows > recipe.driver_rows_limit):
        return "spark"
    return "driver"


@dataclass(frozen=True)
class Fitted:
    """What either engine fitted: holdout model, registered refit, labels-only variant, how, and on what.

    `frame` is the training table (on the Spark path, a sample of it) for MLflow's signature and dataset;
    `evaluation` the evaluation part; `counts` the rows and labels of each part.
    """

    booster: xgb.Booster
    production: xgb.Booster
    variant: xgb.Booster
    params: dict[str, Any]
    seconds: float
    engine: str
    counts: dict[str, Any]
    frame: pd.DataFrame
    evaluation: pd.DataFrame


def fit_frame(frame: pd.DataFrame, specs: Sequence[Any], recipe: Recipe = RECIPE) -> Fitted:
    """Split `frame` (`training_table`'s output) by time, fit the holdout model, the refit and the variant
    fitted on labels alone, on the driver."""
    started = clock.monotonic()
    columns = [spec.name for spec in specs]
    monotone = [int(spec.monotone) for spec in specs]
    fit_mask, stop_mask, eval_mask = time_split(frame, recipe)
    ranked = ranks.columns(specs) if recipe.book_relative else []
    if ranked:
        reference = (frame["typology"] == evaluate.UNLABELLED).to_numpy() & ranks.in_book(frame)
        frame = ranks.ranked(frame, ranked, reference)
    booster, params = fit(frame, fit_mask, stop_mask, columns, monotone, recipe)
    production = refit(frame, columns, params, recipe)
    labelled_only = frame["typology"] != evaluate.UNLABELLED
    variant, _ = fit(frame, fit_mask & labelled_only, stop_mask & labelled_only, columns, monotone, recipe)
    for model in (booster, production, variant):
        ranks.mark(model, ranked)
    counts = {
        "rows_fit": int(fit_mask.sum()),
        "rows_stop": int(stop_mask.sum()),
        "rows_eval": int(eval_mask.sum()),
        "positives_fit": int(frame.loc[fit_mask & (frame["lead_days"] == 0), "label"].sum()),
        "lead_points_fit": int((fit_mask & (frame["lead_days"] > 0)).sum()),
        "unlabelled_sample": int((~labelled_only).sum()),
        "stop_from": str(frame.loc[stop_mask, "as_of"].min()),
    }
    return Fitted(booster, production, variant, params, clock.monotonic() - started, "driver", counts, frame,
                  frame[eval_mask].reset_index(drop=True))


def fit_table(table: DataFrame, specs: Sequence[Any], recipe: Recipe = RECIPE) -> Fitted:
    """`fit_frame` for a table kept in Spark: the holdout model and the refit grown by `xgboost.spark`.

    The split's cut dates come from the labelled rows (brought to the driver, with the labels-only variant
    fitted on them); the evaluation part and a sample for MLflow's signature and dataset come to the driver.
    """
    started = clock.monotonic()
    columns = [spec.name for spec in specs]
    monotone = [int(spec.monotone) for spec in specs]
    ranked = ranks.columns(specs) if recipe.book_relative else []
    if ranked:
        # A row id fixed once (checkpointed) keys the ranks back to their rows.
        keyed = table.withColumn("_row", F.monotonically_increasing_id()).localCheckpoint(eager=True)
        in_reference = (F.col("typology") == F.lit(evaluate.UNLABELLED)) & ranks.book_flag()
        table = ranks.spark_ranked(keyed, ranked, "_row", in_reference).drop("_row").cache()
    labelled = to_frame(table.where(F.col("typology") != evaluate.UNLABELLED))
    fit_mask, stop_mask, eval_mask = time_split(labelled, recipe)
    stop_cut = labelled.loc[stop_mask, "decided_on"].min()
    eval_cut = labelled.loc[eval_mask, "decided_on"].min()
    variant, _ = fit(labelled, fit_mask, stop_mask, columns, monotone, recipe)
    parted = distributed.with_parts(
        table, stop_cut, eval_cut, evaluate.UNLABELLED, recipe.unlabelled_weight, recipe.cleared_weight,
        recipe.lead_weight,
    ).cache()
    base = {**recipe.params(), "monotone_constraints": "(" + ",".join(str(m) for m in monotone) + ")"}
    booster, params = distributed.fit(parted, columns, base, recipe.max_rounds, recipe.early_stopping_rounds)
    production = distributed.refit(parted, columns, params)
    by_part = parted.groupBy("part").agg(F.count(F.lit(1)).alias("rows"), F.sum("label").alias("positives"))
    parts = {row["part"]: (int(row["rows"]), int(row["positives"])) for row in by_part.collect()}
    counts = {
        "rows_fit": parts.get("fit", (0, 0))[0],
        "rows_stop": parts.get("stop", (0, 0))[0],
        "rows_eval": parts.get("eval", (0, 0))[0],
        "positives_fit": int(labelled.loc[fit_mask & (labelled["lead_days"] == 0), "label"].sum()),
        "lead_points_fit": int((fit_mask & (labelled["lead_days"] > 0)).sum()),
        "unlabelled_sample": sum(rows for rows, _ in parts.values()) - len(labelled),
        "stop_from": str(stop_cut),
    }
    evaluation = to_frame(parted.where(F.col("part") == "eval").drop("part", "weight"))
    sample = to_frame(parted.drop("part", "weight").limit(distributed.LOGGED_ROWS))
    parted.unpersist()
    if ranked:
        table.unpersist()
    for model in (booster, production, variant):
        ranks.mark(model, ranked)
    return Fitted(booster, production, variant, params, clock.monotonic() - started, "spark", counts, sample,
                  evaluation)
