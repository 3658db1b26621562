"""Sender features over the slim table of outbound cross-border p2p payments (O1-O7, O9, O10 ties, O12).

Input rows are `state.p2p_rows` with an `as_of` column, already limited to the look-back
(`as_of - 365 <= booking_date < as_of`, see `table.at_as_of` / `table.at_points`). `prepare` adds the
per-payment window columns once (one shuffle, by customer and as_of); every family below is then a list of
aggregate columns, so the table runs all families in ONE groupBy that reuses that partitioning, while each
family stays a small named DataFrame -> DataFrame function for tests and reuse.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from bantay.features.common import (
    BURST_SECONDS,
    KEYS,
    SMALL_PAYMENT_USD,
    destination_group,
    in_window,
    surname,
)

NEW_PAYEE_DAYS = 30
# Gaps below an hour count as an hour, so that a burst does not turn the gap ratio infinite.
MIN_GAP_DAYS = 1.0 / 24
PERCENTILE_ACCURACY = 10_000


def prepare(p2p: DataFrame) -> DataFrame:
    """Add per-payment columns: order (`seq`, `n_lookback`, `third`), gap to the previous payment in days,
    whether the payee differs from the previous payment's (`payee_switch`, null on the first), first day
    the customer paid this payee in the look-back, payments that day, burst membership, destination group
    and payee surname. Input: p2p rows with `as_of`; output: same rows, more columns."""
    by_customer = Window.partitionBy(*KEYS)
    ordered = by_customer.orderBy("booked_at", "txn_id")
    seconds = F.col("booked_at").cast("long")
    around = by_customer.orderBy(seconds).rangeBetween(-BURST_SECONDS, BURST_SECONDS)
    per_payee = Window.partitionBy(*KEYS, "counterparty_id").rowsBetween(
        Window.unboundedPreceding, Window.unboundedFollowing
    )
    per_day = Window.partitionBy(*KEYS, "booking_date").rowsBetween(
        Window.unboundedPreceding, Window.unboundedFollowing
    )
    whole = by_customer.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    payee_surname = surname("counterparty_name")
    return (
        # One shuffle by (customer_id, as_of): every window and the final groupBy are clustered on a superset.
        p2p.repartition(*KEYS)
        .withColumn("seq", F.row_number().over(ordered))
        .withColumn("n_lookback", F.count(F.lit(1)).over(whole))
        .withColumn("third", F.floor(3 * (F.col("seq") - 1) / F.col("n_lookback")) + 1)
        .withColumn("gap_days", (seconds - F.lag(seconds).over(ordered)) / 86400.0)
        .withColumn("payee_switch", F.lag("counterparty_id").over(ordered) != F.col("counterparty_id"))
        .withColumn("first_paid", F.min("booking_date").over(per_payee))
        .withColumn("n_to_payee", F.count(F.lit(1)).over(per_payee))
        .withColumn("is_new_payee", F.datediff("booking_date", "first_paid") <= NEW_PAYEE_DAYS)
        .withColumn("n_same_day", F.count(F.lit(1)).over(per_day))
        .withColumn("in_burst", F.count(F.lit(1)).over(around) > 1)
        .withColumn("destination", destination_group())
        .withColumn("same_surname", F.coalesce(payee_surname == F.col("sender_surname"), F.lit(False)))
    )


# --- aggregate helpers ---


def _count(condition: Column) -> Column:
    return F.sum(F.when(condition, 1.0).otherwise(0.0))


def _total(value: str, condition: Column) -> Column:
    return F.sum(F.when(condition, F.col(value)).otherwise(0.0))


def _share(condition: Column, base: Column) -> Column:
    """Share of `base` rows meeting `condition`; null when there are no `base` rows."""
    denominator = _count(base)
    return F.when(denominator > 0, _count(base & condition) / denominator)


def _distinct(value: str, condition: Column) -> Column:
    # collect_set keeps a plain aggregate (countDistinct on several columns adds an Expand of the rows).
    return F.size(F.collect_set(F.when(condition, F.col(value)))).cast("double")


def _percentile(value: Column, percentage: float) -> Column:
    return F.percentile_approx(value, percentage, PERCENTILE_ACCURACY)


def aggregate(rows: DataFrame, columns: list[Column]) -> DataFrame:
    """One groupBy (customer_id, as_of) computing `columns`, cast to double."""
    grouped = rows.groupBy(*KEYS).agg(*columns)
    return grouped.select(*KEYS, *[F.col(name).cast("double") for name in grouped.columns[len(KEYS) :]])


# --- families: aggregate columns ---


def small_payment_columns() -> list[Column]:
    """O1 small repeated cross-border p2p payments, by destination group; 30 and 90 days."""
    w30, w90 = in_window(30), in_window(90)
    in_90 = F.when(w90, F.col("amount_usd"))
    median = _percentile(in_90, 0.5)
    return [
        _count(w30).alias("n_p2p_30d"),
        _count(w90).alias("n_p2p_90d"),
        _count(w90 & (F.col("destination") == "ph")).alias("n_p2p_ph_90d"),
        _count(w90 & (F.col("destination") == "source")).alias("n_p2p_source_90d"),
        _count(w90 & (F.col("destination") == "other")).alias("n_p2p_elsewhere_90d"),
        _share(F.col("destination") == "ph", w90).alias("share_p2p_ph_90d"),
        _total("amount_usd", w30).alias("p2p_usd_30d"),
        _total("amount_usd", w90).alias("p2p_usd_90d"),
        _total("amount_usd", w90 & (F.col("destination") == "ph")).alias("p2p_usd_ph_90d"),
        median.alias("median_p2p_usd_90d"),
        F.when(median > 0, (_percentile(in_90, 0.75) - _percentile(in_90, 0.25)) / median).alias(
            "p2p_usd_iqr_ratio_90d"
        ),
        _share(F.col("amount_usd") < SMALL_PAYMENT_USD, w90).alias("share_p2p_small_90d"),
        _distinct("booking_date", w90).alias("n_p2p_days_90d"),
    ]


def year_profile_columns() -> list[Column]:
    """O1, O5, O6, O7 over the whole 365-day look-back: the same payment descriptors as the 90-day ones, for
    customers whose few payments abroad are older than 90 days (a quarter of payers make only 1-2)."""
    w365 = in_window(365)
    return [
        _percentile(F.when(w365, F.col("amount_usd")), 0.5).alias("median_p2p_usd_365d"),
        _share(F.col("amount_usd") < SMALL_PAYMENT_USD, w365).alias("share_p2p_small_365d"),
        _share(F.col("destination") == "ph", w365).alias("share_p2p_ph_365d"),
        _share(F.col("is_night"), w365).alias("share_p2p_night_365d"),
        _share(F.col("is_round"), w365).alias("share_p2p_round_365d"),
        _share(F.col("is_keyword"), w365).alias("share_p2p_keyword_365d"),
    ]


def uneven_activity_columns() -> list[Column]:
    """O2 heavy-tailed activity: payments in a year, most payments on one day in 90 days, and how irregular
    the gaps between payments are (coefficient of variation over the year, 3+ payments; gaps under an hour
    count as an hour). Remitters to family pay on a cadence (payday, monthly: low); payers' gaps are
    irregular, with bursts and shrinking gaps (high)."""
    # greatest() skips nulls: the first payment (no gap) must stay out explicitly.
    gap = F.when(
        in_window(365) & F.col("gap_days").isNotNull(), F.greatest(F.col("gap_days"), F.lit(MIN_GAP_DAYS))
    )
    return [
        _count(in_window(365)).alias("n_p2p_365d"),
        F.coalesce(F.max(F.when(in_window(90), F.col("n_same_day"))), F.lit(0)).alias("max_p2p_per_day_90d"),
        F.when(F.count(gap) >= 2, F.stddev_pop(gap) / F.avg(gap)).alias("gap_cv_365d"),
    ]


def escalation_columns() -> list[Column]:
    """O3 escalation over the 365-day look-back: amounts rise and gaps shrink from the first to the last third
    of the customer's payments; and the last 30 days against the 60 before."""
    first, last = F.col("third") == 1, F.col("third") == 3
    amount_first = _percentile(F.when(first, F.col("amount_usd")), 0.5)
    amount_last = _percentile(F.when(last, F.col("amount_usd")), 0.5)
    gap_first = _percentile(F.when(first, F.col("gap_days")), 0.5)
    gap_last = _percentile(F.when(last, F.col("gap_days")), 0.5)
    recent, before = _count(in_window(30)), _count(in_window(90, end_days_ago=30))
    return [
        F.when(amount_first > 0, amount_last / amount_first).alias("escalation_amount_ratio_365d"),
        (gap_first / F.greatest(gap_last, F.lit(MIN_GAP_DAYS))).alias("escalation_gap_ratio_365d"),
        (recent / (before / 2 + 1)).alias("p2p_count_trend_90d"),
    ]


