"""The data behind the day's alerts: Spark narrows the ledger to alerted customers, pandas does the rest.

The row flags (cross-border p2p, night in local time, round amount, reference keyword, new payee, burst,
payee switch, focus region, related card spend) come from `bantay.features.flags`, the one definition the
features aggregate, so the transactions a draft lists behind a ground are the ones the feature counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bantay import ledger
from bantay.errors import MissingArtefactError
from bantay.features import common, flags, network, store
from bantay.io import catalogue, files
from bantay.settings import Settings

logger = logging.getLogger(__name__)

LOOKBACK_DAYS = common.LOOKBACK_DAYS
PARTITION = ledger.PARTITION_COLUMN
FLAG_COLUMNS = flags.FLAG_COLUMNS
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
    "payee_region",
    *FLAG_COLUMNS,
)


@dataclass
class CaseInputs:
    """Everything the builders need for one as-of date, as small pandas frames."""

    as_of: date
    scores: pd.DataFrame  # alerted rows only, by rank
    customers: pd.DataFrame  # KYC of alerted customers
    transactions: pd.DataFrame  # alerted customers' transactions in the 365 days before as_of, with flags
    clusters: pd.DataFrame  # cluster rows of the payees alerted customers paid (may be empty)
    # cluster_id, customer_id, confirmed: every customer paying those clusters by cross-border p2p payment in
    # the window (the network features' rows), confirmed 1 when its latest label decided before as_of is 1
    # (`network.confirmed_payers`, as the features use it)
    cluster_payers: pd.DataFrame
    # customer_id, label (1 confirmed, 0 cleared), decided_at (UTC), case_id (None for the ledger's labels):
    # each alerted customer's latest decision before as_of (`decisions`), for the draft to state
    decisions: pd.DataFrame = field(default_factory=lambda: _no_decisions())


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
    reason_fields = scores.schema["reasons"].dataType.elementType.fieldNames()  # type: ignore[attr-defined]
    if "feature" not in reason_fields:
        raise MissingArtefactError(
            f"{path}: score reasons carry no `feature` (written by an older scorer); "
            f"rerun `bantay score --as-of {as_of}`"
        )
    alerts: pd.DataFrame = scores.where(F.col("alert")).toPandas()
    return alerts.sort_values(["rank", "customer_id"], kind="stable").reset_index(drop=True)


def load(spark: SparkSession, settings: Settings, as_of: date, alerts: pd.DataFrame) -> CaseInputs:
    """Read validated transactions, KYC and clusters for the alerted customers of `as_of`.

    The alerted customers' rows of the look-back are read once (the booking days pruned, the ids filtering the
    scan itself) and held in memory (an eager local checkpoint: one read, even where several branches of the
    plan start from them) while the row flags and the rates are joined on.
    """
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    ids = sorted(set(alerts["customer_id"].astype(str)))
    customers = ledger.read_validated(spark, settings.output_root, "customers")
    txns = ledger.read_validated(spark, settings.output_root, "transactions", start=start, before=as_of)
    # Partition values may come back as strings (partition type inference is off in some sessions).
    txns = txns.withColumn(PARTITION, F.col(PARTITION).cast("date"))
    fx = ledger.read_validated(spark, settings.output_root, "fx_rates")

    alerted = F.col("customer_id").isin(ids)
    alerted_customers = customers.where(alerted).localCheckpoint()
    mine = txns.where(alerted).localCheckpoint()
    own = mine.join(
        F.broadcast(alerted_customers.select("customer_id", "residence_country", "timezone")),
        on="customer_id",
        how="left",
    )
    row_flags = flags.transaction_flags(mine, alerted_customers, fx, as_of)
    flagged = (
        _with_rates(own, fx, settings.reporting_currency)
        .join(row_flags, on="txn_id", how="left")
        .withColumn("local_time", F.date_format(common.local_time(), "yyyy-MM-dd HH:mm"))
    )
    transactions = flagged.select(*TXN_COLUMNS).toPandas()
    customers_pd = alerted_customers.toPandas()

    clusters_pd, payers_pd = _clusters(spark, settings, as_of, transactions)
    decided = decisions(spark, settings, as_of, ids)
    logger.info(
        "draft inputs for %s: %d alerts, %d transactions, %d cluster rows",
        as_of,
        len(alerts),
        len(transactions),
        len(clusters_pd),
    )
    return CaseInputs(as_of, alerts, customers_pd, transactions, clusters_pd, payers_pd, decided)


def _with_rates(txns: DataFrame, fx: DataFrame, reporting_currency: str) -> DataFrame:
    """Add `amount_reporting`: the USD amount in the reporting currency at the booking day's rate."""
    if reporting_currency == "USD":
        return txns.withColumn("amount_reporting", F.col("amount_usd").cast("double"))
    rate = fx.where(F.col("currency") == reporting_currency).select(
        F.col("rate_date").alias(PARTITION), F.col("usd_per_unit").alias("_rep_usd")
    )
    out = txns.join(F.broadcast(rate), on=PARTITION, how="left")
    return out.withColumn("amount_reporting", F.col("amount_usd") / F.col("_rep_usd"))


