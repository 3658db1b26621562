"""Book-relative amounts: a model reads each USD amount as its rank among the customers paying abroad.

A bank whose customers send larger or smaller sums, in other currencies or corridors, is then scored on the
same footing as the ledger the model was trained on (measured across worlds: docs/experiments.md, "book-
relative amounts"). The rank of a value v in a column is the share of the *book* (customers with a payment
abroad in the 365 days before the date, `REFERENCE_COLUMN` > 0) whose value is at or below v: the book's
empirical distribution function, in [0, 1]. A missing value stays missing; a column with no book value
becomes missing. The reference column itself, counts and shares stay absolute.

Whose book: training ranks its rows among the unlabelled sample's book rows (a random sample of the book over
the training period); scoring ranks each day's customers among that day's book (`spark_ranked`, the same
function in Spark, equal to `ranked`); monitoring's reference scores the book as of the training date among
itself. A booster trained this way carries the ranked columns in its attribute `ATTR`, so that scoring, the
promotion gate and the model card give each version its own terms. A frame whose ranked columns hold ranks
keeps the raw values beside them as `RAW_PREFIX + column` (`raw` restores them): reasons state amounts, the
monitoring compares raw features, and a version trained on raw amounts is scored on raw amounts.

Point in time: a training row's features use only data before its own date, but its rank compares it with
the unlabelled sample's rows of every date up to the cut-off D, later ones included. The rank is one fixed,
non-decreasing map of the amount for every row, so nothing of the row's own label or later activity enters
it; yet training's reference (rows over the training period, short windows at early dates, investigated
customers left out) is not the book a day's scoring sees, and the same amount can rank a little higher in
training than in scoring. That is the protocol measured across worlds. A reference per date (each training
row among the unlabelled book rows nearest its own date, `ranked_near_dates`, the benchmark variant
`book_usd_dated`) was measured on five fresh worlds and scored lower (worst PR-AUC 0.43 against 0.49,
docs/experiments.md, 2026-12-07), so training keeps the all-dates reference. The first scored days' score PSI
(monitoring) shows the gap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from bantay.errors import ModelError

ATTR = "book_relative"  # booster attribute: JSON list of the columns the booster reads as ranks
RAW_PREFIX = "book_raw__"  # a ranked frame's raw value of column c is in RAW_PREFIX + c
REFERENCE_COLUMN = "n_p2p_365d"  # > 0: the customer paid abroad in the 365 days before the date
UNITS = ("USD", "USD (median)")  # the catalogue units whose scale is the bank's own


def columns(specs: Sequence[Any]) -> list[str]:
    """The model inputs among `specs` whose unit is an amount (`UNITS`), the reference column aside."""
    return [s.name for s in specs if getattr(s, "unit", None) in UNITS and s.name != REFERENCE_COLUMN]


def in_book(frame: pd.DataFrame) -> np.ndarray:
    """Rows of customers who paid abroad in the 365 days before their date."""
    count = pd.to_numeric(frame.get(REFERENCE_COLUMN, pd.Series(np.nan, index=frame.index)), errors="coerce")
    return np.asarray(count.fillna(0).to_numpy() > 0, dtype=bool)


def rank_values(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each value's rank among `reference` (the share at or below it); NaN stays NaN, all NaN without one."""
    known = ~np.isnan(values)
    book = np.sort(reference[~np.isnan(reference)])
    ranks = np.searchsorted(book, values, side="right") / max(len(book), 1)
    return np.where(known & (len(book) > 0), ranks, np.nan)


def ranked(frame: pd.DataFrame, ranked_columns: Sequence[str], reference: np.ndarray,
           keep_raw: bool = True) -> pd.DataFrame:
    """`frame` with each of `ranked_columns` replaced by its rank among the `reference` rows (a boolean mask);
    with `keep_raw` the raw values stay as `RAW_PREFIX + column`."""
    out = frame.copy()
    for column in ranked_columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if keep_raw:
            out[RAW_PREFIX + column] = values
        out[column] = rank_values(values, values[np.asarray(reference, dtype=bool)])
    return out


def nearest_dates(dates: np.ndarray, reference_dates: np.ndarray, size: int) -> dict[Any, np.ndarray]:
    """For each distinct date of `dates`, a mask of the `reference_dates` nearest to it: the `size` closest
    (in days, before or after), with every row as close as the last one taken (ties all in), or all of them
    when there are fewer. `dates` and `reference_dates` are arrays of `datetime.date`."""
    ordinal = np.array([d.toordinal() for d in reference_dates], dtype=np.int64)
    out: dict[Any, np.ndarray] = {}
    for day in sorted(set(dates.tolist())):
        distance = np.abs(ordinal - day.toordinal())
        if len(distance) <= size:
            out[day] = np.ones(len(distance), dtype=bool)
            continue
        out[day] = distance <= np.partition(distance, size - 1)[size - 1]
    return out


def ranked_near_dates(frame: pd.DataFrame, ranked_columns: Sequence[str], reference: np.ndarray,
                      size: int, keep_raw: bool = True) -> pd.DataFrame:
    """`ranked`, with each row ranked among the `size` reference rows nearest to its own `as_of` (ties in)
    instead of among all of them: the book of (about) the row's date, as scoring ranks a day's customers among
    that day's book. Rows are ranked date by date; the raw values are kept as in `ranked`."""
    reference = np.asarray(reference, dtype=bool)
    dates = frame["as_of"].to_numpy()
    # Per date: its rows and its reference rows, found once for every column.
    near = [(dates == day, mask) for day, mask in nearest_dates(dates, dates[reference], size).items()]
    out = frame.copy()
    for column in ranked_columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        book = values[reference]
        result = np.full(len(values), np.nan)
        for rows, mask in near:
            result[rows] = rank_values(values[rows], book[mask])
        if keep_raw:
            out[RAW_PREFIX + column] = values
        out[column] = result
    return out


