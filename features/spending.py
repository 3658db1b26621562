"""Sender features over the per-customer-per-day aggregates of all traffic (O5 baseline, O8, O11, BASE).

Input rows are `state.daily_rows` with an `as_of` column, limited to `as_of - 365 <= booking_date < as_of`.
Every feature here is a function of sums of daily rows over a window of 30, 90 or 365 days (`SUMS`), so the
families are computed in two steps: `window_totals` sums the daily rows per (customer_id, as_of), and
`activity_from_totals` turns those sums into the catalogue's columns. The sums are exact (longs: counts, and
USD as whole dollars plus the rest in `FRACTION_UNITS`, summed in any order to the same value), which lets the
feature store keep them as a running total from one as-of date to the next (`advance_totals`: the days
entering and leaving each window, not the year) and still write the values a build from the whole look-back
writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bantay.features.common import KEYS, RELATED_GROUPS, in_window

# A USD total is kept as two exact longs: whole dollars, and the rest in units of 1e-10 dollar (each day's
# total rounded to the nearest unit). Sums of longs do not depend on their order, so a running total (plus
# the day entering, minus the day leaving) equals a sum over the whole window bit for bit; and they cost what
# a sum of doubles costs, where decimal(38,10) sums cost twice that (measured on a year of 12M daily rows).
FRACTION_UNITS = 10**10


@dataclass(frozen=True)
class WindowSum:
    """A sum over the daily rows of the last `days` days: column `<name>_<days>d` of the totals table (for
    USD, `<name>_<days>d_dollars` and `<name>_<days>d_fraction`)."""

    name: str
    days: int
    usd: bool = False
    bit: int | None = None  # a day counts when this bit of its `related_groups` mask is set

    @property
    def column(self) -> str:
        return f"{self.name}_{self.days}d"

    def parts(self) -> dict[str, Column]:
        """Each totals column of this sum and the daily row's contribution to it, a long; null as 0 (the
        validated layer has no null USD amount: a row without an FX rate is quarantined)."""
        if self.usd:
            usd = F.coalesce(F.col(self.name), F.lit(0.0))
            dollars = F.floor(usd)
            return {
                f"{self.column}_dollars": dollars,
                f"{self.column}_fraction": F.floor((usd - dollars) * FRACTION_UNITS + 0.5),
            }
        if self.name == "active_days":
            value = F.when(F.col("n_txn") > 0, 1).otherwise(0)
        elif self.bit is not None:
            value = F.shiftright(F.col("related_groups"), self.bit).bitwiseAND(1)
        else:
            value = F.col(self.name)
        return {self.column: F.coalesce(value.cast("long"), F.lit(0).cast("long"))}

    def total(self) -> Column:
        """The window's total as a double, from the totals columns."""
        if self.usd:
            dollars, fraction = (F.col(name).cast("double") for name in self.parts())
            return dollars + fraction / FRACTION_UNITS
        return F.col(self.column).cast("double")


_GROUP_BITS = tuple(WindowSum(f"related_group{bit}_days", 90, bit=bit) for bit in range(len(RELATED_GROUPS)))
SUMS: tuple[WindowSum, ...] = (
    WindowSum("n_related_card", 30),
    WindowSum("n_related_card", 90),
    WindowSum("related_card_usd", 90, usd=True),
    *_GROUP_BITS,
    WindowSum("n_airline", 90),
    WindowSum("n_lodging_abroad", 90),
    WindowSum("cash_in_destination_usd", 90, usd=True),
    WindowSum("n_out_night", 90),
    WindowSum("n_out", 90),
    WindowSum("out_usd", 90, usd=True),
    WindowSum("n_in", 90),
    WindowSum("in_usd", 90, usd=True),
    WindowSum("salary_like_in_usd", 90, usd=True),
    WindowSum("n_card", 90),
    WindowSum("active_days", 90),
    WindowSum("active_days", 365),
    WindowSum("n_p2p", 90),
    WindowSum("p2p_usd", 90, usd=True),
)
# Every window is at least this long: a day booked within it of the next as_of enters every window at once.
SHORTEST_WINDOW = min(spec.days for spec in SUMS)
LONGEST_WINDOW = max(spec.days for spec in SUMS)
_ACTIVE = f"active_days_{LONGEST_WINDOW}d"


def totals_columns() -> list[str]:
    """The totals table's sum columns, in order (after `customer_id, as_of`)."""
    return [name for spec in SUMS for name in spec.parts()]


# --- the sums ---


def window_totals(daily: DataFrame) -> DataFrame:
    """`customer_id, as_of` and every `SUMS` column (longs), over each customer's daily rows of the look-back.

    A customer has a row when it was active on a day of the 365 before as_of (`active_days_365d` > 0): every
    customer with a daily row, since a daily row counts at least one transaction."""
    sums = daily.groupBy(*KEYS).agg(
        *[
            F.sum(F.when(in_window(spec.days), value).otherwise(0)).cast("long").alias(name)
            for spec in SUMS
            for name, value in spec.parts().items()
        ]
    )
    # The same rule as `advance_totals`' (every daily row is an active day, so no customer is lost here).
    return sums.where(F.col(_ACTIVE) > 0).select(*KEYS, *totals_columns())


