"""File faults in a ledger: quarantined as files with path, rule and rows while the rest of the day flows;
CSV read as RFC 4180; schema faults handled alike on any day; reference tables replaced only at the end."""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from quality_ledger import ACCEPTED_FIRST_RUN, ARROW, AS_OF, D1, D2, TRANSACTIONS, ts, txn, write_ledger

from bantay import ledger, settings
from bantay.errors import LedgerLayoutError
from bantay.jobs import validate_ledger


def _settings(root: Path, out: Path) -> settings.Settings:
    return settings.load(
        ledger_root=root, output_root=out, spark_master="local[2]", spark_shuffle_partitions=2
    )


def _day(root: Path, day: Any) -> Path:
    return root / "transactions" / f"booking_date={day.isoformat()}"


def _as_text(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows with amount and booked_at stored as text (the other columns as the contract says)."""
    fields = [
        pa.field(f.name, pa.string()) if f.name in ("amount", "booked_at") else f
        for f in ARROW["transactions"]
    ]
    text_rows = [
        {**row, "amount": str(row["amount"]), "booked_at": row["booked_at"].isoformat()} for row in rows
    ]
    return pa.Table.from_pylist(text_rows, schema=pa.schema(fields))


@pytest.fixture(scope="module")
def faulty_run(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("faulty")
    root = write_ledger(base / "ledger", "parquet")
    d1, d2 = _day(root, D1), _day(root, D2)
    # The first day is a symbolic link to a folder elsewhere.
    shutil.move(d1, base / "elsewhere")
    d1.symlink_to(base / "elsewhere", target_is_directory=True)
    (d1 / "notes.txt").write_text("loaded by hand\n")
    (d1 / "junk.parquet").write_bytes(b"PAR1 this is not a parquet file")
    without_currency = pa.Table.from_pylist(
        [txn("T50", ts(D1, 15), "r50")], schema=ARROW["transactions"]
    ).drop_columns(["currency"])
    pq.write_table(without_currency, d1 / "first-day-missing.parquet")  # a required column missing, first day
    pq.write_table(
        pa.Table.from_pylist([txn("T51", ts(D2, 15), "r51")], schema=ARROW["transactions"]).drop_columns(
            ["currency"]
        ),
        d2 / "later-day-missing.parquet",  # the same column missing on a later day
    )
    pq.write_table(_as_text([txn("T40", ts(D2, 9), "r40")]), d2 / "as-text.parquet")  # clean values as text
    with open(d2 / "export.csv", "w", newline="") as handle:  # a semicolon-delimited export
        handle.write(";".join(f.name for f in ledger.TRANSACTIONS_SCHEMA.fields) + "\n")
        handle.write("T52;2025-03-02 10:00:00;C1;A1;out;remittance;5.00;GBP;P1;;PH;;;;;r52;;\n")
    big = pa.Table.from_pylist([txn("T53", ts(D2, 11), "r53")], schema=ARROW["transactions"])
    big = big.set_column(6, "amount", pa.array(["1e18"]))
    pacsv.write_csv(big, d2 / "big.csv")  # an amount no decimal(18,2) can hold
    (root / "transactions" / "README").write_text("stray\n")
    # Parquet files pyarrow reads but Spark cannot: a codec Spark lacks, pandas' nanosecond timestamps, two
    # column names differing only in case. Each would stop the day in Spark.
    one = pa.Table.from_pylist([txn("T54", ts(D2, 12), "r54")], schema=ARROW["transactions"])
    pq.write_table(one, d2 / "brotli.parquet", compression="brotli")
    nanos = pa.Table.from_pylist([txn("T55", ts(D1, 12), "r55")], schema=ARROW["transactions"])
    at = nanos.schema.get_field_index("booked_at")
    nanos = nanos.set_column(at, "booked_at", nanos["booked_at"].cast(pa.timestamp("ns", tz="UTC")))
    pq.write_table(nanos, d1 / "pandas-nanos.parquet")
    twice = pa.Table.from_pylist([txn("T56", ts(D2, 12), "r56")], schema=ARROW["transactions"])
    pq.write_table(twice.append_column("Amount", twice["amount"]), d2 / "two-amounts.parquet")
    summary = validate_ledger.run(_settings(root, base / "out"), AS_OF)
    return base, summary


def test_run_quarantines_unreadable_files_and_lets_the_day_flow(
    spark: SparkSession, faulty_run: tuple[Path, dict[str, Any]]
) -> None:
    base, summary = faulty_run
    faults = {
        Path(f["file"]).name: (f["rule"], f["rows"])
        for f in summary["tables"]["transactions"]["files_quarantined"]
    }
    assert faults == {
        "notes.txt": ("file_not_data", None),
        "junk.parquet": ("file_unreadable", None),
        "first-day-missing.parquet": ("file_column_missing", 1),
        "later-day-missing.parquet": ("file_column_missing", 1),
        "export.csv": ("file_not_comma_delimited", 1),
        "README": ("file_not_data", None),
        "brotli.parquet": ("file_unsupported", 1),
        "pandas-nanos.parquet": ("file_unsupported", 1),
        "two-amounts.parquet": ("file_unsupported", 1),
    }
    assert summary["files_quarantined"] == 9
    details = {
        Path(f["file"]).name: f["detail"] for f in summary["tables"]["transactions"]["files_quarantined"]
    }
    assert details["brotli.parquet"].startswith("column txn_id compressed with BROTLI, which Spark cannot")
    assert details["pandas-nanos.parquet"].startswith("column booked_at holds nanosecond timestamps")
    assert (
        details["two-amounts.parquet"] == "columns amount and Amount differ only in case, which Spark cannot "
        "tell apart"
    )
    assert all(
        f["rows"] is None or f["rows"] >= 0 for f in summary["tables"]["transactions"]["files_quarantined"]
    )
    counts = summary["tables"]["transactions"]
    assert counts["read"] == counts["accepted"] + counts["quarantined"]
    # Every clean row of the planted ledger, including the symlinked day's, and the clean row stored as text.
    accepted = {
        row["reference"] for row in ledger.read_validated(spark, base / "out", "transactions").collect()
    }
    assert accepted == ACCEPTED_FIRST_RUN | {"r40"}
    assert counts["read"] == sum(len(TRANSACTIONS[d]) for d in (D1, D2)) + 2  # + r40 and r53


def test_run_quarantines_a_huge_amount_as_out_of_range(
    spark: SparkSession, faulty_run: tuple[Path, dict[str, Any]]
) -> None:
    base, summary = faulty_run
    bad = spark.read.parquet(str(base / "out" / "quarantine" / "table=transactions" / f"run_date={AS_OF}"))
    row = bad.where(F.col("reference") == "r53").first()
    assert row is not None and row["rule"] == "amount_out_of_range" and row["amount"] == "1e18"
    assert summary["tables"]["transactions"]["by_rule"]["amount_out_of_range"] == 1


def test_run_reads_csv_as_rfc_4180(spark: SparkSession, tmp_path: Path) -> None:
    root = write_ledger(tmp_path / "ledger", "csv")
    rows = [dict(row) for row in TRANSACTIONS[D2]]
    rows[0] = {**rows[0], "counterparty_name": "Line one\nline two", "reference": 'r20 say "hi"'}
    path = _day(root, D2) / "part-0.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in ledger.TRANSACTIONS_SCHEMA.fields])
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "hour") else v) for k, v in row.items()}
            )
    assert path.read_text().count('"r20 say ""hi"""') == 1
    summary = validate_ledger.run(_settings(root, tmp_path / "out"), AS_OF)
    counts = summary["tables"]["transactions"]
    assert counts["read"] == 19  # records, not lines: the embedded line break does not split a row
    kept = (
        ledger.read_validated(spark, tmp_path / "out", "transactions").where(F.col("txn_id") == "T20").first()
    )
    assert kept is not None
    assert (kept["counterparty_name"], kept["reference"]) == ("Line one\nline two", 'r20 say "hi"')


def test_run_replaces_nothing_until_every_table_is_written(spark: SparkSession, tmp_path: Path) -> None:
    root = write_ledger(tmp_path / "ledger", "parquet")
    out = tmp_path / "out"
    earlier = out / "validated" / "customers"
    earlier.mkdir(parents=True)
    (earlier / "part-earlier.parquet").write_bytes(b"an earlier run's output")
    (out / "validated" / "transactions").write_text("not a folder")  # the transactions write must fail
    with pytest.raises(Exception):  # noqa: B017 (Spark's or the OS's error: either way nothing may change)
        validate_ledger.run(_settings(root, out), AS_OF)
    assert [p.name for p in earlier.iterdir()] == ["part-earlier.parquet"]
    assert not (out / "validated" / "fx_rates").exists()
    assert not list((out / "validated").glob("_staging/*"))


def test_run_reports_a_missing_ledger_root_before_spark_starts(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(LedgerLayoutError, match="ledger root does not exist"):
        validate_ledger.run(_settings(tmp_path / "nowhere", tmp_path / "out"), AS_OF)
    assert time.monotonic() - started < 5
    assert not (tmp_path / "out").exists()


def test_a_file_spark_cannot_read_past_the_checks_stops_with_one_line(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence: were the checks before Spark to miss a file Spark cannot read (here they are
    told Brotli is fine), the run stops naming the file, with nothing replaced, instead of a traceback."""
    from bantay.errors import LedgerFileError
    from bantay.quality import ledger_files

    monkeypatch.setattr(ledger_files, "SPARK_CODECS", ledger_files.SPARK_CODECS | {"BROTLI"})
    root = write_ledger(tmp_path / "ledger", "parquet")
    one = pa.Table.from_pylist([txn("T54", ts(D2, 12), "r54")], schema=ARROW["transactions"])
    pq.write_table(one, _day(root, D2) / "brotli.parquet", compression="brotli")
    out = tmp_path / "out"
    with pytest.raises(LedgerFileError) as raised:
        validate_ledger.run(_settings(root, out), AS_OF)
    message = str(raised.value)
    assert message.startswith(f"{_day(root, D2) / 'brotli.parquet'}: Spark cannot read this ledger file (")
    assert "\n" not in message and "nothing was replaced" in message
    assert not (out / "validated").exists() or not any((out / "validated").rglob("*.parquet"))


@pytest.mark.parametrize("name", ["2025-3-2", "2025-03-02T00:00", "20250302", "2025-03-02 "])
def test_a_day_folder_named_other_than_yyyy_mm_dd_is_quarantined_whole(
    spark: SparkSession, tmp_path: Path, name: str
) -> None:
    """Spark's date cast takes some of these names and Python's `date.fromisoformat` others: a row must never
    pass the checks on one reading and be dropped by the writer on the other."""
    root = write_ledger(tmp_path / "ledger", "parquet")
    odd = root / "transactions" / f"booking_date={name}"
    odd.mkdir()
    pq.write_table(pa.Table.from_pylist([txn("T60", ts(D2, 10), "r60")], schema=ARROW["transactions"]),
                   odd / "part-0.parquet")
    out = tmp_path / "out"
    summary = validate_ledger.run(_settings(root, out), AS_OF)
    counts = summary["tables"]["transactions"]
    assert counts["read"] == counts["accepted"] + counts["quarantined"]
    bad = spark.read.parquet(str(out / "quarantine" / "table=transactions" / f"run_date={AS_OF}"))
    row = bad.where(F.col("reference") == "r60").first()
    assert row is not None and row["rule"] == "booked_at_not_partition_date"
    accepted = {row["reference"] for row in ledger.read_validated(spark, out, "transactions").collect()}
    assert accepted == ACCEPTED_FIRST_RUN  # D2's own folder as it was, nothing replaced by the odd one