def raw(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every ranked column's raw value back in place (a frame without raw values: as it is)."""
    kept = [c for c in frame.columns if c.startswith(RAW_PREFIX)]
    if not kept:
        return frame
    out = frame.drop(columns=kept)
    for column in kept:
        out[column.removeprefix(RAW_PREFIX)] = frame[column].to_numpy()
    return out


def mark(booster: xgb.Booster, ranked_columns: Sequence[str]) -> None:
    """Record on the booster which columns it reads as ranks (none: a booster of raw amounts)."""
    booster.set_attr(**{ATTR: json.dumps(list(ranked_columns))})


def columns_of(booster: xgb.Booster) -> list[str]:
    """The columns `booster` reads as ranks in the book (empty for a booster trained on raw amounts)."""
    stored = booster.attr(ATTR)
    return list(json.loads(stored)) if stored else []


def model_input(booster: xgb.Booster, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of `frame` in `booster`'s terms. `frame` is ranked (it holds raw values beside ranks) or raw:
    a booster of raw amounts gets the raw values; a book-relative one the ranks, which a raw frame lacks."""
    wanted = columns_of(booster)
    if not wanted:
        return raw(frame)
    missing = [c for c in wanted if RAW_PREFIX + c not in frame.columns]
    if missing:
        raise ModelError(
            f"the rows hold no book ranks of {len(missing)} column(s) the model reads as ranks "
            f"({', '.join(missing[:3])}): logged by an older `bantay train`; train again"
        )
    return frame


def as_scored(booster: xgb.Booster, day: pd.DataFrame) -> pd.DataFrame:
    """A day's raw feature rows as scoring gives them to `booster`: its ranked columns ranked among that day's
    own customers paying abroad (`ranked`, what `score_features` does)."""
    wanted = columns_of(booster)
    if wanted and REFERENCE_COLUMN not in day.columns:
        raise ModelError(f"book ranks need {REFERENCE_COLUMN} (who pays abroad) in the feature rows")
    return ranked(day, wanted, in_book(day)) if wanted else day


def book_flag() -> Column:
    """Spark's `in_book`: the row's customer paid abroad in the 365 days before its date (NaN, null: no)."""
    count = F.nanvl(F.col(REFERENCE_COLUMN).cast("double"), F.lit(None).cast("double"))
    return F.coalesce(count > F.lit(0.0), F.lit(False))


def spark_ranked(features: DataFrame, ranked_columns: Sequence[str], key: str,
                 reference: Column | None = None) -> DataFrame:
    """`features` with each of `ranked_columns` replaced by its rank among the `reference` rows (default: the
    book, `REFERENCE_COLUMN` > 0) and its raw value kept as `RAW_PREFIX + column`; equal to `ranked`.

    `key` must identify a row. One pass for every column: the values, stacked as (key, column, value, in the
    reference), are ranked in one window per column (partitioned by the column's name, ordered by value, a
    range frame so that equal values count together; at most one task per column), divided by each column's
    book size (a small aggregate, broadcast), gathered back by key in one aggregation and joined to
    `features`. NaN counts as missing, as in `ranked`. Scoring uses it above `DRIVER_ROWS_LIMIT` customers;
    below, the driver's `ranked` (the two are tested equal).
    """
    names = list(ranked_columns)
    if not names:
        return features
    if key in names:
        raise ModelError(f"book ranks: the key {key!r} cannot be a ranked column")

    def number(name: str) -> Column:
        return F.nanvl(F.col(name).cast("double"), F.lit(None).cast("double"))

    if reference is None:
        reference = book_flag()

    stacked = features.select(
        F.col(key).alias("_key"),
        reference.alias("_ref"),
        F.explode(F.array(*[
            F.struct(F.lit(name).alias("column"), number(name).alias("value")) for name in names
        ])).alias("_cell"),
    ).select("_key", "_ref", "_cell.column", "_cell.value")
    counted = F.when(F.col("_ref") & F.col("value").isNotNull(), F.lit(1)).otherwise(F.lit(0))
    upto = (Window.partitionBy("column").orderBy(F.col("value").asc_nulls_first())
            .rangeBetween(Window.unboundedPreceding, 0))
    books = stacked.groupBy("column").agg(F.sum(counted).alias("_book"))  # one row per column
    ranked_cells = (
        stacked.withColumn("_at_or_below", F.sum(counted).over(upto))
        .join(F.broadcast(books), on="column")
        .select("_key", "column", F.when(
            F.col("value").isNotNull() & (F.col("_book") > 0),
            F.col("_at_or_below").cast("double") / F.col("_book").cast("double"),
        ).alias("rank"))
    )
    ranks = ranked_cells.groupBy("_key").agg(*[
        F.max(F.when(F.col("column") == F.lit(name), F.col("rank"))).alias(name) for name in names
    ]).withColumnRenamed("_key", key)
    raws = [number(name).alias(RAW_PREFIX + name) for name in names]
    kept = [c for c in features.columns if c not in names]
    joined = features.select(*kept, *raws).join(ranks, on=key, how="left")
    return joined.select(*kept, *names, *[RAW_PREFIX + name for name in names])
