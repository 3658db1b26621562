"""`bantay train --as-of D`: fit XGBoost on labels decided before D, evaluate, log to MLflow, register.

Training set (point in time):
- Labelled customers: validated labels with `decided_at < D` (UTC midnight); a customer with several keeps
  its latest. Each is joined to its features *as of its decision date* (`features_for_points`, which only
  uses data booked before that date): the model never sees what was known only after the decision.
- Unlabelled is not negative, but the scored population is nearly all unlabelled, and a model fitted on
  investigated customers alone has never seen an ordinary customer. So a deterministic random sample of
  customers with transactions before D and no label decided before D (`UNLABELLED_RATIO` times the labelled
  count, at least `UNLABELLED_MIN` and at most `UNLABELLED_MAX`) enters as negatives with weight
  `UNLABELLED_WEIGHT` < 1 (a few may be undetected payers), typology `unlabelled`. The sample is large on
  purpose: the alerts are the top 1% of the whole book, so the model must know the tail of ordinary customers
  (measured on synthetic ledgers, 12k customers, train on one seed and score another: 6,000 sampled instead of
  3x the labelled count raised recall at 1% from 0.55 to 0.62 and PR-AUC from 0.46 to 0.54). Each gets a
  pseudo decision date drawn from the labelled decision dates (so the sample spreads over the same time
  split), and its features as of that date.
  Both variants are measured on every run: `pr_auc` (with the sample) and `variant_labels_only_pr_auc` (the
  same model settings fitted on labels alone), on the same evaluation set.
- Earlier points of confirmed customers ("lead points"): each confirmed customer also enters as of every 14
  days up to 24 weeks before its decision (`LEAD_DAYS`), with its features as of that earlier date, label 1
  and weight `LEAD_WEIGHT`, wherever it had already made `LEAD_MIN_P2P` or more cross-border p2p payments in
  the 90 days before that date (`paying_lead_points` checks this on the feature state before any feature is
  computed, so that the early points that cannot count cost no network step). The scored book holds payers at
  every stage, most long before anyone investigates them, while decision points show each payer only once,
  when the pattern was plain enough to be reported. A lead point is still point in time: its features use data
  before its own date, and its label was decided before D. Rows carry `decided_on` (the decision date their
  label belongs to) and `lead_days` (0 for the decision point); the split goes by `decided_on`, so a
  customer's lead points never sit in an earlier part than its decision, and metrics, the gate and early
  stopping use decision points only. Measured (20k customers, train on seed 7, score seeds 11 / 13; recall at
  1%, then PR-AUC): no lead points 0.833 / 0.850, 0.882 / 0.876; at 28 and 56 days 0.844 / 0.883, 0.900 /
  0.905; every 14 days to 84, 0.872 / 0.883, 0.918 / 0.918; every 14 days to 168 (kept) 0.883 / 0.894, 0.918 /
  0.921, retail alerts 0.11% / 0.14% (from 0.16% / 0.17%). Not kept: 2+ payments instead of 3 (0.856 / 0.889,
  0.899 / 0.909: it adds points from before the pattern shows) and weight 1 (0.861 / 0.878, 0.915 / 0.918).
  Most lead points fall to the payments rule: 37 survive in the fitted part of that run, beside 52 confirmed
  decisions. Online daters are not helped: 15.8% / 6.7% alerted, against 12.5% / 7.5% without.
- Investigated and cleared customers weigh `CLEARED_WEIGHT` (2): they are the hard negatives, the
  look-alikes an investigator already looked at, and at weight 1 the few hundred of them were swamped by the
  sample. Measured (20k customers, train on seed 7, score seeds 11 and 13, mean of 3 model seeds): online
  daters alerted 16.7% / 8.3% at weight 1, 11.7% / 6.4% at 2, 10.6% / 5.6% at 3; church donors 2.8% / 5.3%,
  1.9% / 3.0%, 2.2% / 3.0%; recall at 1% unchanged (0.81 / 0.83); retail alert rate 0.16%, 0.20%, 0.21%.
- Split by time: the evaluation set is every decision point decided on or after the date that leaves the
  last `EVAL_SHARE` of labelled decisions; the earlier part is fitted, with early stopping on its own tail
  (the last `STOP_SHARE` of its decisions); lead points belong to the part of their decision and are fitted
  only when that part is the fitted one. That *holdout model* gives every metric and plot of the run, and is
  what the promotion gate compares (`registry.promote`), on decisions it has not seen.
- The registered model is then refitted on every point (labels are scarce and the latest decisions are the
  most telling) with the holdout model's number of rounds. Measured as above, the refit raised recall at 1%
  from 0.60 to 0.72 and PR-AUC from 0.55 to 0.75 on the other seed. Its own quality cannot be measured on
  labels before D; the next run's holdout model, and the gate, measure the same recipe on later decisions.

Where: the training table is one row per labelled customer plus the sample, thousands to a few hundred
thousand rows (`UNLABELLED_MAX` bounds the sample), fitted on the driver with pandas. Above
`DRIVER_ROWS_LIMIT` rows (or with `engine="spark"`) the same model is fitted on the cluster with
`xgboost.spark` (`bantay.models.distributed`); the run's tag `training_engine` says which.

Model: XGBoost `hist`, monotone constraints from `FeatureSpec.monotone`; class imbalance through
`scale_pos_weight` = sqrt(weighted negatives / positives). The full ratio made scores saturate near 1 and
ranked worst (recall at 1%, holdout / refit: full ratio 0.57 / 0.68, square root 0.60 / 0.72, none 0.62 /
0.70).
Each boosting round grows a bagged forest of 5 trees (`num_parallel_tree`, rows subsampled 80%, 70% of the
columns per split). With about a hundred confirmed labels, single-tree rounds vary with the random seed
(seeds 0-4, 20k customers, train on seed 7 and score seeds 11 and 13: recall at 1% 0.78-0.82, PR-AUC
0.81-0.86); the forest rounds gave recall 0.80-0.84 and PR-AUC 0.84-0.86 over seeds 0-2, and a higher
holdout PR-AUC (0.65-0.67 against 0.63). Tried and not kept (same protocol): a grid over depth 3-5,
min_child_weight 1-5 and colsample 0.5-0.9 (differences within the seed spread); 15,000 unlabelled
customers instead of 5,000 (no gain); dropping unlabelled customers the model scores like payers
(positive-unlabelled "reliable negatives": it removes the hard negatives and doubled retail alerts).
Also not kept, against recall at 1% of 0.883 / 0.894 with lead points (seeds 11 / 13; PR-AUC 0.918 / 0.921):
10 trees per round (0.872 / 0.883, PR-AUC 0.916 / 0.919); `share_p2p_payee_switch_365d` constrained to
raise risk only (0.878 / 0.889); a feature "payments per payee in 365 days", meant for look-alikes who pay
one partner many times (0.872 / 0.878, online daters 14.2% / 5.8% against 15.8% / 6.7%, retail alerts up).
Not kept either (the same protocol, kept model 0.883 / 0.894, PR-AUC 0.918 / 0.921, online daters 15.8% /
6.7%):
- label-free F5, the share of night payments and the share of many-payee senders among the other customers
  paying the same payee clusters (0.878 / 0.883, PR-AUC 0.918 / 0.915). Payees paid by many senders dominate
  both, so payers' medians barely differ from other customers paying abroad (night 0.21-0.24 against
  0.15-0.16);
- a second unlabelled sample drawn from the customers paying abroad, so that every look-alike of the book
  enters training (0.872 / 0.900, PR-AUC 0.921 / 0.929, but online daters 15.8% / 10.0% and church donors
  2.5% / 2.5%; holdout PR-AUC falls to 0.50 on the harder evaluation set);
- confirmed customers again every 14 days after their decision, up to D, while they keep paying (0.850 /
  0.850, online daters 23.3% / 11.7%): mature payers pull in the look-alikes who pay many times; at weight
  0.25 and with the sample above, still 0.844 / 0.861 and online daters 25.0% / 13.3%;
- `max_depth` 6 (0.872 / 0.872).
Not kept either: cleared customers again after their clearance, as of every 14 days up to D while they kept
paying (label 0, fitted only when dated before the early-stopping cut), to show the model mature
look-alikes. Every dose moved along the same line, fewer online daters for fewer payers (recall at 1%, PR-AUC,
online daters, retail alerts; kept model 0.883 / 0.894, 0.918 / 0.921, 15.8% / 6.7%, 0.11% / 0.14%):
- every such point, weight 1 (349 fitted): 0.844 / 0.839, 0.882 / 0.883, 5.0% / 4.2%, 0.22% / 0.21%; the
  recall lost is in payers with 3+ payments (11+: 0.94 / 0.90 to 0.84 / 0.80);
- each customer's latest such point only (131 fitted; a cleared payer who keeps paying counts once): 0.872 /
  0.861, 0.906 / 0.905, 8.3% / 5.0%, 0.18% / 0.19%;
- at 56, 112 and 168 days, weight 0.5 (35 fitted): 0.867 / 0.883, 0.913 / 0.914, 11.7% / 6.7%, 0.16% / 0.16%;
- every point plus a feature "payments per run of consecutive payments to one payee": 0.839 / 0.839, online
  daters 5.8% / 4.2%, no gain;
- every point, and confirmed customers again after their decision too (394 fitted, 45 of them confirmed), so
  that mature payers stand beside mature look-alikes: 0.844 / 0.839, 0.884 / 0.885, 8.3% / 3.3%, 0.19% /
  0.21%, church donors 0.8% / 3.3%;
- each cleared customer's latest point, with the paying-abroad sample above (9,254 unlabelled): 0.861 /
  0.883, 0.918 / 0.924, 12.5% / 7.5%, 0.15% / 0.15%.
By the generator's truth most of these points are online buyers, OFWs, daters and gamers; buyers and gamers
pay many unrelated payees, as mature payers do, and the few mature payers in the labels (median 3 payments
at the decision) are not enough to hold them apart. Retail customers with a few payments to different payees
rise into the budget instead.
The online daters alerted differ from those with 8+ payments not alerted mainly by a second kind of related
spending and by age (mean TreeSHAP contributions +0.63 and +0.23, against -0.09 and -0.45), not by how they
pay: payee switches (median 0.15 against 1.0 for payers) already lower their scores by 0.36 in log-odds on
average.

MLflow: params, metrics (model and rules baseline), plots, the model with signature and an input example of
feature columns, the training and evaluation inputs (feature columns and label only), and the evaluation set
as `evaluation/eval_set.parquet` (feature columns, label, typology, decision date; never customer ids), the
holdout booster as `holdout/model.ubj`, tags `as_of`,
`ledger_fingerprint`, `code_version`, `feature_list_hash`. The new version gets alias `challenger`.
Both boosters carry the reason baseline (`explain.set_baseline`: the mean contribution of each feature over
the unlabelled sample's customers paying abroad), so that scoring words what sets a customer apart from
other customers paying abroad.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.models import infer_signature
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

import bantay
from bantay import ledger
from bantay import spark as spark_session
from bantay.errors import ModelError
from bantay.io import catalogue as output_catalogue
from bantay.io import files
from bantay.models import baseline, distributed, evaluate, explain, plots, registry
from bantay.settings import Settings

logger = logging.getLogger(__name__)

EVAL_SHARE = 0.25
STOP_SHARE = 0.15
UNLABELLED_RATIO = 10
UNLABELLED_MIN = 5_000
UNLABELLED_MAX = 200_000
UNLABELLED_WEIGHT = 0.5
CLEARED_WEIGHT = 2.0
LEAD_DAYS = tuple(range(14, 169, 14))
LEAD_WEIGHT = 0.5
LEAD_MIN_P2P = 3
SAMPLE_SEED = 20_240_601
DRIVER_ROWS_LIMIT = 2_000_000
MAX_ROUNDS = 800
EARLY_STOPPING_ROUNDS = 40
PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "tree_method": "hist",
    "eval_metric": "logloss",
    "max_depth": 4,
    "learning_rate": 0.08,
    "min_child_weight": 2.0,
    # Each round grows a small bagged forest (5 trees on 80% row samples, 70% of the columns per split):
    # less variance from few labels. See the module docstring for the measurement.
    "num_parallel_tree": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.9,
    "colsample_bynode": 0.7,
    "reg_lambda": 1.0,
    "seed": 0,
    "nthread": 2,
}
MIN_POSITIVES = 2


def catalogue() -> tuple[Any, ...]:
    """The feature catalogue (`FeatureSpec`s in model column order)."""
    from bantay.features.catalogue import FEATURES

    return tuple(FEATURES)


def catalogue_columns() -> list[str]:
    return [spec.name for spec in catalogue()]


def features_for_points(spark: SparkSession, settings: Settings, points: DataFrame) -> DataFrame:
    """Features of each (customer_id, as_of) point, each as of its own date (the feature store's function)."""
    from bantay.features import store

    return store.features_for_points(spark, settings, points)


def p2p_counts_at(spark: SparkSession, settings: Settings, points: DataFrame, days: int) -> DataFrame:
    """Cross-border p2p payments in the `days` days before each point (the feature store's function)."""
    from bantay.features import store

    return store.p2p_counts_at(spark, settings, points, days)


# --- the training set ---------------------------------------------------------------------------------------


def labelled_points(labels: DataFrame, as_of: date) -> DataFrame:
    """`customer_id, as_of, label, typology`: each customer's latest label decided before `as_of` (UTC)."""
    latest = Window.partitionBy("customer_id").orderBy(F.col("decided_at").desc(), F.col("label").desc())
    default_typology = F.when(F.col("label") == 1, "confirmed").otherwise("cleared")
    return (
        labels.where(F.col("decided_at") < F.lit(datetime.combine(as_of, time.min)))
        .where(F.col("label").isin(0, 1) & F.col("customer_id").isNotNull())
        .withColumn("_n", F.row_number().over(latest))
        .where(F.col("_n") == 1)
        .select(
            "customer_id",
            F.to_date("decided_at").alias("as_of"),
            F.col("label").cast("int").alias("label"),
            F.coalesce(F.col("typology"), default_typology).alias("typology"),
        )
    )


def lead_points(labelled: DataFrame, leads: Sequence[int] = LEAD_DAYS) -> DataFrame:
    """`customer_id, as_of, label, typology, decided_on, lead_days`: each confirmed customer of `labelled`
    (a `labelled_points` frame) again `leads` days before its decision."""
    if not leads:
        return decision_points(labelled).limit(0)
    return (
        labelled.where(F.col("label") == 1)
        .select("*", F.explode(F.array(*[F.lit(int(n)) for n in leads])).alias("lead_days"))
        .withColumn("decided_on", F.col("as_of"))
        .withColumn("as_of", F.date_sub(F.col("decided_on"), F.col("lead_days")))
        .select("customer_id", "as_of", "label", "typology", "decided_on", "lead_days")
    )


def paying_lead_points(spark: SparkSession, settings: Settings, leads: DataFrame) -> DataFrame:
    """The `leads` (a `lead_points` frame) whose customer had made `LEAD_MIN_P2P` or more cross-border p2p
    payments in the 90 days before the point.

    Applied before `features_for_points`, so that lead points that cannot count cost no feature work: most
    early ones fall here, and with them the weekly grid dates (network features) only they needed. The same
    rule is applied again to the features' `n_p2p_90d`, which it equals. Measured on the quality benchmark's
    training ledger (20k customers, local[2]): the training table in 200-211 s against 231 s without, the same
    5,504 rows."""
    counts = p2p_counts_at(spark, settings, leads.select("customer_id", "as_of"), 90)
    return leads.join(
        counts.where(F.col("n_p2p") >= LEAD_MIN_P2P).select("customer_id", "as_of"),
        on=["customer_id", "as_of"],
        how="left_semi",
    )


def decision_points(points: DataFrame) -> DataFrame:
    """`points` (`customer_id, as_of, label, typology`) as points of their own decision date (lead 0)."""
    return points.select(
        "customer_id", "as_of", "label", "typology", F.col("as_of").alias("decided_on"),
        F.lit(0).alias("lead_days"),
    )


def unlabelled_points(
    population: DataFrame, labelled: DataFrame, dates: Sequence[date], size: int
) -> DataFrame:
    """A deterministic sample of `size` customers of `population` without a label, each on a pseudo date.

    Customers are ordered by a seeded hash of their id (a reproducible random order); each gets one of the
    labelled decision `dates`, picked by a second hash.
    """
    if size <= 0 or not dates:
        schema = "customer_id string, as_of date, label int, typology string"
        return population.sparkSession.createDataFrame([], schema)
    choices = F.array(*[F.lit(d) for d in sorted(dates)])
    pick = F.pmod(F.xxhash64(F.col("customer_id"), F.lit(SAMPLE_SEED + 1)), F.lit(len(dates))) + 1
    return (
        population.select("customer_id").distinct()
        .join(labelled.select("customer_id"), on="customer_id", how="left_anti")
        .orderBy(F.xxhash64(F.col("customer_id"), F.lit(SAMPLE_SEED)), F.col("customer_id"))
        .limit(size)
        .select(
            "customer_id",
            F.element_at(choices, pick.cast("int")).alias("as_of"),
            F.lit(0).alias("label"),
            F.lit(evaluate.UNLABELLED).alias("typology"),
        )
    )


def training_table(
    spark: SparkSession, settings: Settings, as_of: date, columns: Sequence[str]
) -> pd.DataFrame:
    """Labelled points and the unlabelled sample, each joined to its point-in-time features (pandas)."""
    table = training_rows(spark, settings, as_of, columns)
    frame = to_frame(table)
    table.unpersist()
    return frame


def to_frame(table: DataFrame) -> pd.DataFrame:
    """A Spark training table on the driver, in decision-date order."""
    frame = table.toPandas()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["decided_on"] = pd.to_datetime(frame["decided_on"]).dt.date
    return frame.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)


