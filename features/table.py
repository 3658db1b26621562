"""Assembly: the contract's feature table, one row per (customer_id, as_of), catalogue columns as doubles.

`at_as_of` (the daily table) and `at_points` (training) put the `as_of` column on state rows and keep only
the look-back `as_of - 365 <= booking_date < as_of`; everything downstream is the same code for both, so a
training point sees exactly what the daily table would have seen on its date.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bantay.features import catalogue, payments
from bantay.features.common import KEYS, LOOKBACK_DAYS
from bantay.features.profile import kyc_profile


def at_as_of(rows: DataFrame, as_of: date) -> DataFrame:
    """State rows of the look-back before `as_of`, with a literal `as_of` column (prunes booking_date)."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    return rows.where(
        F.col("booking_date").between(F.lit(start), F.lit(as_of - timedelta(days=1)))
    ).withColumn("as_of", F.lit(as_of))


def at_points(rows: DataFrame, points: DataFrame) -> DataFrame:
    """State rows of each point's own look-back: a copy of the row per (customer_id, as_of) point after it."""
    wanted = points.select(F.col("customer_id").alias("_point_customer"), "as_of").distinct()
    condition = (
        (F.col("customer_id") == F.col("_point_customer"))
        & (F.col("booking_date") < F.col("as_of"))
        & (F.col("booking_date") >= F.date_sub(F.col("as_of"), LOOKBACK_DAYS))
    )
    return rows.join(F.broadcast(wanted), on=condition, how="inner").drop("_point_customer")


def feature_table(
    p2p: DataFrame,
    activity: DataFrame,
    customers: DataFrame,
    network: DataFrame | None = None,
    spine: DataFrame | None = None,
) -> DataFrame:
    """Join every family into `customer_id, as_of, <catalogue.FEATURES in order as doubles>`.

    `p2p` is state rows with `as_of` (from `at_as_of` / `at_points`); `activity` the daily rows' families
    (`spending.activity_features` of such rows, or the feature store's running totals); `network` is
    `customer_id, as_of` plus the network columns (absent: those columns are null). `spine` fixes the rows
    (training points); by default it is every customer with a transaction in the 365 days before as_of.
    Counts and USD totals are 0 when nothing matched; shares, ratios and medians stay null (undefined).
    """
    sender = payments.p2p_features(payments.prepare(p2p))
    table = (
        activity
        if spine is None
        else spine.select(*KEYS).distinct().join(activity, on=list(KEYS), how="left")
    )
    table = kyc_profile(table.join(sender, on=list(KEYS), how="left"), customers)
    if network is not None:
        table = table.join(network, on=list(KEYS), how="left")
    columns = []
    for spec in catalogue.FEATURES:
        value = F.col(spec.name) if spec.name in table.columns else F.lit(None)
        if spec.unit in catalogue.ZERO_UNITS:
            value = F.coalesce(value, F.lit(0.0))
        columns.append(value.cast("double").alias(spec.name))
    return table.select("customer_id", F.col("as_of").cast("date").alias("as_of"), *columns)
