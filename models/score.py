"""Score a feature table in Spark, rank it, pick the alerts within the budget, with reasons.

Up to `DRIVER_ROWS_LIMIT` customers the table comes to the driver as one Arrow batch and is scored there;
above, on the executors: the booster is broadcast once as raw bytes and applied batch by batch with
`mapInPandas`. Reasons come from `pred_contribs`, measured against the model's stored baseline
(`explain.baseline`: a typical customer paying abroad). A book-relative model (`bantay.models.ranks`) gets
the day's amounts ranked among the day's customers paying abroad first (on the driver with pandas, on the
executors in Spark: a window per amount column and one aggregation by customer, two shuffles of the narrow
stacked values), and its reasons state the amount and where it stands.

Alert rule (the daily budget): `K = min(floor(alert_budget x customers scored), alert_capacity)`. Going down
the ranking (score descending, customer id ascending on ties; a scorer may give a `tiebreak` column, ordered
descending before the id: the rules do), a customer is *eligible* when
`score >= min_alert_score` and it is not a recently cleared customer held back by the re-alert rule; the first
`K` eligible customers are alerted. A held-back customer does not use up a place in the budget, nor does a
customer with an open case (`continuing`): the budget counts new cases, and an open case's customer ranked
above the first new customer left out is alerted too, so that the day's evidence joins the open case.

Re-alert rule: a customer whose latest label decided before D is 0 (investigated and cleared) and was decided
within `realert_cooldown_days` before D is alerted again only if its score reached its score at the last
scoring on or before the decision day plus `realert_margin`. When no earlier score exists, or it was made by
another scorer than today's (the rules before a first champion, or an earlier version: their scales differ),
the bar is `min_alert_score + realert_margin`. The earlier scores looked at are the score tables from the
cooldown's first day on and the last one before it (`score_customers.prior_scores`): a customer absent from
all of them (scored only more than a year before its decision, with no activity since) counts as never
scored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from joblib import cpu_count
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from bantay import ledger
from bantay.models import explain, ranks

SCORED_SCHEMA = (
    "customer_id string, score double, "
    "reasons array<struct<code:string, feature:string, text:string, contribution:double, value:double>>"
)
OUTPUT_COLUMNS = ("customer_id", "score", "rank", "alert", "model_version", "reasons")


# A feature table of at most this many rows is scored on the driver: it comes over as one Arrow batch and
# back as one frame, instead of starting a Python worker with XGBoost on every executor core (measured on
# 2,000 customers: docs/performance.md).
DRIVER_ROWS_LIMIT = 1_000_000


def score_features(
    features: DataFrame,
    booster_raw: bytes,
    columns: Sequence[str],
    top_k: int = explain.TOP_REASONS,
    rows: int | None = None,
    ranked: Sequence[str] = (),
    explained: int | None = None,
) -> DataFrame:
    """`customer_id, score, reasons` for every row of `features` (which must hold `columns`).

    `rows`: the row count of `features` when the caller knows it; up to `DRIVER_ROWS_LIMIT` the rows are
    scored on the driver, else batch by batch on the executors. Each row's score and reasons are the same
    either way (every row is scored on its own, after the ranks).

    `explained`: reasons (TreeSHAP, the costly part: 51 s for 37,792 customers against 0.6 s for the scores)
    only for the rows whose score is at least the `explained`-th highest score (ties included); the others
    get an empty list. None: every row. On the executors the cut-off score comes from a first pass of scores
    only (`_cutoff`); with `ranked` columns the ranked table is held (an eager local checkpoint) so that the
    two passes rank the day once.

    `ranked`: the columns a book-relative model reads as ranks (`ranks.columns_of(booster)`), ranked among
    the table's own customers paying abroad: on the driver with `ranks.ranked`, on the executors with
    `ranks.spark_ranked` (equal); reasons state the amounts, and where they stand.
    """
    columns = list(columns)
    numeric = [F.col(c).cast("double").alias(c) for c in columns]
    book = [] if not ranked or ranks.REFERENCE_COLUMN in columns else [F.col(ranks.REFERENCE_COLUMN)]
    table = features.select(F.col("customer_id"), *numeric, *book)
    if rows is not None and rows <= DRIVER_ROWS_LIMIT:
        day = table.toPandas()
        if ranked:
            day = ranks.ranked(day, ranked, ranks.in_book(day))
        cutoff, known = None, None
        if explained is not None and len(day):
            # One prediction of the day serves the cut-off and the scores (at 377,928 customers each pass
            # of a 3,190-tree model took about a minute on the driver).
            known = _booster(booster_raw, driver_threads()).predict(_matrix(day, columns)).astype("float64")
            cutoff = _nth_highest(known, explained)
        scorer = _scorer(booster_raw, columns, top_k, list(ranked), cutoff, known, driver_threads())
        parts = list(scorer(iter([day])))
        spark = features.sparkSession
        if not parts:
            return spark.createDataFrame([], SCORED_SCHEMA)
        return spark.createDataFrame(pd.concat(parts, ignore_index=True), SCORED_SCHEMA)
    if ranked:
        table = ranks.spark_ranked(table, ranked, "customer_id")
        if explained is not None:  # two passes read the ranks (cut-off, then scores): rank the day once
            table = table.localCheckpoint(eager=True)
    shared = features.sparkSession.sparkContext.broadcast(booster_raw)
    cut = None if explained is None else _cutoff(table, shared, columns, explained)

    def _score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return _scorer(shared.value, columns, top_k, list(ranked), cut)(batches)

    return table.mapInPandas(_score, SCORED_SCHEMA)


def _booster(booster_raw: bytes, threads: int = 1) -> xgb.Booster:
    """The model for scoring: one thread in a Spark task (one task per core already), the driver's cores on
    the driver. Each row's prediction and TreeSHAP values are the same floats whatever the thread count."""
    booster = xgb.Booster()
    booster.load_model(bytearray(booster_raw))
    booster.set_param({"nthread": threads})
    return booster