def training_rows(spark: SparkSession, settings: Settings, as_of: date, columns: Sequence[str]) -> DataFrame:
    """`training_table` as a Spark frame (cached): `customer_id, as_of, label, typology, decided_on,
    lead_days` and the features."""
    labels = ledger.read_validated(spark, settings.output_root, "labels")
    labelled = labelled_points(labels, as_of).cache()
    counts = {row["label"]: row["count"] for row in labelled.groupBy("label").count().collect()}
    if counts.get(1, 0) < 2 * MIN_POSITIVES or counts.get(0, 0) < MIN_POSITIVES:
        raise ModelError(
            f"labels decided before {as_of}: {counts.get(1, 0)} confirmed and {counts.get(0, 0)} cleared; "
            f"training needs at least {2 * MIN_POSITIVES} confirmed and {MIN_POSITIVES} cleared"
        )
    dates = [row["as_of"] for row in labelled.select("as_of").distinct().collect()]
    size = min(max(UNLABELLED_RATIO * (counts[0] + counts[1]), UNLABELLED_MIN), UNLABELLED_MAX)
    population = ledger.read_validated(spark, settings.output_root, "transactions", before=as_of)
    points = (
        decision_points(labelled)
        .unionByName(paying_lead_points(spark, settings, lead_points(labelled)))
        .unionByName(decision_points(unlabelled_points(population, labelled, dates, size)))
    )
    features = features_for_points(spark, settings, points.select("customer_id", "as_of"))
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ModelError(
            f"features_for_points lacks {len(missing)} catalogue column(s): {', '.join(missing[:5])}"
        )
    # A lead point counts once the customer was already paying abroad (`LEAD_MIN_P2P` payments in 90 days).
    paying = F.col("n_p2p_90d").alias("_lead_p2p")
    table = (
        points.join(
            features.select("customer_id", F.col("as_of").cast("date").alias("as_of"), *columns, paying),
            on=["customer_id", "as_of"],
            how="inner",
        )
        .where((F.col("lead_days") == 0) | (F.col("_lead_p2p") >= LEAD_MIN_P2P))
        .drop("_lead_p2p")
        .cache()
    )
    table.count()
    labelled.unpersist()
    return table


