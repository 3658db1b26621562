"""The data behind the day's alerts: Spark narrows the ledger to alerted customers, pandas does the rest.

The row flags (cross-border p2p, night in local time, round amount, reference keyword, related card spend,
travel) are computed with the very predicates the features use (`bantay.features.common`), so the
transactions a draft lists behind an indicator are the ones the feature counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bantay import ledger
from bantay.errors import MissingArtefactError
from bantay.features import common
from bantay.io import catalogue, files
from bantay.settings import Settings

logger = logging.getLogger(__name__)

LOOKBACK_DAYS = common.LOOKBACK_DAYS
PARTITION = ledger.PARTITION_COLUMN
FLAG_COLUMNS = ("is_p2p", "is_night", "is_round", "is_keyword", "is_related_spend", "is_travel")
TXN_COLUMNS = (
    "txn_id",
    "booked_at",
    "booking_date",
    "local_time",
    "customer_id",
    "account_id",
    "direction",
    "channel",
    "amount",
    "currency",
    "amount_usd",
    "amount_reporting",
    "counterparty_id",
    "counterparty_name",
    "counterparty_country",
    "counterparty_city",
    "counterparty_phone",
    "counterparty_account",
    "mcc",
    "reference",
    "ip_address",
    "device_id",
    *FLAG_COLUMNS,
)


@dataclass
class CaseInputs:
    """Everything the builders need for one as-of date, as small pandas frames."""

    as_of: date
    scores: pd.DataFrame  # alerted rows only, by rank
    customers: pd.DataFrame  # KYC of alerted customers
    transactions: pd.DataFrame  # alerted customers' transactions in the 365 days before as_of, with flags
    features: pd.DataFrame  # feature rows of alerted customers (may be empty)
    clusters: pd.DataFrame  # cluster rows of the payees alerted customers paid (may be empty)
    cluster_payers: (
        pd.DataFrame
    )  # cluster_id, customer_id: every customer paying those clusters in the window


def partition(settings: Settings, name: str, as_of: date) -> Path:
    return catalogue.partition(settings.output_root, name, as_of)


def _read_partition(spark: SparkSession, path: Path) -> DataFrame | None:
    return files.read_optional(spark, path)


def read_alerts(spark: SparkSession, settings: Settings, as_of: date) -> pd.DataFrame:
    """The day's alerted scores, riskiest first; fails clearly when the scores partition is missing."""
    path = partition(settings, "scores", as_of)
    scores = _read_partition(spark, path)
    if scores is None:
        raise MissingArtefactError(f"{path}: no scores; run `bantay score --as-of {as_of}` first")
    alerts = scores.where(F.col("alert")).toPandas()
    return alerts.sort_values(["rank", "customer_id"], kind="stable").reset_index(drop=True)


