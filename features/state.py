"""The compact state the daily feature run keeps, so that day D+1 reads only the new validated day.

Two tables, both Hive-partitioned by `booking_date`, so replaying a day replaces exactly its partition:

- `p2p`: one row per outbound cross-border person-to-person payment (a small fraction of all transactions),
  with the sender's residence, nationality, time zone and surname as of the day it was added, the local hour,
  the USD and PHP amounts, and the row flags (night, round, reference keyword); no free-text reference.
- `daily`: one row per customer and booking day with any transaction: counts and USD totals of all traffic,
  card spend by merchant group (O8, O11), a bit mask of the O8 kinds paid, salary-like inflows and night
  outbound counts.

Both are pure functions of one or more days of validated transactions plus the customers and FX tables.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bantay.features.common import (
    is_airline,
    is_cash_in_destination,
    is_cross_border_p2p,
    is_lodging_abroad,
    is_night_hour,
    is_related_spend,
    is_round_amount,
    local_hour,
    reference_keyword,
    related_groups,
    surname,
)

P2P_COLUMNS = (
    "customer_id",
    "txn_id",
    "booking_date",
    "booked_at",
    "direction",
    "channel",
    "mcc",
    "amount",
    "currency",
    "amount_usd",
    "amount_php",
    "counterparty_id",
    "counterparty_name",
    "counterparty_country",
    "counterparty_city",
    "counterparty_phone",
    "counterparty_account",
    "residence_country",
    "nationality",
    "timezone",
    "sender_surname",
    "local_hour",
    "is_night",
    "is_round",
    "is_keyword",
)
DAILY_COLUMNS = (
    "customer_id",
    "booking_date",
    "n_txn",
    "n_out",
    "out_usd",
    "n_in",
    "in_usd",
    "salary_like_in_usd",
    "n_card",
    "n_out_night",
    "n_p2p",
    "p2p_usd",
    "n_related_card",
    "related_card_usd",
    "related_groups",
    "n_airline",
    "n_lodging_abroad",
    "cash_in_destination_usd",
)


def sender_columns(customers: DataFrame) -> DataFrame:
    """The KYC columns the state needs per customer: residence, nationality, IANA time zone, surname."""
    return customers.select(
        "customer_id",
        "residence_country",
        "nationality",
        "timezone",
        surname("full_name").alias("sender_surname"),
    )


def with_sender(txns: DataFrame, customers: DataFrame) -> DataFrame:
    """`txns` with the sender's KYC columns (`sender_columns`): the rows both state tables are built from
    (`p2p_from_rows`, `daily_from_rows`)."""
    # Customers are one small row each: broadcast even where Spark's estimate passes its 10 MB threshold
    # (a book of a few hundred thousand), since a sort-merge join would shuffle and sort every transaction.
    return txns.join(F.broadcast(sender_columns(customers)), on="customer_id", how="inner")


def php_rates(fx_rates: DataFrame) -> DataFrame:
    """USD per PHP by booking day (`booking_date`, `usd_per_php`), for the PHP landing amount of O6."""
    return fx_rates.where(F.col("currency") == "PHP").select(
        F.col("rate_date").alias("booking_date"), F.col("usd_per_unit").alias("usd_per_php")
    )


def p2p_rows(txns: DataFrame, customers: DataFrame, fx_rates: DataFrame) -> DataFrame:
    """Slim table of outbound cross-border p2p payments (`P2P_COLUMNS`), local hour in the sender's zone."""
    return p2p_from_rows(with_sender(txns, customers), fx_rates)


def daily_rows(txns: DataFrame, customers: DataFrame) -> DataFrame:
    """Per customer and booking day: counts and USD totals of all traffic (columns `DAILY_COLUMNS`)."""
    return daily_from_rows(with_sender(txns, customers))


def p2p_from_rows(rows: DataFrame, fx_rates: DataFrame) -> DataFrame:
    """`p2p_rows` from transactions that already carry the sender's columns (`with_sender`)."""
    rows = rows.where(is_cross_border_p2p())
    rows = rows.join(F.broadcast(php_rates(fx_rates)), on="booking_date", how="left")
    amount_php = F.when(F.col("currency") == "PHP", F.col("amount").cast("double")).otherwise(
        F.col("amount_usd") / F.col("usd_per_php")
    )
    return (
        rows.withColumn("amount_php", amount_php)
        .withColumn("local_hour", local_hour())
        .withColumn("is_night", is_night_hour(F.col("local_hour")))
        .withColumn("is_round", is_round_amount())
        .withColumn("is_keyword", reference_keyword())
        .select(*P2P_COLUMNS)
    )


def daily_from_rows(rows: DataFrame) -> DataFrame:
    """`daily_rows` from transactions that already carry the sender's columns (`with_sender`)."""
    out = F.col("direction") == "out"
    inbound = F.col("direction") == "in"
    salary_like = (
        inbound
        & (F.col("channel") == "bank_transfer")
        & (
            F.coalesce(F.col("counterparty_country"), F.col("residence_country"))
            == F.col("residence_country")
        )
    )
    # Each row's flags in one projection under the aggregate, so that a flag read by two aggregates (a count
    # and a total) is one column, and the O8 merchant-name patterns are evaluated in one place.
    flags = {
        "out": out,
        "in": inbound,
        "salary_like": salary_like,
        "card": out & (F.col("channel") == "card"),
        "out_night": out & is_night_hour(local_hour()),
        "p2p": is_cross_border_p2p(),
        "related": is_related_spend(),
        "airline": is_airline(),
        "lodging_abroad": is_lodging_abroad(),
        "cash_in_destination": is_cash_in_destination(),
    }
    flagged = rows.select(
        "customer_id",
        "booking_date",
        "amount_usd",
        *[condition.alias(f"_{name}") for name, condition in flags.items()],
        related_groups().alias("_related_groups"),
    )
    usd = F.col("amount_usd")

    def count(name: str) -> Column:
        return F.sum(F.when(F.col(f"_{name}"), 1).otherwise(0)).cast("int")

    def total(name: str) -> Column:
        return F.sum(F.when(F.col(f"_{name}"), usd).otherwise(0.0))

    return (
        flagged.groupBy("customer_id", "booking_date")
        .agg(
            F.count(F.lit(1)).cast("int").alias("n_txn"),
            count("out").alias("n_out"),
            total("out").alias("out_usd"),
            count("in").alias("n_in"),
            total("in").alias("in_usd"),
            total("salary_like").alias("salary_like_in_usd"),
            count("card").alias("n_card"),
            count("out_night").alias("n_out_night"),
            count("p2p").alias("n_p2p"),
            total("p2p").alias("p2p_usd"),
            count("related").alias("n_related_card"),
            total("related").alias("related_card_usd"),
            F.bit_or("_related_groups").cast("int").alias("related_groups"),
            count("airline").alias("n_airline"),
            count("lodging_abroad").alias("n_lodging_abroad"),
            total("cash_in_destination").alias("cash_in_destination_usd"),
        )
        .select(*DAILY_COLUMNS)
    )