# --- split, fit, evaluate -----------------------------------------------------------------------------------


def time_split(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Boolean masks (fit, stop, evaluation) of `frame` by its `decided_on` (decision date).

    Cut dates are quantiles of the labelled decisions; every point decided on or after a cut date falls after
    it. Stop and evaluation hold decision points only (`lead_days` 0); a lead point is fitted when its
    decision falls in the fitted part, and used by no part otherwise.
    """
    decided, decision = frame["decided_on"], frame["lead_days"] == 0
    labelled_dates = np.sort(decided[(frame["typology"] != evaluate.UNLABELLED) & decision].to_numpy())
    if len(set(labelled_dates.tolist())) < 3:
        raise ModelError("labels were decided on fewer than 3 days; a time-ordered split needs more")
    eval_cut = labelled_dates[int(np.floor((1 - EVAL_SHARE) * (len(labelled_dates) - 1)))]
    if eval_cut == labelled_dates[0]:
        eval_cut = sorted(set(labelled_dates.tolist()))[1]
    earlier = labelled_dates[labelled_dates < eval_cut]
    stop_cut = earlier[int(np.floor((1 - STOP_SHARE) * (len(earlier) - 1)))]
    if stop_cut == earlier[0]:
        stop_cut = max(earlier)
    evaluation = (decided >= eval_cut) & decision
    stop = (decided >= stop_cut) & (decided < eval_cut) & decision
    fit = decided < stop_cut
    for name, mask in (("fitted", fit), ("early-stopping", stop), ("evaluation", evaluation)):
        if int(frame.loc[mask, "label"].sum()) < 1:
            raise ModelError(f"the {name} part of the time split has no confirmed label; more are needed")
    if int(frame.loc[fit & decision, "label"].sum()) < MIN_POSITIVES:
        raise ModelError(f"the fitted part has fewer than {MIN_POSITIVES} confirmed labels")
    return fit, stop, evaluation


def weights(frame: pd.DataFrame) -> np.ndarray:
    """Sample weights: 1 for confirmed customers at their decision, `LEAD_WEIGHT` for their lead points,
    `CLEARED_WEIGHT` for investigated and cleared ones, `UNLABELLED_WEIGHT` for the unlabelled sample."""
    confirmed = np.where(frame["lead_days"].to_numpy() > 0, LEAD_WEIGHT, 1.0)
    cleared = np.where(frame["label"].to_numpy() == 0, CLEARED_WEIGHT, confirmed)
    return np.where(frame["typology"] == evaluate.UNLABELLED, UNLABELLED_WEIGHT, cleared)


def fit(
    frame: pd.DataFrame,
    fit_mask: pd.Series,
    stop_mask: pd.Series,
    columns: Sequence[str],
    monotone: Sequence[int],
) -> tuple[xgb.Booster, dict[str, Any]]:
    """Fit on the `fit_mask` rows with early stopping on `stop_mask`; return the booster cut at its "
    "best round."""
    columns = list(columns)
    train_rows, stop_rows = frame[fit_mask], frame[stop_mask]
    train_weights = weights(train_rows)
    positive = train_weights[train_rows["label"].to_numpy() == 1].sum()
    negative = train_weights[train_rows["label"].to_numpy() == 0].sum()
    params = {
        **PARAMS,
        "scale_pos_weight": float(np.sqrt(negative / positive)),
        "monotone_constraints": "(" + ",".join(str(int(m)) for m in monotone) + ")",
    }
    dtrain = xgb.DMatrix(train_rows[columns].astype("float64"), label=train_rows["label"],
                         weight=train_weights, feature_names=columns)
    dstop = xgb.DMatrix(stop_rows[columns].astype("float64"), label=stop_rows["label"],
                        weight=weights(stop_rows), feature_names=columns)
    booster = xgb.train(params, dtrain, num_boost_round=MAX_ROUNDS, evals=[(dstop, "stop")],
                        early_stopping_rounds=EARLY_STOPPING_ROUNDS, verbose_eval=False)
    best = int(booster.best_iteration)
    booster = booster[: best + 1]
    return booster, {**params, "best_iteration": best, "max_rounds": MAX_ROUNDS}


def refit(frame: pd.DataFrame, columns: Sequence[str], params: dict[str, Any]) -> xgb.Booster:
    """The same model fitted on every row of `frame` for the holdout model's `best_iteration + 1` rounds."""
    columns = list(columns)
    row_weights = weights(frame)
    labels = frame["label"].to_numpy()
    ratio = row_weights[labels == 0].sum() / row_weights[labels == 1].sum()
    settings = {k: v for k, v in params.items() if k not in ("best_iteration", "max_rounds")}
    settings["scale_pos_weight"] = float(np.sqrt(ratio))
    matrix = xgb.DMatrix(frame[columns].astype("float64"), label=frame["label"], weight=row_weights,
                         feature_names=columns)
    return xgb.train(settings, matrix, num_boost_round=int(params["best_iteration"]) + 1)


def predict(booster: xgb.Booster, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    matrix = xgb.DMatrix(frame[list(columns)].astype("float64"), feature_names=list(columns))
    return booster.predict(matrix).astype("float64")


# --- provenance ---------------------------------------------------------------------------------------------


def ledger_fingerprint(output_root: Path, as_of: date) -> str:
    """sha256 of the validated files' relative names and sizes (transactions partitions before `as_of`)."""
    root = output_catalogue.dataset("validated_transactions").folder(output_root)
    digest = hashlib.sha256()
    cut = f"{ledger.PARTITION_COLUMN}={as_of.isoformat()}"
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or files.is_hidden(relative):
            continue
        partition = next((p for p in relative.parts if p.startswith(f"{ledger.PARTITION_COLUMN}=")), None)
        if partition is not None and partition >= cut:
            continue
        digest.update(f"{relative.as_posix()}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def code_version() -> str:
    """Package version plus a short hash of the model code."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return f"{bantay.__version__}+{digest.hexdigest()[:12]}"


def feature_list_hash(columns: Sequence[str], monotone: Sequence[int]) -> str:
    listed = ",".join(f"{c}:{m}" for c, m in zip(columns, monotone, strict=True))
    return hashlib.sha256(listed.encode()).hexdigest()


# --- the step -----------------------------------------------------------------------------------------------


def run(settings: Settings, as_of: date, promote: bool = False, engine: str = "auto") -> dict[str, Any]:
    """Train as of `as_of`, log and register the model (alias `challenger`); optionally run the gate.

    `engine`: "driver" (pandas), "spark" (`xgboost.spark`) or "auto" (spark above `DRIVER_ROWS_LIMIT` rows).
    """
    if engine not in ("auto", "driver", "spark"):
        raise ModelError(f"engine {engine!r}: expected auto, driver or spark")
    started = clock.monotonic()
    spark = spark_session.session(settings)
    specs = catalogue()
    table = training_rows(spark, settings, as_of, [spec.name for spec in specs])
    rows = table.count()
    if engine == "spark" or (engine == "auto" and rows > DRIVER_ROWS_LIMIT):
        logger.info("training on the cluster (xgboost.spark): %d rows", rows)
        result = train_distributed(settings, as_of, table, specs)
    else:
        result = train_frame(settings, as_of, to_frame(table), specs)
    table.unpersist()
    result["seconds"] = round(clock.monotonic() - started, 1)
    if promote:
        result["promotion"] = registry.promote(settings, version=result["version"])
    return result


def train_frame(settings: Settings, as_of: date, frame: pd.DataFrame, specs: Sequence[Any]) -> dict[str, Any]:
    """Split, fit, evaluate against the rules, log and register; `frame` is `training_table`'s output."""
    started = clock.monotonic()
    columns = [spec.name for spec in specs]
    monotone = [int(spec.monotone) for spec in specs]
    fit_mask, stop_mask, eval_mask = time_split(frame)
    booster, params = fit(frame, fit_mask, stop_mask, columns, monotone)
    production = refit(frame, columns, params)
    labelled_only = frame["typology"] != evaluate.UNLABELLED
    variant, _ = fit(frame, fit_mask & labelled_only, stop_mask & labelled_only, columns, monotone)
    counts = {
        "rows_fit": int(fit_mask.sum()),
        "rows_stop": int(stop_mask.sum()),
        "rows_eval": int(eval_mask.sum()),
        "positives_fit": int(frame.loc[fit_mask & (frame["lead_days"] == 0), "label"].sum()),
        "lead_points_fit": int((fit_mask & (frame["lead_days"] > 0)).sum()),
        "unlabelled_sample": int((~labelled_only).sum()),
        "stop_from": str(frame.loc[stop_mask, "as_of"].min()),
    }
    fitted = _Fitted(booster, production, variant, params, clock.monotonic() - started, "driver")
    return _evaluate_and_log(settings, as_of, frame, frame[eval_mask].reset_index(drop=True), specs, fitted,
                             counts)


def train_distributed(
    settings: Settings, as_of: date, table: DataFrame, specs: Sequence[Any]
) -> dict[str, Any]:
    """`train_frame` for a table kept in Spark: the holdout model and the refit grown by `xgboost.spark`.

    The split's cut dates come from the labelled rows (brought to the driver, with the labels-only variant
    fitted on them); the evaluation part and a sample for MLflow's signature and dataset come to the driver.
    """
    started = clock.monotonic()
    columns = [spec.name for spec in specs]
    monotone = [int(spec.monotone) for spec in specs]
    labelled = to_frame(table.where(F.col("typology") != evaluate.UNLABELLED))
    fit_mask, stop_mask, eval_mask = time_split(labelled)
    stop_cut = labelled.loc[stop_mask, "decided_on"].min()
    eval_cut = labelled.loc[eval_mask, "decided_on"].min()
    variant, _ = fit(labelled, fit_mask, stop_mask, columns, monotone)
    parted = distributed.with_parts(
        table, stop_cut, eval_cut, evaluate.UNLABELLED, UNLABELLED_WEIGHT, CLEARED_WEIGHT, LEAD_WEIGHT
    ).cache()
    base = {**PARAMS, "monotone_constraints": "(" + ",".join(str(m) for m in monotone) + ")"}
    booster, params = distributed.fit(parted, columns, base, MAX_ROUNDS, EARLY_STOPPING_ROUNDS)
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
    fitted = _Fitted(booster, production, variant, params, clock.monotonic() - started, "spark")
    return _evaluate_and_log(settings, as_of, sample, evaluation, specs, fitted, counts)


@dataclass(frozen=True)
class _Fitted:
    """What either path fitted: holdout model, registered refit, labels-only variant, and how."""

    booster: xgb.Booster
    production: xgb.Booster
    variant: xgb.Booster
    params: dict[str, Any]
    seconds: float
    engine: str


def _evaluate_and_log(
    settings: Settings,
    as_of: date,
    frame: pd.DataFrame,
    evaluation: pd.DataFrame,
    specs: Sequence[Any],
    fitted: _Fitted,
    counts: dict[str, Any],
) -> dict[str, Any]:
    """Metrics of the holdout model, the rules and the variant on `evaluation`; log and register.

    `frame` is the training table (or, on the Spark path, a sample of it) for the signature and dataset.
    """
    columns = [spec.name for spec in specs]
    monotone = [int(spec.monotone) for spec in specs]
    booster, variant, fit_seconds = fitted.booster, fitted.variant, fitted.seconds
    reference = frame[frame["typology"] == evaluate.UNLABELLED]
    for model in (booster, fitted.production):
        explain.set_baseline(model, reference if len(reference) else frame, columns)
    model_scores = predict(booster, evaluation, columns)
    rules_scores = baseline.score(evaluation[columns])
    variant_scores = predict(variant, evaluation, columns)
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
    counts = {**counts, "positives_eval": int(evaluation["label"].sum()),
              "eval_from": str(evaluation["as_of"].min())}
    run_info = _log(settings, as_of, frame, evaluation, columns, monotone, fitted, counts, metrics,
                    model_scores, rules_scores)
    logger.info("trained %s version %s as of %s: PR-AUC %.3f (rules %.3f) on %d evaluation rows",
                settings.model_name, run_info["version"], as_of, metrics["pr_auc"], rules_auc,
                counts["rows_eval"])
    return {
        "as_of": as_of.isoformat(),
        **run_info,
        **counts,
        "metrics": {k: round(v, 4) for k, v in metrics.items() if np.isfinite(v)},
    }


def _log(
    settings: Settings,
    as_of: date,
    frame: pd.DataFrame,
    evaluation: pd.DataFrame,
    columns: list[str],
    monotone: list[int],
    fitted: _Fitted,
    counts: dict[str, Any],
    metrics: dict[str, float],
    model_scores: np.ndarray,
    rules_scores: np.ndarray,
) -> dict[str, str]:
    """Everything MLflow keeps of a run: no customer id ever leaves this function.

    `fitted.booster` is the holdout model (metrics, plots, the gate), `fitted.production` the refit that is
    registered.
    """
    booster, production, params = fitted.booster, fitted.production, fitted.params
    experiment_id = registry.ensure_experiment(settings)
    mlflow_client = registry.client(settings)
    inputs = frame[columns].astype("float64")
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{as_of.isoformat()}") as active:
        mlflow.set_tags({
            "as_of": as_of.isoformat(),
            "ledger_fingerprint": ledger_fingerprint(settings.output_root, as_of),
            "code_version": code_version(),
            "feature_list_hash": feature_list_hash(columns, monotone),
            "training_engine": fitted.engine,
        })
        mlflow.log_params({
            **{k: v for k, v in params.items() if k != "monotone_constraints"},
            "monotone_features": sum(1 for m in monotone if m),
            "features": len(columns),
            "eval_share": EVAL_SHARE,
            "stop_share": STOP_SHARE,
            "unlabelled_ratio": UNLABELLED_RATIO,
            "unlabelled_min": UNLABELLED_MIN,
            "refit_rounds": int(params["best_iteration"]) + 1,
            "unlabelled_weight": UNLABELLED_WEIGHT,
            "cleared_weight": CLEARED_WEIGHT,
            "lead_days": " ".join(str(n) for n in LEAD_DAYS),
            "lead_weight": LEAD_WEIGHT,
            "lead_min_p2p": LEAD_MIN_P2P,
            "alert_budget": settings.alert_budget,
            "min_alert_score": settings.min_alert_score,
            **counts,
        })
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        _log_plots(evaluation, columns, booster, model_scores, rules_scores)
        for context, part in (("training", frame), ("evaluation", evaluation)):
            logged = part[[*columns, "label"]].astype("float64").reset_index(drop=True)
            dataset = mlflow.data.from_pandas(logged, targets="label", name=f"bantay-{context}")
            mlflow.log_input(dataset, context=context)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(registry.EVAL_ARTIFACT).name
            evaluation[[*columns, "label", "typology", "as_of"]].to_parquet(path, index=False)
            mlflow.log_artifact(str(path), artifact_path=registry.EVAL_ARTIFACT_DIR)
            holdout = Path(folder) / Path(registry.HOLDOUT_ARTIFACT).name
            booster.save_model(str(holdout))
            mlflow.log_artifact(str(holdout), artifact_path=registry.HOLDOUT_ARTIFACT_DIR)
        info = mlflow.xgboost.log_model(
            production,
            name="model",
            signature=infer_signature(inputs, predict(production, frame.head(200), columns)),
            input_example=inputs.head(3),
            registered_model_name=settings.model_name,
            pip_requirements=[f"xgboost=={xgb.__version__}"],
            model_format="ubj",
        )
        run_id = active.info.run_id
    version = str(info.registered_model_version)
    mlflow_client.set_registered_model_alias(settings.model_name, registry.CHALLENGER, version)
    mlflow_client.set_model_version_tag(settings.model_name, version, "as_of", as_of.isoformat())
    mlflow_client.set_model_version_tag(settings.model_name, version, "pr_auc", f"{metrics['pr_auc']:.4f}")
    mlflow_client.set_model_version_tag(settings.model_name, version, "eval_from", counts["eval_from"])
    return {"run_id": run_id, "version": version, "model_uri": f"models:/{settings.model_name}/{version}"}


def _log_plots(
    evaluation: pd.DataFrame,
    columns: list[str],
    booster: xgb.Booster,
    model_scores: np.ndarray,
    rules_scores: np.ndarray,
) -> None:
    import matplotlib.pyplot as plt

    labels = evaluation["label"].to_numpy(dtype="int64")
    groups = np.where(labels == 1, "confirmed",
                      np.where(evaluation["typology"] == evaluate.UNLABELLED, "unlabelled sample", "cleared"))
    matrix = xgb.DMatrix(evaluation[columns].astype("float64"), feature_names=columns)
    contribs = booster.predict(matrix, pred_contribs=True)[:, : len(columns)]
    gains = booster.get_score(importance_type="total_gain")
    figures = {
        "pr_curve": plots.pr_curves(labels, {"model": model_scores, "rules": rules_scores}),
        "score_distribution": plots.score_distribution(model_scores, groups),
        "shap_summary": plots.shap_summary(contribs, evaluation[columns].to_numpy(dtype="float64"), columns),
        "feature_importance": plots.importance({c: float(gains.get(c, 0.0)) for c in columns}),
        "reliability": plots.reliability(labels, model_scores),
    }
    # Per typology of the labels (and the unlabelled sample): what lifts each, e.g. a cleared look-alike.
    typologies = evaluation["typology"].astype(str).tolist()
    by_typology = explain.contributions_by_group(contribs, typologies, columns)
    figures["contributions_by_typology"] = plots.contributions_heatmap(by_typology)
    mlflow.log_table(by_typology.reset_index().rename(columns={"group": "typology"}),
                     f"{registry.EVAL_ARTIFACT_DIR}/contributions_by_typology.json")
    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
        plt.close(figure)
