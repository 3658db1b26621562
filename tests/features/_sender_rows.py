"""Hand-built validated rows for the sender-feature tests: transactions, customers, FX rates, labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from bantay import ledger

VALIDATED_TXNS = T.StructType(
    [
        *ledger.TRANSACTIONS_SCHEMA.fields,
        T.StructField("booking_date", T.DateType()),
        T.StructField("amount_usd", T.DoubleType()),
    ]
)
_counter = iter(range(1, 1_000_000))


def txn(
    customer: str,
    booked_at: str,
    amount_usd: float,
    *,
    amount: str | None = None,
    currency: str = "GBP",
    direction: str = "out",
    channel: str = "remittance",
    payee: str = "A",
    payee_name: str | None = "Maria Cruz",
    country: str = "PH",
    mcc: str | None = None,
    reference: str | None = None,
    phone: str | None = None,
    account: str | None = None,
    city: str | None = None,
) -> tuple:
    """One validated transaction; `amount` in the sending currency defaults to the USD amount."""
    at = datetime.fromisoformat(booked_at)
    return (
        f"t{next(_counter):06d}",
        at,
        customer,
        f"acc-{customer}",
        direction,
        channel,
        Decimal(amount if amount is not None else f"{amount_usd:.2f}"),
        currency,
        payee,
        payee_name,
        country,
        city,
        phone,
        account,
        mcc,
        reference,
        None,
        None,
        at.date(),
        float(amount_usd),
    )


def customer(
    customer_id: str,
    full_name: str = "John Smith",
    *,
    birth: date = date(1970, 6, 15),
    gender: str | None = "M",
    nationality: str = "GB",
    residence: str = "GB",
    timezone: str = "Europe/London",
    onboarded: str = "2020-01-01T09:00:00",
) -> tuple:
    return (
        customer_id,
        full_name,
        birth,
        gender,
        nationality,
        residence,
        timezone,
        None,
        None,
        None,
        None,
        None,
        None,
        datetime.fromisoformat(onboarded),
    )


def transactions(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    return spark.createDataFrame(rows, VALIDATED_TXNS)


def customers(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    return spark.createDataFrame(rows, ledger.CUSTOMERS_SCHEMA)


def fx_rates(spark: SparkSession, rows: list[tuple[date, str, float]]) -> DataFrame:
    return spark.createDataFrame(rows, ledger.FX_RATES_SCHEMA)


def labels(spark: SparkSession, rows: list[tuple[str, int, str, str]]) -> DataFrame:
    return spark.createDataFrame(
        [(c, label, datetime.fromisoformat(at), typology) for c, label, at, typology in rows],
        ledger.LABELS_SCHEMA,
    )


def write_validated(out: Path, table: str, frame: DataFrame) -> None:
    """Write a validated table the way `bantay validate` lays it out (transactions: one folder per day)."""
    path = ledger.validated_path(out, table)
    if table == "transactions":
        frame.repartition("booking_date").write.mode("overwrite").partitionBy("booking_date").parquet(
            str(path)
        )
    else:
        frame.coalesce(1).write.mode("overwrite").parquet(str(path))
