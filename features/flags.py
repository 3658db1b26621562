"""Per-transaction flags: which row-level features counted each transaction (the evidence behind a reason).

The flags are the very columns the features aggregate, from the same code: the p2p flags (night, round,
reference keyword) from `state.p2p_rows`, the sequence flags (new payee, burst, payee switch) from
`payments.prepare` over the same look-back, the card and outbound flags from the `common` predicates. A draft
that lists the transactions behind "60% of payments abroad made at night" lists exactly the rows the
feature counted, in the customer's own time zone.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bantay.features import network, payments, state, table
from bantay.features.common import (
    LOOKBACK_DAYS,
    is_cross_border_p2p,
    is_night_local,
    is_related_spend,
)

# p2p rows only (false on every other row): counted by the p2p families.
P2P_FLAGS = ("is_round", "is_keyword", "is_new_payee", "is_burst", "is_payee_switch")
FLAG_COLUMNS = ("is_p2p", "is_night", *P2P_FLAGS, "is_ph_focus_region", "is_related_spend")


def transaction_flags(txns: DataFrame, customers: DataFrame, fx_rates: DataFrame, as_of: date) -> DataFrame:
    """`txn_id, <FLAG_COLUMNS>` (booleans, never null), `payee_region` for every transaction of `txns` in
    the look-back before `as_of` (`as_of - 365 <= booking_date < as_of`) whose customer is in `customers`.

    - `is_p2p`: outbound cross-border person-to-person payment (`common.is_cross_border_p2p`).
    - `is_night`: booked 21:00-03:00 in the customer's own time zone (any direction; O5 counts p2p payments,
      and all outbound for `share_out_night_90d`).
    - `is_round`, `is_keyword`: O6 and O7 as `state.p2p_rows` sets them (the PHP landing amount included).
    - `is_new_payee`: the payee was first paid at most `payments.NEW_PAYEE_DAYS` calendar days before, in the
      look-back (O4); `is_burst`: another p2p payment within 2 hours before or after (O12);
      `is_payee_switch`: a payee other than the previous p2p payment's (O4, false on the first).
    - `is_ph_focus_region`: a p2p payment to a payee in one of the Philippine focus regions (F4,
      `network.payment_region`); `payee_region` (string, null when not p2p) is that region's name.
    - `is_related_spend`: outbound card payment to a related merchant (O8).
    """
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    window = txns.where(F.col("booking_date").between(F.lit(start), F.lit(as_of - timedelta(days=1))))
    p2p = table.at_as_of(state.p2p_rows(window, customers, fx_rates), as_of)
    sequence = payments.prepare(p2p).select(
        "txn_id",
        "is_round",
        "is_keyword",
        "is_new_payee",
        F.col("in_burst").alias("is_burst"),
        F.coalesce(F.col("payee_switch"), F.lit(False)).alias("is_payee_switch"),
    )
    senders = customers.select("customer_id", "residence_country", "timezone")
    region = F.when(is_cross_border_p2p(), network.payment_region())
    every = window.join(senders, on="customer_id", how="inner").select(
        "txn_id",
        is_cross_border_p2p().alias("is_p2p"),
        is_night_local().alias("is_night"),
        region.isin(*network.PH_FOCUS_REGIONS).alias("is_ph_focus_region"),
        is_related_spend().alias("is_related_spend"),
        region.alias("payee_region"),
    )
    joined = every.join(sequence, on="txn_id", how="left")
    return joined.select(
        "txn_id",
        *[F.coalesce(F.col(name), F.lit(False)).alias(name) for name in FLAG_COLUMNS],
        "payee_region",
    )