def load(spark: SparkSession, settings: Settings, as_of: date, alerts: pd.DataFrame) -> CaseInputs:
    """Read validated transactions, KYC, features and clusters for the alerted customers of `as_of`."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    ids = spark.createDataFrame(
        pd.DataFrame({"customer_id": alerts["customer_id"].astype(str)}), "customer_id string"
    )
    customers = ledger.read_validated(spark, settings.output_root, "customers")
    txns = ledger.read_validated(spark, settings.output_root, "transactions", start=start, before=as_of)
    # Partition values may come back as strings (partition type inference is off in some sessions).
    txns = txns.withColumn(PARTITION, F.col(PARTITION).cast("date"))
    fx = ledger.read_validated(spark, settings.output_root, "fx_rates")

    alerted_customers = customers.join(F.broadcast(ids), on="customer_id", how="left_semi")
    own = txns.join(F.broadcast(ids), on="customer_id", how="left_semi").join(
        F.broadcast(alerted_customers.select("customer_id", "residence_country", "timezone")),
        on="customer_id",
        how="left",
    )
    flagged = _with_flags(_with_rates(own, fx, settings.reporting_currency))
    transactions = flagged.select(*TXN_COLUMNS).toPandas()

    features = _read_partition(spark, partition(settings, "features", as_of))
    features_pd = (
        features.join(F.broadcast(ids), on="customer_id", how="left_semi").toPandas()
        if features is not None
        else pd.DataFrame({"customer_id": pd.Series(dtype=str)})
    )
    clusters_pd, payers_pd = _clusters(spark, settings, as_of, txns, transactions)
    logger.info(
        "draft inputs for %s: %d alerts, %d transactions, %d cluster rows",
        as_of,
        len(alerts),
        len(transactions),
        len(clusters_pd),
    )
    return CaseInputs(
        as_of, alerts, alerted_customers.toPandas(), transactions, features_pd, clusters_pd, payers_pd
    )


def _with_rates(txns: DataFrame, fx: DataFrame, reporting_currency: str) -> DataFrame:
    """Add `amount_php` (for the round-PHP test) and `amount_reporting` (USD amount in reporting currency)."""

    def rate(currency: str, alias: str) -> DataFrame:
        return fx.where(F.col("currency") == currency).select(
            F.col("rate_date").alias(PARTITION), F.col("usd_per_unit").alias(alias)
        )

    out = txns.join(F.broadcast(rate("PHP", "_php_usd")), on=PARTITION, how="left")
    out = out.withColumn("amount_php", F.col("amount_usd") / F.col("_php_usd"))
    if reporting_currency == "USD":
        return out.withColumn("amount_reporting", F.col("amount_usd").cast("double"))
    out = out.join(F.broadcast(rate(reporting_currency, "_rep_usd")), on=PARTITION, how="left")
    return out.withColumn("amount_reporting", F.col("amount_usd") / F.col("_rep_usd"))


def _with_flags(txns: DataFrame) -> DataFrame:
    travel = common.is_airline() | common.is_lodging_abroad() | common.is_cash_in_destination()
    flags = {
        "is_p2p": common.is_cross_border_p2p(),
        "is_night": common.is_night_local(),
        "is_round": common.is_round_amount(),
        "is_keyword": common.reference_keyword(),
        "is_related_spend": common.is_related_spend(),
        "is_travel": travel,
    }
    out = txns
    for name, column in flags.items():
        out = out.withColumn(name, F.coalesce(column, F.lit(False)))
    return out.withColumn("local_time", F.date_format(common.local_time(), "yyyy-MM-dd HH:mm"))


def _clusters(
    spark: SparkSession, settings: Settings, as_of: date, txns: DataFrame, own: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = pd.DataFrame({"counterparty_id": pd.Series(dtype=str), "cluster_id": pd.Series(dtype=str)})
    payers_empty = pd.DataFrame({"cluster_id": pd.Series(dtype=str), "customer_id": pd.Series(dtype=str)})
    clusters = _read_partition(spark, partition(settings, "clusters", as_of))
    if clusters is None or own.empty:
        if clusters is None:
            logger.warning("no payee clusters for %s: drafts list payees without clusters", as_of)
        return empty, payers_empty
    payees = spark.createDataFrame(
        pd.DataFrame({"counterparty_id": own["counterparty_id"].dropna().astype(str).unique()}),
        "counterparty_id string",
    )
    cluster_ids = clusters.join(F.broadcast(payees), on="counterparty_id", how="left_semi").select(
        "cluster_id"
    )
    involved = clusters.join(F.broadcast(cluster_ids.distinct()), on="cluster_id", how="left_semi")
    involved_pd = involved.toPandas()
    payers = (
        txns.where(F.col("direction") == "out")
        .join(
            F.broadcast(involved.select("counterparty_id", "cluster_id")), on="counterparty_id", how="inner"
        )
        .select("cluster_id", "customer_id")
        .distinct()
        .toPandas()
    )
    return involved_pd, payers
