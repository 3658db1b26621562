"""The validator against the synthetic generator: the quarantine equals the planted bad rows, by rule and key.

The two sides share only the rule ids of docs/design.md; the generator's truth names each planted row by a
key: txn_id (or "customer_id|booked_at" when the txn_id is missing), customer_id (or "null|name|birth_date"),
"currency|rate_date" for FX, "customer_id|decided_at" for labels.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from bantay import settings
from bantay.jobs import validate_ledger
from bantay.synth import generate

END = date(2025, 3, 7)
AS_OF = END + timedelta(days=1)  # every generated day is before the run date


def _micros(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _normal(table: str, rule: str, key: str) -> tuple[str, str, str]:
    """Timestamps inside keys as epoch microseconds, so both sides compare whatever their text format."""
    if (table, rule) == ("transactions", "txn_id_null") or table == "labels":
        who, _, when = key.partition("|")
        return table, rule, f"{who}|{_micros(when) if when else ''}"
    return table, rule, key


@pytest.fixture(scope="module")
def generated(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("generated")
    generate.run(
        out=base / "ledger", customers=60, days=7, seed=11, end_date=END, truth=base / "truth", fmt="parquet"
    )
    summary = validate_ledger.run(
        settings.load(
            ledger_root=base / "ledger",
            output_root=base / "out",
            spark_master="local[2]",
            spark_shuffle_partitions=2,
        ),
        AS_OF,
    )
    return base, summary


def _quarantined_keys(spark: SparkSession, out: Path) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    folder = out / "quarantine"
    micros = F.unix_micros(F.col("booked_at").cast("timestamp"))
    for r in (
        spark.read.parquet(str(folder / "table=transactions"))
        .select("rule", "txn_id", "customer_id", micros.alias("at"))
        .collect()
    ):
        key = r["txn_id"] if r["txn_id"] is not None else f"{r['customer_id']}|{r['at']}"
        found["transactions", r["rule"], key] += 1
    for r in spark.read.parquet(str(folder / "table=customers")).collect():
        key = r["customer_id"] if r["customer_id"] is not None else f"null|{r['full_name']}|{r['birth_date']}"
        found["customers", r["rule"], key] += 1
    for r in spark.read.parquet(str(folder / "table=fx_rates")).collect():
        found["fx_rates", r["rule"], f"{r['currency']}|{r['rate_date'].isoformat()}"] += 1
    decided = F.unix_micros(F.col("decided_at").cast("timestamp"))
    for r in (
        spark.read.parquet(str(folder / "table=labels"))
        .select("rule", "customer_id", decided.alias("at"))
        .collect()
    ):
        found["labels", r["rule"], f"{r['customer_id']}|{r['at'] if r['at'] is not None else ''}"] += 1
    return found


def test_run_quarantines_exactly_the_rows_the_generator_planted(
    spark: SparkSession, generated: tuple[Path, dict[str, Any]]
) -> None:
    base, summary = generated
    truth = pq.read_table(base / "truth" / "bad_rows.parquet").to_pylist()
    planted = Counter(_normal(row["table"], row["rule"], row["key"]) for row in truth)
    found = _quarantined_keys(spark, base / "out")
    assert found - planted == Counter(), "quarantined but not planted"
    assert planted - found == Counter(), "planted but not quarantined"
    # Every rule kind of the design was planted and caught at least once (amount_out_of_range is not planted:
    # the generator's Parquet ledger stores amounts as decimal(18,2), which cannot hold one).
    kinds = set(summary["tables"]["transactions"]["by_rule"]) - {"amount_out_of_range"}
    assert {rule for _, rule, _ in planted} >= kinds
    for table, counts in summary["tables"].items():
        assert counts["read"] == counts["accepted"] + counts["quarantined"], table
    assert min(summary["tables"][t]["accepted"] for t in ("transactions", "customers", "fx_rates")) > 0