def _clusters(
    spark: SparkSession, settings: Settings, as_of: date, own: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    empty = pd.DataFrame({"counterparty_id": pd.Series(dtype=str), "cluster_id": pd.Series(dtype=str)})
    payers_empty = pd.DataFrame(
        {"cluster_id": pd.Series(dtype=str), "customer_id": pd.Series(dtype=str),
         "confirmed": pd.Series(dtype="int64")}
    )
    folder = partition(settings, "clusters", as_of)
    if not folder.is_dir():
        # The features job writes the day's clusters with its table (empty when no payee was paid): without
        # them a draft would lose its network grounds without a word.
        raise MissingArtefactError(f"{folder}: no payee clusters; run `bantay features --as-of {as_of}`")
    clusters = _read_partition(spark, folder)
    if clusters is None or own.empty:
        return empty, payers_empty
    payees = spark.createDataFrame(
        pd.DataFrame({"counterparty_id": own["counterparty_id"].dropna().astype(str).unique()}),
        "counterparty_id string",
    )
    cluster_ids = clusters.join(F.broadcast(payees), on="counterparty_id", how="left_semi").select(
        "cluster_id"
    )
    involved = clusters.join(F.broadcast(cluster_ids.distinct()), on="cluster_id", how="left_semi")
    involved_pd: pd.DataFrame = involved.toPandas()
    # The payees of those clusters, from the rows just collected (not the clusters read and joined again).
    members = spark.createDataFrame(
        involved_pd[["counterparty_id", "cluster_id"]], "counterparty_id string, cluster_id string"
    )
    # The payers of those clusters by cross-border p2p payment in the look-back: the rows the network features
    # count, from the feature state (`store.p2p_rows_for`) rather than a scan of the year's transactions.
    p2p = store.p2p_rows_for(spark, settings, as_of - timedelta(days=LOOKBACK_DAYS), as_of)
    payers = (
        p2p.join(F.broadcast(members), on="counterparty_id", how="inner")
        .select("cluster_id", "customer_id")
        .distinct()
        .join(network.confirmed_payers(_labels(spark, settings), as_of), on="customer_id", how="left")
        .select("cluster_id", "customer_id", F.coalesce("confirmed", F.lit(0)).alias("confirmed"))
        .toPandas()
    )
    return involved_pd, payers


def _labels(spark: SparkSession, settings: Settings) -> DataFrame:
    """The labels the network features read (`bantay.features.store.read_labels`: validated labels and the
    workbench's approved decisions), so that a draft's confirmed clusters are the model's."""
    return store.read_labels(spark, settings)


# <case id>-<approval time>.parquet, as `bantay.cases.labels.write_decision` names a workbench decision
_DECISION_FILE = r"([^/]+)-[0-9]{8}T[0-9]+Z\.parquet$"


def _no_decisions() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": pd.Series(dtype=str), "label": pd.Series(dtype="int64"),
         "decided_at": pd.Series(dtype="datetime64[ns, UTC]"), "case_id": pd.Series(dtype=object)}
    )


def decisions(spark: SparkSession, settings: Settings, as_of: date, ids: Sequence[str]) -> pd.DataFrame:
    """`customer_id, label, decided_at, case_id`: the latest decision before `as_of` (UTC midnight) of each
    customer of `ids`, from the validated labels (no case id) and the workbench's approved decisions (case id
    from the label file's name); the latest wins, ties by the higher label, as `network.confirmed_payers`."""
    from bantay.cases import labels as case_labels

    columns = ["customer_id", "label", "decided_at"]
    try:
        ledger_labels = ledger.read_validated(spark, settings.output_root, "labels")
    except MissingArtefactError:
        ledger_labels = spark.createDataFrame([], ledger.LABELS_SCHEMA)
    # The ledger's labels carry no case id; the workbench's files are read apart to keep theirs.
    frames = [ledger_labels.select(*columns).withColumn("case_id", F.lit(None).cast("string"))]
    decided = case_labels.read_decided(spark, settings.output_root)
    if decided is not None:
        case = F.regexp_extract(F.input_file_name(), _DECISION_FILE, 1)
        frames.append(decided.select(*columns, F.when(case != "", case).alias("case_id")))
    both = frames[0] if len(frames) == 1 else frames[0].unionByName(frames[1])
    before = both.where(
        (F.col("decided_at") < F.lit(ledger.day_start(as_of))) & F.col("customer_id").isin(list(ids))
    )
    latest = before.groupBy("customer_id").agg(
        F.max_by(F.struct("label", "decided_at", "case_id"), F.struct("decided_at", "label")).alias("d")
    )
    # A null label is a withdrawal (a reopened case's label taken back): no earlier decision to report.
    frame: pd.DataFrame = (
        latest.where(F.col("d.label").isNotNull())
        .select("customer_id", "d.label", "d.decided_at", "d.case_id").toPandas()
    )
    if frame.empty:
        return _no_decisions()
    frame["decided_at"] = pd.to_datetime(frame["decided_at"], utc=True)
    return frame
