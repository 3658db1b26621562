"""The ledger: the contract's schemas, the raw reader, and the reader of its validated copy.

Where the validated copy lives and how it is written is decided by the output catalogue
(`bantay.io.catalogue`) and its helpers (`bantay.io.files`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bantay.errors import LedgerLayoutError, MissingArtefactError
from bantay.io import catalogue, files
from bantay.io.files import atomic_dir as atomic_dir  # the synthetic ledger's writer still calls it here

TABLES = ("transactions", "customers", "fx_rates", "labels")

TRANSACTIONS_SCHEMA = T.StructType(
    [
        T.StructField("txn_id", T.StringType()),
        T.StructField("booked_at", T.TimestampType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("account_id", T.StringType()),
        T.StructField("direction", T.StringType()),
        T.StructField("channel", T.StringType()),
        T.StructField("amount", T.DecimalType(18, 2)),
        T.StructField("currency", T.StringType()),
        T.StructField("counterparty_id", T.StringType()),
        T.StructField("counterparty_name", T.StringType()),
        T.StructField("counterparty_country", T.StringType()),
        T.StructField("counterparty_city", T.StringType()),
        T.StructField("counterparty_phone", T.StringType()),
        T.StructField("counterparty_account", T.StringType()),
        T.StructField("mcc", T.StringType()),
        T.StructField("reference", T.StringType()),
        T.StructField("ip_address", T.StringType()),
        T.StructField("device_id", T.StringType()),
    ]
)
CUSTOMERS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("full_name", T.StringType()),
        T.StructField("birth_date", T.DateType()),
        T.StructField("gender", T.StringType()),
        T.StructField("nationality", T.StringType()),
        T.StructField("residence_country", T.StringType()),
        T.StructField("timezone", T.StringType()),
        T.StructField("address_line", T.StringType()),
        T.StructField("city", T.StringType()),
        T.StructField("postcode", T.StringType()),
        T.StructField("id_type", T.StringType()),
        T.StructField("id_number", T.StringType()),
        T.StructField("occupation", T.StringType()),
        T.StructField("onboarded_at", T.TimestampType()),
    ]
)
FX_RATES_SCHEMA = T.StructType(
    [
        T.StructField("rate_date", T.DateType()),
        T.StructField("currency", T.StringType()),
        T.StructField("usd_per_unit", T.DoubleType()),
    ]
)
LABELS_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("label", T.IntegerType()),
        T.StructField("decided_at", T.TimestampType()),
        T.StructField("typology", T.StringType()),
    ]
)
SCHEMAS: dict[str, T.StructType] = {
    "transactions": TRANSACTIONS_SCHEMA,
    "customers": CUSTOMERS_SCHEMA,
    "fx_rates": FX_RATES_SCHEMA,
    "labels": LABELS_SCHEMA,
}
# Columns without which a table is unusable (the run stops); the others may be absent or null.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": (
        "txn_id",
        "booked_at",
        "customer_id",
        "direction",
        "channel",
        "amount",
        "currency",
        "counterparty_id",
        "counterparty_country",
    ),
    "customers": (
        "customer_id",
        "birth_date",
        "nationality",
        "residence_country",
        "timezone",
        "onboarded_at",
    ),
    "fx_rates": ("rate_date", "currency", "usd_per_unit"),
    "labels": ("customer_id", "label", "decided_at"),
}
PARTITION_COLUMN = "booking_date"
# CSV as RFC 4180 says (and Python's csv module reads it): a quoted field may hold line breaks, a quote inside
# one is doubled, and a record (not a line) is a row.
CSV_OPTIONS = {"header": "true", "inferSchema": "false", "multiLine": "true", "quote": '"', "escape": '"'}
# Spark's types as Arrow stores them: a Spark timestamp is an instant in microseconds, written as UTC.
_ARROW_TYPES: dict[T.DataType, pa.DataType] = {
    T.StringType(): pa.string(),
    T.TimestampType(): pa.timestamp("us", tz="UTC"),
    T.DateType(): pa.date32(),
    T.DoubleType(): pa.float64(),
    T.IntegerType(): pa.int32(),
}


def day_start(day: date) -> datetime:
    """Midnight UTC of `day`, time-zone aware: the cut-off "before D" on `decided_at` or `booked_at`.

    Never a naive datetime in a Spark literal: PySpark turns one into an instant in the Python process's own
    time zone, not the session's UTC, so on a driver in Toronto a naive midnight falls at 04:00 UTC and lets
    the first hours of D in.
    """
    return datetime.combine(day, time.min, tzinfo=UTC)


# A day partition's folder name holds its date as YYYY-MM-DD and nothing else: Spark's date cast would also
# take `2025-3-1` or `2025-03-01T00:00`, Python's `date.fromisoformat` `20250301`; one strict form for both,
# so a folder the writer cannot place on a day is quarantined by the validator, never half-accepted.
DAY_NAME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def partition_day(value: str) -> date | None:
    """The date a day partition's name holds (`DAY_NAME`), or None."""
    if re.fullmatch(DAY_NAME, value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def partition_day_column(column: Column) -> Column:
    """`partition_day` for a string column (null where the name is not a day). The length too: Java's `$`
    also matches before a final line break, which Python's `fullmatch` does not."""
    return F.when(column.rlike(DAY_NAME) & (F.length(column) == 10), column.try_cast("date"))


def utc_day(timestamp: Column) -> Column:
    """The UTC date of a timestamp column, whatever the session's time zone (`F.to_date` uses the session's:
    Bantay's sessions are UTC, `bantay.spark.session`, but a label's date must not hang on that)."""
    return F.date_from_unix_date(F.floor(F.unix_seconds(timestamp) / 86400).cast("int"))


def before_day(timestamp: Column, day: Column) -> Column:
    """`timestamp` is before midnight UTC of the date column `day`, whatever the session's time zone (a date
    cast to a timestamp is midnight in the session's zone)."""
    return F.unix_seconds(timestamp) < F.unix_date(day).cast("long") * 86400


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a ledger table, field for field from `SCHEMAS`, for writers without Spark."""
    return pa.schema(
        [pa.field(f.name, _arrow_type(f.dataType), nullable=f.nullable) for f in SCHEMAS[table].fields]
    )


def _arrow_type(spark_type: T.DataType) -> pa.DataType:
    if isinstance(spark_type, T.DecimalType):
        return pa.decimal128(spark_type.precision, spark_type.scale)
    return _ARROW_TYPES[spark_type]


def table_format(root: Path, table: str) -> str | None:
    """'parquet' or 'csv' by the files under `root/table`, or None when the table is absent or empty."""
    for suffix, fmt in ((".parquet", "parquet"), (".csv", "csv")):
        if files.visible_files(root / table, (suffix,)):
            return fmt
    return None


def read_raw(spark: SparkSession, root: Path, table: str) -> DataFrame | None:
    """Read a ledger table as stored: Parquet with its own types, CSV with every column as a string.

    Returns None when the table is absent. The transactions table keeps its `booking_date` partition
    column as a string so that the validator can check it against `booked_at`.
    """
    fmt = table_format(root, table)
    if fmt is None:
        return None
    path = str(root / table)
    reader = spark.read.option("basePath", path)
    # Partition values stay strings: a malformed folder name must be quarantined, not crash type inference.
    # The switch is session-wide, so it is restored at once (file listing happens when the frame is made).
    key = "spark.sql.sources.partitionColumnTypeInference.enabled"
    previous = spark.conf.get(key, "true")
    spark.conf.set(key, "false")
    try:
        if fmt == "csv":
            return reader.options(**CSV_OPTIONS).csv(path)
        return reader.parquet(path)
    finally:
        spark.conf.set(key, previous or "true")


def validated_path(output_root: Path, table: str) -> Path:
    """The folder of a validated ledger table under `output_root` (from the output catalogue)."""
    return catalogue.path(output_root, catalogue.validated(table))


def read_validated(
    spark: SparkSession,
    output_root: Path,
    table: str,
    start: date | None = None,
    before: date | None = None,
) -> DataFrame:
    """Read a table that `bantay validate` accepted, typed to the contract; transactions pruned by
    booking date.

    `start` is inclusive, `before` exclusive: features as of D read `before=D`.
    """
    path = validated_path(output_root, table)
    if not files.has_parquet(path):
        raise MissingArtefactError(f"{path}: no validated {table}; run `bantay validate` for this date first")
    frame = spark.read.option("basePath", str(path)).parquet(str(path))
    if table == "transactions":
        if start is not None:
            frame = frame.where(F.col(PARTITION_COLUMN) >= F.lit(start))
        if before is not None:
            frame = frame.where(F.col(PARTITION_COLUMN) < F.lit(before))
    return frame


def require_ledger(root: Path) -> None:
    """Fail with one clear line when `root` is not a ledger root at all."""
    if not root.is_dir():
        raise LedgerLayoutError(f"{root}: ledger root does not exist")
    if table_format(root, "transactions") is None:
        raise LedgerLayoutError(
            f"{root}: no transactions/ table "
            "(expected transactions/booking_date=YYYY-MM-DD/*.parquet or *.csv)"
        )