def payee_columns() -> list[Column]:
    """O4 many new, unrelated payees: distinct payees in 30/90/365 days, share of 90-day payments to a payee
    first paid within the 30 days before the payment, share to payees with another surname; and the other
    side of O4, concentration on one payee (365 days): the payments to the most-paid payee, and their share.
    The look-alikes (remitters to family, partners, freelancers, a romance "partner") pay 1-3 stable payees
    many times; payers spread few payments over many payees. And the share of payments (365 days, after the
    first) to a payee other than the previous payment's: payers churn through payees and family-run
    collectors take turns (F2); a look-alike pays the same person again, or one partner after another."""
    w90 = in_window(90)
    w365 = in_window(365)
    top = F.max(F.when(w365, F.col("n_to_payee")))
    return [
        F.coalesce(top, F.lit(0.0)).alias("n_p2p_top_payee_365d"),
        F.when(_count(w365) > 0, top / _count(w365)).alias("share_p2p_top_payee_365d"),
        _share(F.col("payee_switch"), w365 & F.col("payee_switch").isNotNull()).alias(
            "share_p2p_payee_switch_365d"
        ),
        _distinct("counterparty_id", in_window(30)).alias("n_payees_30d"),
        _distinct("counterparty_id", w90).alias("n_payees_90d"),
        _distinct("counterparty_id", in_window(365)).alias("n_payees_365d"),
        _share(F.col("is_new_payee"), w90).alias("share_p2p_new_payee_90d"),
        _share(~F.col("same_surname") & F.col("sender_surname").isNotNull(), w90).alias(
            "share_p2p_unrelated_surname_90d"
        ),
    ]


