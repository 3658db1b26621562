"""Sender features over the per-customer-per-day aggregates of all traffic (O5 baseline, O8, O11, BASE).

Input rows are `state.daily_rows` with an `as_of` column, limited to `as_of - 365 <= booking_date < as_of`.
Each family is a list of aggregate columns and a DataFrame -> DataFrame function; the table runs them all in
one groupBy.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bantay.features.common import in_window
from bantay.features.payments import aggregate


def _sum(value: str, days: int) -> Column:
    return F.sum(F.when(in_window(days), F.col(value)).otherwise(0)).cast("double")


def _ratio(numerator: Column, denominator: Column) -> Column:
    return F.when(denominator > 0, numerator / denominator)


def related_spending_columns() -> list[Column]:
    """O8 card payments to adult, dating, VPN, digital-token and software merchants (30/90 days), and how
    many kinds of them (`RELATED_GROUPS`) the customer paid in 90 days."""
    return [
        _sum("n_related_card", 30).alias("n_related_card_30d"),
        _sum("n_related_card", 90).alias("n_related_card_90d"),
        _sum("related_card_usd", 90).alias("related_card_usd_90d"),
        F.bit_count(F.bit_or(F.when(in_window(90), F.col("related_groups")).otherwise(0)))
        .cast("double")
        .alias("n_related_groups_90d"),
    ]


def travel_columns() -> list[Column]:
    """O11 travel (90 days): airline tickets, lodging abroad, cash withdrawn in a source country."""
    return [
        _sum("n_airline", 90).alias("n_airline_90d"),
        _sum("n_lodging_abroad", 90).alias("n_lodging_abroad_90d"),
        _sum("cash_in_destination_usd", 90).alias("cash_in_destination_usd_90d"),
    ]


def baseline_columns() -> list[Column]:
    """Baseline activity (90/365 days) and the night share of all outbound traffic (O5 baseline, ~10%)."""
    active = F.col("n_txn") > 0
    return [
        _ratio(_sum("n_out_night", 90), _sum("n_out", 90)).alias("share_out_night_90d"),
        _sum("n_out", 90).alias("n_out_90d"),
        _sum("out_usd", 90).alias("out_usd_90d"),
        _sum("n_in", 90).alias("n_in_90d"),
        _sum("in_usd", 90).alias("in_usd_90d"),
        _sum("salary_like_in_usd", 90).alias("salary_like_in_usd_90d"),
        _sum("n_card", 90).alias("n_card_90d"),
        F.sum(F.when(in_window(90) & active, 1).otherwise(0)).cast("double").alias("n_active_days_90d"),
        F.sum(F.when(in_window(365) & active, 1).otherwise(0)).cast("double").alias("n_active_days_365d"),
        _ratio(_sum("n_p2p", 90), _sum("n_out", 90)).alias("share_out_p2p_90d"),
        (_sum("p2p_usd", 90) / (_sum("in_usd", 90) + 1.0)).alias("p2p_usd_to_in_usd_90d"),
    ]


FAMILIES: tuple[Callable[[], list[Column]], ...] = (
    related_spending_columns,
    travel_columns,
    baseline_columns,
)


def related_spending(daily: DataFrame) -> DataFrame:
    """O8 (30/90 days). `daily`: daily rows with as_of; out: customer_id, as_of, O8 columns."""
    return aggregate(daily, related_spending_columns())


def travel(daily: DataFrame) -> DataFrame:
    """O11 (90 days)."""
    return aggregate(daily, travel_columns())


def baseline_activity(daily: DataFrame) -> DataFrame:
    """Baseline activity and outbound night share (90/365 days)."""
    return aggregate(daily, baseline_columns())


def activity_features(daily: DataFrame) -> DataFrame:
    """All daily-aggregate families in one groupBy: a row per (customer_id, as_of) with a row in 365 days."""
    return aggregate(daily, [column for family in FAMILIES for column in family()])
