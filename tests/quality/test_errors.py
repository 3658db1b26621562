"""A whole table that is missing, unreadable or lacks a required column stops the run with one clear line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from quality_ledger import AS_OF, CUSTOMERS, write_ledger

from bantay import settings
from bantay.errors import TableUnusableError
from bantay.jobs import validate_ledger


def _run(root: Path, out: Path) -> dict:
    return validate_ledger.run(
        settings.load(ledger_root=root, output_root=out, spark_master="local[2]"), AS_OF
    )


def test_run_stops_on_a_missing_table(spark: SparkSession, tmp_path: Path) -> None:
    root = write_ledger(tmp_path / "ledger", skip=("fx_rates",))
    with pytest.raises(TableUnusableError) as caught:
        _run(root, tmp_path / "out")
    message = str(caught.value)
    assert "\n" not in message
    assert (caught.value.table, caught.value.rule) == ("fx_rates", "table_missing")
    assert "table fx_rates" in message and "table_missing" in message
    assert not (tmp_path / "out" / "validated").exists()


def test_run_stops_on_a_missing_required_column(spark: SparkSession, tmp_path: Path) -> None:
    root = write_ledger(tmp_path / "ledger", skip=("customers",))
    without = pa.Table.from_pylist(CUSTOMERS).drop_columns(["timezone"])
    (root / "customers").mkdir()
    pq.write_table(without, root / "customers" / "customers.parquet")
    with pytest.raises(TableUnusableError) as caught:
        _run(root, tmp_path / "out")
    message = str(caught.value)
    assert "\n" not in message
    assert (caught.value.table, caught.value.column, caught.value.rule, caught.value.count) == (
        "customers",
        "timezone",
        "column_missing",
        1,
    )
    assert "table customers: column timezone: rule column_missing" in message
    assert "columns present: customer_id, full_name" in message
    assert "Test Person" not in message  # names columns, never row values


def test_run_stops_on_an_unreadable_table(spark: SparkSession, tmp_path: Path) -> None:
    root = write_ledger(tmp_path / "ledger", skip=("labels",))
    (root / "labels").mkdir()
    (root / "labels" / "labels.parquet").write_bytes(b"not a parquet file at all")
    with pytest.raises(TableUnusableError) as caught:
        _run(root, tmp_path / "out")
    assert (caught.value.table, caught.value.rule) == ("labels", "table_unreadable")
    assert "labels.parquet" in str(caught.value)