def driver_threads() -> int:
    """The CPUs this process may use, its affinity and a container's CPU quota counted (joblib's count, as
    `bantay.pool`): the driver scores alone, no Spark task runs meanwhile."""
    return max(1, int(cpu_count()))


def _matrix(batch: pd.DataFrame, columns: list[str]) -> xgb.DMatrix:
    return xgb.DMatrix(batch[columns].astype("float64"), feature_names=columns)


def _nth_highest(scores: np.ndarray, n: int) -> float:
    """The `n`-th highest of `scores` (the lowest when there are fewer)."""
    ordered = np.sort(scores)[::-1]
    return float(ordered[min(max(n, 1), len(ordered)) - 1])


def _cutoff(table: DataFrame, shared: Any, columns: list[str], n: int) -> float | None:
    """The `n`-th highest score of `table` on the executors: a pass of scores only (no TreeSHAP)."""

    def _scores(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        booster = _booster(shared.value)
        for batch in batches:
            if not batch.empty:
                yield pd.DataFrame({"score": booster.predict(_matrix(batch, columns)).astype("float64")})

    top = table.mapInPandas(_scores, "score double").orderBy(F.col("score").desc()).limit(max(n, 1))
    row = top.agg(F.min("score")).first()
    return None if row is None or row[0] is None else float(row[0])


def _scorer(
    booster_raw: bytes,
    columns: list[str],
    top_k: int,
    ranked: list[str],
    cutoff: float | None = None,
    known: np.ndarray | None = None,
    threads: int = 1,
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """Score pandas batches of `customer_id` + `columns` (ranks in the `ranked` columns, their raw values
    beside) with the booster: `customer_id, score, reasons` (reasons for the rows scored at least `cutoff`;
    None: every row). `known`: the scores of a single batch, already predicted (the driver's path, which
    also gives `threads`)."""
    info = explain.feature_info(columns)

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        booster = _booster(booster_raw, threads)
        reference = explain.baseline(booster, columns)
        for batch in batches:
            if batch.empty:
                continue
            if known is not None and len(known) == len(batch):
                scores = known
            else:
                scores = booster.predict(_matrix(batch, columns)).astype("float64")
            chosen = np.ones(len(batch), dtype=bool) if cutoff is None else scores >= cutoff
            reasons: list[list[dict[str, Any]]] = [[] for _ in range(len(batch))]
            if chosen.any():
                rows = batch[chosen].reset_index(drop=True)
                contribs = explain.contributions(booster, rows, columns)
                stated = ranks.raw(rows) if ranked else rows
                standing = rows[ranked] if ranked else None
                found = explain.top_reasons(contribs, stated, columns, info, top_k, reference, standing)
                for index, explained_row in zip(np.flatnonzero(chosen), found, strict=True):
                    reasons[index] = explained_row
            yield pd.DataFrame({
                "customer_id": batch["customer_id"].astype("string"),
                "score": scores,
                "reasons": reasons,
            })

    return score


def alert_count(customers: int, budget: float, capacity: int | None) -> int:
    """How many alerts the day allows: the budget share of customers scored, capped by the capacity."""
    allowed = math.floor(budget * customers + 1e-9)
    return min(allowed, capacity) if capacity is not None else allowed


def realert_bars(
    labels: DataFrame,
    prior_scores: DataFrame | None,
    as_of: date,
    cooldown_days: int,
    margin: float,
    min_score: float,
    version: str | None = None,
) -> DataFrame:
    """`customer_id, required_score` for customers cleared within the cooldown (see the module docstring).

    `labels` has the contract columns; `prior_scores` has `customer_id, score, as_of` and, when known,
    `model_version` (earlier score tables); `version` is today's scorer (None: every earlier score counts).
    """
    cut = ledger.day_start(as_of)
    since = ledger.day_start(as_of - timedelta(days=cooldown_days))
    latest = Window.partitionBy("customer_id").orderBy(F.col("decided_at").desc(), F.col("label").asc())
    cleared = (
        labels.where(F.col("decided_at") < F.lit(cut))
        .withColumn("_n", F.row_number().over(latest))
        .where((F.col("_n") == 1) & (F.col("label") == 0) & (F.col("decided_at") >= F.lit(since)))
        .select("customer_id", ledger.utc_day(F.col("decided_at")).alias("decided_on"))
    )
    if prior_scores is None:
        return cleared.select("customer_id", F.lit(min_score + margin).alias("required_score"))
    latest_score = Window.partitionBy("customer_id").orderBy(F.col("scored_on").desc())
    same = F.lit(True)
    if version is not None and "model_version" in prior_scores.columns:
        same = F.col("model_version") == F.lit(version)
    before = (
        cleared.join(prior_scores.withColumnRenamed("as_of", "scored_on"), on="customer_id", how="inner")
        .where(F.col("scored_on") <= F.col("decided_on"))
        .withColumn("_n", F.row_number().over(latest_score))
        .where((F.col("_n") == 1) & same)
        .select("customer_id", F.col("score").alias("score_before"))
    )
    return cleared.join(before, on="customer_id", how="left").select(
        "customer_id",
        F.coalesce(F.col("score_before") + F.lit(margin), F.lit(min_score + margin)).alias("required_score"),
    )


def rank_and_alert(
    scored: DataFrame,
    alerts_allowed: int,
    min_score: float,
    bars: DataFrame | None,
    model_version: str,
    continuing: DataFrame | None = None,
) -> DataFrame:
    """Add `rank` (1 = riskiest) and `alert` to `customer_id, score, reasons`; the output contract's columns.

    `continuing` (`customer_id`) are customers with an open case: they use no place in the budget.
    The ranking window has no partition key: Spark moves the (narrow) scored rows to one partition to number
    them, which is fine for tens of millions of rows of three columns.
    """
    ties = [F.col("tiebreak").desc_nulls_last()] if "tiebreak" in scored.columns else []
    order = Window.orderBy(F.col("score").desc(), *ties, F.col("customer_id").asc())
    running = order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    frame = scored
    if bars is not None:
        frame = frame.join(F.broadcast(bars), on="customer_id", how="left")
    else:
        frame = frame.withColumn("required_score", F.lit(None).cast("double"))
    if continuing is not None:
        flagged = continuing.select("customer_id").distinct().withColumn("_continuing", F.lit(True))
        frame = frame.join(F.broadcast(flagged), on="customer_id", how="left")
    else:
        frame = frame.withColumn("_continuing", F.lit(None).cast("boolean"))
    eligible = (F.col("score") >= F.lit(min_score)) & (
        F.col("required_score").isNull() | (F.col("score") >= F.col("required_score"))
    )
    return (
        frame.withColumn("rank", F.row_number().over(order).cast("int"))
        .withColumn("_eligible", eligible)
        .withColumn("_new", F.col("_eligible") & F.col("_continuing").isNull())
        .withColumn("_place", F.sum(F.col("_new").cast("int")).over(running))
        .withColumn("alert", F.col("_eligible") & (F.col("_place") <= F.lit(alerts_allowed)))
        .withColumn("model_version", F.lit(model_version))
        .select(*OUTPUT_COLUMNS)
    )