def night_columns() -> list[Column]:
    """O5 share of p2p payments booked 21:00-03:00 in the sender's own time zone; 30 and 90 days."""
    return [
        _share(F.col("is_night"), in_window(30)).alias("share_p2p_night_30d"),
        _share(F.col("is_night"), in_window(90)).alias("share_p2p_night_90d"),
    ]


def round_amount_columns() -> list[Column]:
    """O6 share of 90-day p2p payments round in the sending currency or landing on PHP round values."""
    return [_share(F.col("is_round"), in_window(90)).alias("share_p2p_round_90d")]


def reference_columns() -> list[Column]:
    """O7 share of 90-day p2p payments with an innocent-sounding reference or a social-media handle."""
    return [_share(F.col("is_keyword"), in_window(90)).alias("share_p2p_keyword_90d")]


def channel_columns() -> list[Column]:
    """O9 channel mix of 90-day p2p payments: money-transfer operator, e-wallet, crypto, cash pick-up."""
    w90 = in_window(90)
    return [
        _share(F.col("channel") == channel, w90).alias(f"share_p2p_{channel}_90d")
        for channel in ("remittance", "wallet", "crypto", "cash")
    ]


def family_tie_columns() -> list[Column]:
    """O10 ties to the destination: share of 90-day payments to the nationality's country, share of 365-day
    payees sharing the sender's surname."""
    w365 = in_window(365)
    payees = _distinct("counterparty_id", w365)
    return [
        _share(F.col("counterparty_country") == F.col("nationality"), in_window(90)).alias(
            "share_p2p_to_nationality_90d"
        ),
        F.when(payees > 0, _distinct("counterparty_id", w365 & F.col("same_surname")) / payees).alias(
            "share_payees_same_surname_365d"
        ),
    ]


def burst_columns() -> list[Column]:
    """O12 bursts: 90-day p2p payments with another p2p payment within 2 hours, count and share."""
    w90 = in_window(90)
    return [
        _count(w90 & F.col("in_burst")).alias("n_p2p_burst_90d"),
        _share(F.col("in_burst"), w90).alias("share_p2p_burst_90d"),
    ]


FAMILIES: tuple[Callable[[], list[Column]], ...] = (
    small_payment_columns,
    year_profile_columns,
    uneven_activity_columns,
    escalation_columns,
    payee_columns,
    night_columns,
    round_amount_columns,
    reference_columns,
    channel_columns,
    family_tie_columns,
    burst_columns,
)


# --- families: DataFrame -> DataFrame ---


def small_payments(p2p: DataFrame) -> DataFrame:
    """O1 (30/90 days). `p2p`: prepared rows; out: customer_id, as_of, small-payment columns."""
    return aggregate(p2p, small_payment_columns())


def year_profile(p2p: DataFrame) -> DataFrame:
    """O1, O5, O6, O7 descriptors over 365 days."""
    return aggregate(p2p, year_profile_columns())


def uneven_activity(p2p: DataFrame) -> DataFrame:
    """O2 (90/365 days)."""
    return aggregate(p2p, uneven_activity_columns())


def escalation(p2p: DataFrame) -> DataFrame:
    """O3 (365 days, and 30 against the 60 before)."""
    return aggregate(p2p, escalation_columns())


def payees(p2p: DataFrame) -> DataFrame:
    """O4 (30/90/365 days)."""
    return aggregate(p2p, payee_columns())


def night_payments(p2p: DataFrame) -> DataFrame:
    """O5 (30/90 days), in each sender's own time zone."""
    return aggregate(p2p, night_columns())


def round_amounts(p2p: DataFrame) -> DataFrame:
    """O6 (90 days)."""
    return aggregate(p2p, round_amount_columns())


def references(p2p: DataFrame) -> DataFrame:
    """O7 (90 days)."""
    return aggregate(p2p, reference_columns())


def channels(p2p: DataFrame) -> DataFrame:
    """O9 (90 days)."""
    return aggregate(p2p, channel_columns())


def family_ties(p2p: DataFrame) -> DataFrame:
    """O10, payment side (90/365 days)."""
    return aggregate(p2p, family_tie_columns())


def bursts(p2p: DataFrame) -> DataFrame:
    """O12 (90 days)."""
    return aggregate(p2p, burst_columns())


def p2p_features(p2p: DataFrame) -> DataFrame:
    """Every p2p family in one aggregation. `p2p`: prepared rows; out: one row per (customer_id, as_of)."""
    return aggregate(p2p, [column for family in FAMILIES for column in family()])
