"""A tiny validated layer for the feature job and the feature store: three customers over nine days."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from _sender_rows import customer, customers, fx_rates, labels, transactions, txn, write_validated
from pyspark.sql import DataFrame, SparkSession

from bantay import ledger, settings

FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2025, 3, 9)  # validated days 03-01 .. 03-09
AS_OF = date(2025, 3, 10)  # a Monday: on the weekly grid of training points


def history() -> list[tuple]:
    rows = []
    for n in range((LAST_DAY - FIRST_DAY).days + 1):
        day = FIRST_DAY + timedelta(days=n)
        # c1 (London) pays the shared payee P every day at 22:00 UTC (night) and payee Q every third day.
        rows.append(
            txn("c1", f"{day}T22:00:00", 40.0 + n, payee="P", payee_name="Ana Reyes", phone="+639170000001")
        )
        if n % 3 == 0:
            rows.append(
                txn("c1", f"{day}T10:00:00", 25.0, payee="Q", payee_name="Rosa Lim", reference="gift")
            )
        # c2 (Sydney) pays P every other day at 11:30 UTC = 22:30 in Sydney (AEDT, UTC+11).
        if n % 2 == 0:
            rows.append(
                txn(
                    "c2",
                    f"{day}T11:30:00",
                    50.0,
                    currency="AUD",
                    payee="P",
                    payee_name="Ana Reyes",
                    phone="+639170000001",
                )
            )
        # c3 only shops at home.
        rows.append(
            txn(
                "c3",
                f"{day}T12:00:00",
                12.5,
                channel="card",
                mcc="5411",
                payee="shop",
                payee_name="Grocer",
                country="GB",
            )
        )
    return rows


KYC = [
    customer("c1"),
    customer("c2", "Peter Brown", nationality="AU", residence="AU", timezone="Australia/Sydney"),
    customer("c3", "Jane Doe", gender="F"),
]
LABELS = [("c2", 1, "2025-03-04T09:00:00", "ocse_payer"), ("c1", 1, "2025-03-05T09:00:00", "ocse_payer")]


def make_out(spark: SparkSession, root: Path, extra_txns: list[tuple] = (), extra_labels: list = ()) -> Path:
    out = root / "out"
    write_validated(out, "transactions", transactions(spark, history() + list(extra_txns)))
    write_validated(out, "customers", customers(spark, KYC))
    days = [FIRST_DAY + timedelta(days=n) for n in range(20)]
    write_validated(out, "fx_rates", fx_rates(spark, [(d, "PHP", 0.0175) for d in days]))
    write_validated(out, "labels", labels(spark, LABELS + list(extra_labels)))
    return out


def features_settings(out: Path) -> settings.Settings:
    return settings.load(output_root=out, spark_master="local[2]", spark_shuffle_partitions=2)


def read_table(spark: SparkSession, path: Path) -> DataFrame:
    return spark.read.parquet(str(path))


def copy_out(source: Path, target: Path) -> Path:
    """A copy of an output root's validated layer and feature state (files only, no Spark)."""
    for folder in ("validated", "state"):
        shutil.copytree(source / folder, target / folder)
    return target


def revalidate_day(spark: SparkSession, out: Path, day: date, extra: list[tuple]) -> None:
    """Replace one validated day the way a validator rerun does: a new folder with the day's rows."""
    folder = ledger.validated_path(out, "transactions") / f"booking_date={day.isoformat()}"
    rows = [row for row in history() if row[18] == day] + extra
    shutil.rmtree(folder)
    transactions(spark, rows).drop("booking_date").coalesce(1).write.parquet(str(folder))