def advance_totals(previous: DataFrame, daily: DataFrame, since: date, as_of: date) -> DataFrame:
    """The totals as of `as_of` from those as of `since` (`previous`, `window_totals`' columns; its as_of is
    ignored) and the daily rows of the days entering and leaving each window (`days_to_advance`).

    Each window of `days` days moves from [since - days, since) to [as_of - days, as_of): the days
    [since, as_of) are added and the days [since - days, as_of - days) taken away. Needs
    0 <= as_of - since <= `SHORTEST_WINDOW` (the two ranges never overlap). Customers left with no day in
    the longest window drop out, as they do from `window_totals`."""
    gap = (as_of - since).days
    if not 0 <= gap <= SHORTEST_WINDOW:
        raise ValueError(f"totals can move forward by 0 to {SHORTEST_WINDOW} days, not {gap}")
    day = F.col("booking_date")
    entering = day.between(F.lit(since), F.lit(as_of - timedelta(days=1)))

    def changes(spec: WindowSum) -> list[Column]:
        leaving = day.between(
            F.lit(since - timedelta(days=spec.days)), F.lit(as_of - timedelta(days=spec.days + 1))
        )
        return [
            F.when(entering, value).when(leaving, -value).otherwise(0).cast("long").alias(name)
            for name, value in spec.parts().items()
        ]

    changed = daily.select("customer_id", *[column for spec in SUMS for column in changes(spec)])
    moved = (
        previous.select("customer_id", *totals_columns())
        .unionByName(changed)
        .groupBy("customer_id")
        .agg(*[F.sum(name).cast("long").alias(name) for name in totals_columns()])
        .where(F.col(_ACTIVE) > 0)
    )
    return moved.select("customer_id", F.lit(as_of).alias("as_of"), *totals_columns())


def days_to_advance(since: date, as_of: date) -> list[date]:
    """The booking days `advance_totals` reads to move the totals from `since` to `as_of`."""
    entering = {since + timedelta(days=n) for n in range((as_of - since).days)}
    leaving = {day - timedelta(days=spec.days) for day in entering for spec in SUMS}
    return sorted(entering | leaving)


# --- the features, from the sums ---


_BY_COLUMN = {spec.column: spec for spec in SUMS}


def _total(name: str, days: int) -> Column:
    return _BY_COLUMN[f"{name}_{days}d"].total()


def _ratio(numerator: Column, denominator: Column) -> Column:
    return F.when(denominator > 0, numerator / denominator)


def related_spending_columns() -> list[Column]:
    """O8 card payments to adult, dating, VPN, digital-token and software merchants (30/90 days), and how
    many kinds of them (`RELATED_GROUPS`) the customer paid in 90 days."""
    kinds = sum((F.when(F.col(spec.column) > 0, 1).otherwise(0) for spec in _GROUP_BITS), F.lit(0))
    return [
        _total("n_related_card", 30).alias("n_related_card_30d"),
        _total("n_related_card", 90).alias("n_related_card_90d"),
        _total("related_card_usd", 90).alias("related_card_usd_90d"),
        kinds.cast("double").alias("n_related_groups_90d"),
    ]


def travel_columns() -> list[Column]:
    """O11 travel (90 days): airline tickets, lodging abroad, cash withdrawn in a source country."""
    return [
        _total("n_airline", 90).alias("n_airline_90d"),
        _total("n_lodging_abroad", 90).alias("n_lodging_abroad_90d"),
        _total("cash_in_destination_usd", 90).alias("cash_in_destination_usd_90d"),
    ]


def baseline_columns() -> list[Column]:
    """Baseline activity (90/365 days) and the night share of all outbound traffic (O5 baseline, ~10%)."""
    return [
        _ratio(_total("n_out_night", 90), _total("n_out", 90)).alias("share_out_night_90d"),
        _total("n_out", 90).alias("n_out_90d"),
        _total("out_usd", 90).alias("out_usd_90d"),
        _total("n_in", 90).alias("n_in_90d"),
        _total("in_usd", 90).alias("in_usd_90d"),
        _total("salary_like_in_usd", 90).alias("salary_like_in_usd_90d"),
        _total("n_card", 90).alias("n_card_90d"),
        _total("active_days", 90).alias("n_active_days_90d"),
        _total("active_days", 365).alias("n_active_days_365d"),
        _ratio(_total("n_p2p", 90), _total("n_out", 90)).alias("share_out_p2p_90d"),
        (_total("p2p_usd", 90) / (_total("in_usd", 90) + 1.0)).alias("p2p_usd_to_in_usd_90d"),
    ]


FAMILIES: tuple[Callable[[], list[Column]], ...] = (
    related_spending_columns,
    travel_columns,
    baseline_columns,
)


def activity_from_totals(
    totals: DataFrame, families: tuple[Callable[[], list[Column]], ...] = FAMILIES
) -> DataFrame:
    """`customer_id, as_of` and the families' columns (doubles) from `window_totals`' sums."""
    return totals.select(*KEYS, *[column for family in families for column in family()])


def related_spending(daily: DataFrame) -> DataFrame:
    """O8 (30/90 days). `daily`: daily rows with as_of; out: customer_id, as_of, O8 columns."""
    return activity_from_totals(window_totals(daily), (related_spending_columns,))


def travel(daily: DataFrame) -> DataFrame:
    """O11 (90 days)."""
    return activity_from_totals(window_totals(daily), (travel_columns,))


def baseline_activity(daily: DataFrame) -> DataFrame:
    """Baseline activity and outbound night share (90/365 days)."""
    return activity_from_totals(window_totals(daily), (baseline_columns,))


def activity_features(daily: DataFrame) -> DataFrame:
    """All daily-aggregate families: a row per (customer_id, as_of) with a daily row in the 365 days."""
    return activity_from_totals(window_totals(daily))
