"""`bantay validate` end to end on a hand-built ledger with one planted bad row of every rule kind.

One Parquet run and one CSV run per module (module-scoped fixtures); reruns work on copies of the output.
"""

from __future__ import annotations

import json
import shutil
import stat
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual
from quality_ledger import (
    ACCEPTED_FIRST_RUN,
    AS_OF,
    BAD_CUSTOMERS,
    BAD_FX,
    BAD_LABELS,
    BAD_TRANSACTIONS_FIRST_RUN,
    BAD_TRANSACTIONS_NEXT_RUN,
    D1,
    D2,
    D3,
    write_ledger,
)

from bantay import ledger, settings
from bantay.jobs import validate_ledger

RUN_COLUMNS = ["rule", "rules", "run_date", "run_id"]


def pa_concat(tables: list[Any]) -> Any:
    import pyarrow as pa

    return pa.concat_tables(tables)


def _settings(root: Path, out: Path) -> settings.Settings:
    return settings.load(
        ledger_root=root, output_root=out, spark_master="local[2]", spark_shuffle_partitions=2
    )


@pytest.fixture(scope="module")
def parquet_run(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("parquet")
    root = write_ledger(base / "ledger", "parquet")
    summary = validate_ledger.run(_settings(root, base / "out"), AS_OF)
    return base, summary


@pytest.fixture(scope="module")
def csv_run(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("csv")
    root = write_ledger(base / "ledger", "csv")
    summary = validate_ledger.run(_settings(root, base / "out"), AS_OF)
    return base, summary


def _quarantine(spark: SparkSession, out: Path, table: str, run_date: date = AS_OF) -> DataFrame:
    return spark.read.parquet(str(out / "quarantine" / f"table={table}" / f"run_date={run_date.isoformat()}"))


def _quarantined_by_marker(
    spark: SparkSession, out: Path, run_date: date = AS_OF
) -> dict[str, dict[Any, list[str]]]:
    """Each table's quarantined rows as {marker: rules}, the first rule first."""
    found: dict[str, dict[Any, list[str]]] = {}
    for table, key in (("transactions", "reference"), ("customers", "id_number"), ("labels", "typology")):
        rows = _quarantine(spark, out, table, run_date).collect()
        assert all(row["rule"] == row["rules"][0] for row in rows)
        found[table] = {row[key]: list(row["rules"]) for row in rows}
        assert len(found[table]) == len(rows), f"{table}: a row quarantined twice"
    fx = _quarantine(spark, out, "fx_rates", run_date).collect()
    found["fx_rates"] = {
        (r["currency"], str(r["rate_date"]) if r["rate_date"] else None, float(r["usd_per_unit"])): list(
            r["rules"]
        )
        for r in fx
    }
    return found


def test_run_quarantines_exactly_the_planted_rows(
    spark: SparkSession, parquet_run: tuple[Path, dict]
) -> None:
    base, _ = parquet_run
    found = _quarantined_by_marker(spark, base / "out")
    assert found["transactions"] == BAD_TRANSACTIONS_FIRST_RUN
    assert found["customers"] == BAD_CUSTOMERS
    assert found["fx_rates"] == BAD_FX
    assert found["labels"] == BAD_LABELS


def test_run_keeps_quarantined_rows_whole_and_unchanged(
    spark: SparkSession, parquet_run: tuple[Path, dict]
) -> None:
    base, summary = parquet_run
    bad = _quarantine(spark, base / "out", "transactions")
    # Every original column (the partition value as read, a string) and then the run's columns.
    assert bad.columns == [f.name for f in ledger.TRANSACTIONS_SCHEMA.fields] + ["booking_date", *RUN_COLUMNS]
    negative = bad.where(F.col("reference") == "r09").first()
    assert negative is not None
    assert str(negative["amount"]) == "-5.00" and negative["booking_date"] == "2025-03-01"
    assert {(r["run_date"], r["run_id"]) for r in bad.collect()} == {(AS_OF, summary["run_id"])}


def test_run_conserves_rows_and_counts_per_rule(parquet_run: tuple[Path, dict]) -> None:
    _, summary = parquet_run
    expected = {
        "transactions": (19, 5, 14),
        "customers": (14, 4, 10),
        "fx_rates": (13, 9, 4),
        "labels": (5, 2, 3),
    }
    for table, (read, accepted, quarantined) in expected.items():
        counts = summary["tables"][table]
        assert (counts["read"], counts["accepted"], counts["quarantined"]) == (read, accepted, quarantined)
        assert counts["read"] == counts["accepted"] + sum(counts["by_rule"].values())
    by_rule = summary["tables"]["transactions"]["by_rule"]
    assert (
        by_rule["amount_not_positive"] == 2
        and by_rule["fx_rate_missing"] == 1
        and by_rule["direction_invalid"] == 2
    )
    # r11 (invalid currency) also lacks a rate: counted once by first rule, twice among rows breaking a rule.
    assert summary["tables"]["transactions"]["breaking_rule"]["fx_rate_missing"] == 2
    assert summary["days"] == ["2025-03-01", "2025-03-02"]


def test_run_writes_the_validated_layer_typed_to_the_contract(
    spark: SparkSession, parquet_run: tuple[Path, dict]
) -> None:
    base, _ = parquet_run
    out = base / "out"
    txns = ledger.read_validated(spark, out, "transactions")
    contract = T.StructType(
        [
            *ledger.TRANSACTIONS_SCHEMA.fields,
            T.StructField("amount_usd", T.DoubleType()),
            T.StructField("booking_date", T.DateType()),
        ]
    )
    assert [(f.name, f.dataType) for f in txns.schema.fields] == [
        (f.name, f.dataType) for f in contract.fields
    ]
    rows = {r["reference"]: r for r in txns.collect()}
    assert set(rows) == ACCEPTED_FIRST_RUN
    assert rows["r01"]["amount_usd"] == pytest.approx(31.25)  # 25.00 GBP x 1.25
    assert rows["r15"]["amount_usd"] == pytest.approx(20.0)  # 1000.00 PHP x 0.02
    assert rows["r02"]["amount"] == 40  # the earlier copy of T2 is kept
    # Days >= as_of are never read: D3 has no partition yet.
    assert validate_ledger.partition_days(ledger.validated_path(out, "transactions")) == {D1, D2}
    customers = {
        r["customer_id"]: r["id_number"] for r in ledger.read_validated(spark, out, "customers").collect()
    }
    assert customers == {"C1": "k01", "C2": "k02", "C3": "k03", "C9": "k04"}
    rates = ledger.read_validated(spark, out, "fx_rates")
    assert rates.schema == ledger.FX_RATES_SCHEMA
    assert (
        rates.where((F.col("currency") == "GBP") & (F.col("rate_date") == D2)).first()["usd_per_unit"] == 1.25
    )
    labels = ledger.read_validated(spark, out, "labels")
    assert labels.schema == ledger.LABELS_SCHEMA
    assert {r["typology"] for r in labels.collect()} == {"y01", "y02"}


def test_run_keeps_row_level_output_owner_only(parquet_run: tuple[Path, dict]) -> None:
    base, _ = parquet_run
    for folder in [
        base / "out" / "quarantine" / "table=transactions" / "run_date=2025-03-03",
        base / "out" / "validated" / "transactions" / "booking_date=2025-03-01",
        base / "out" / "validated" / "customers",
    ]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        files = [p for p in folder.iterdir() if p.suffix == ".parquet"]
        assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)


def test_run_writes_gx_results_beside_the_summary(parquet_run: tuple[Path, dict]) -> None:
    base, summary = parquet_run
    folder = base / "out" / "runs" / "validate" / "run_date=2025-03-03"
    assert json.loads((folder / "summary.json").read_text()) == json.loads(json.dumps(summary, default=str))
    result = json.loads((folder / "gx_transactions.json").read_text())
    failed = {
        (r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column")): r["result"].get(
            "unexpected_count"
        )
        for r in result["results"]
        if not r["success"]
    }
    assert failed[("expect_column_values_to_be_unique", "txn_id")] == 2  # both copies of T2
    assert failed[("expect_column_values_to_not_be_null", "usd_per_unit")] == 2  # r11, r13
    assert failed[("expect_column_values_to_match_regex", "mcc")] == 1
    assert ("expect_column_values_to_be_of_type", "amount") not in failed
    for table in ("customers", "fx_rates", "labels"):
        assert json.loads((folder / f"gx_{table}.json").read_text())["success"] is False
    # Counts only: no row values in GX's output.
    assert "Payee One" not in (folder / "gx_transactions.json").read_text()


def test_run_on_csv_gives_the_same_result_as_parquet(
    spark: SparkSession, parquet_run: tuple[Path, dict], csv_run: tuple[Path, dict]
) -> None:
    parquet_base, parquet_summary = parquet_run
    csv_base, csv_summary = csv_run
    for table in ledger.TABLES:
        assert {k: v for k, v in csv_summary["tables"][table].items() if k != "gx"} == {
            k: v for k, v in parquet_summary["tables"][table].items() if k != "gx"
        }
    assert _quarantined_by_marker(spark, csv_base / "out") == _quarantined_by_marker(
        spark, parquet_base / "out"
    )
    for table in ledger.TABLES:
        assertDataFrameEqual(
            ledger.read_validated(spark, csv_base / "out", table),
            ledger.read_validated(spark, parquet_base / "out", table),
        )


def test_run_again_for_the_same_date_replaces_its_output(
    spark: SparkSession, parquet_run: tuple[Path, dict], tmp_path: Path
) -> None:
    base, first = parquet_run
    out = tmp_path / "out"
    shutil.copytree(base / "out", out)
    again = validate_ledger.run(_settings(base / "ledger", out), AS_OF)
    # The rerun processes the same days as the first run (its quarantine partition replaces the first one).
    assert again["days"] == first["days"]
    assert again["tables"]["transactions"]["quarantined"] == 14
    found = _quarantined_by_marker(spark, out)
    assert found["transactions"] == BAD_TRANSACTIONS_FIRST_RUN
    assert _quarantine(spark, out, "customers").count() == len(BAD_CUSTOMERS)
    txns = ledger.read_validated(spark, out, "transactions")
    assert txns.count() == len(ACCEPTED_FIRST_RUN) == txns.select("txn_id").distinct().count()
    assert sorted(p.name for p in (out / "quarantine" / "table=transactions").iterdir()) == [
        "run_date=2025-03-03"
    ]
    assert not list(out.rglob("_staging"))


@pytest.mark.parametrize("broadcast_days", [7, 0], ids=["ids-broadcast", "ids-planned"])
def test_run_next_day_processes_only_the_new_day_and_catches_old_txn_ids(
    spark: SparkSession,
    parquet_run: tuple[Path, dict],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broadcast_days: int,
) -> None:
    # The day's ids are looked up among the earlier days' ids broadcast (a short run) or as Spark plans it.
    monkeypatch.setattr(validate_ledger, "BROADCAST_ID_DAYS", broadcast_days)
    base, _ = parquet_run
    out = tmp_path / "out"
    shutil.copytree(base / "out", out)
    day1 = out / "validated" / "transactions" / "booking_date=2025-03-01"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in day1.iterdir())
    summary = validate_ledger.run(_settings(base / "ledger", out), D3 + timedelta(days=1))
    assert summary["days"] == ["2025-03-03"]
    assert summary["tables"]["transactions"]["read"] == 2
    found = _quarantined_by_marker(spark, out, D3 + timedelta(days=1))
    assert found["transactions"] == BAD_TRANSACTIONS_NEXT_RUN  # T1 was validated on D1 by the first run
    assert sorted((p.name, p.stat().st_mtime_ns) for p in day1.iterdir()) == before  # D1 untouched
    txns = ledger.read_validated(spark, out, "transactions")
    assert {r["reference"] for r in txns.collect()} == ACCEPTED_FIRST_RUN | {"r30"}
    assert txns.count() == txns.select("txn_id").distinct().count()


def test_a_file_landing_late_in_a_validated_day_is_validated_by_the_next_run(
    spark: SparkSession, parquet_run: tuple[Path, dict], tmp_path: Path
) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    base, _ = parquet_run
    root, out = tmp_path / "ledger", tmp_path / "out"
    shutil.copytree(base / "ledger", root)  # modification times kept: the copy is the ledger as validated
    shutil.copytree(base / "out", out)
    folder = root / "transactions" / "booking_date=2025-03-01"
    rows = pq.read_table(next(folder.glob("*.parquet")))
    row = rows.filter(pc.equal(rows["reference"], "r01"))
    late = row.set_column(rows.schema.get_field_index("txn_id"), "txn_id", [["T-late"]])
    late = late.set_column(rows.schema.get_field_index("reference"), "reference", [["late1"]])
    copy = row.set_column(rows.schema.get_field_index("reference"), "reference", [["z-late-copy"]])
    pq.write_table(pa_concat([late, copy]), folder / "late-file.parquet")
    day2 = out / "validated" / "transactions" / "booking_date=2025-03-02"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in day2.iterdir())

    summary = validate_ledger.run(_settings(root, out), D3 + timedelta(days=1))

    # D1 again (its files changed), D3 as the new day; D2 untouched.
    assert summary["days"] == ["2025-03-01", "2025-03-03"]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in day2.iterdir()) == before
    txns = ledger.read_validated(spark, out, "transactions")
    assert {r["reference"] for r in txns.collect()} == ACCEPTED_FIRST_RUN | {"r30", "late1"}
    assert txns.count() == txns.select("txn_id").distinct().count()
    # The late copy of an id already in D1 is quarantined (the first copy by value is kept: r01).
    found = _quarantined_by_marker(spark, out, D3 + timedelta(days=1))
    assert found["transactions"]["z-late-copy"] == ["txn_id_duplicate"]
    recorded = validate_ledger.recorded_sources(out)
    assert sorted(recorded) == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert recorded["2025-03-01"] == validate_ledger.day_sources(folder).fingerprint
    # Nothing changed since (and no new day): the next run validates no booking day again.
    assert validate_ledger.run(_settings(root, out), D3 + timedelta(days=2))["days"] == []


def test_changed_days_compare_fingerprints_and_else_times(tmp_path: Path) -> None:
    import os

    folders = {}
    for day in (D1, D2, D3):
        folders[day] = tmp_path / f"booking_date={day}"
        folders[day].mkdir()
        os.utime(folders[day], ns=(2_000, 2_000))  # validated at t = 2000 ns

    def source(fingerprint: str, newest: int) -> validate_ledger.DaySource:
        return validate_ledger.DaySource(fingerprint, newest)

    sources = {"2025-03-01": source("a", 1_000), "2025-03-02": source("b2", 1_000),
               "2025-03-03": source("c", 3_000), "2025-03-04": source("d", 3_000)}
    recorded = {"2025-03-01": "a", "2025-03-02": "b"}
    # 03-02's files differ from its record; 03-03 has no record but a file newer than its partition (a run
    # killed before it recorded, or an output root validated before records were kept); 03-04 is no
    # validated day (processed as a missing day anyway).
    assert validate_ledger.changed_days(sources, recorded, folders) == {"2025-03-02", "2025-03-03"}
    # No record and nothing newer than the partition: unchanged (its fingerprint is then recorded).
    assert validate_ledger.changed_days({"2025-03-03": source("c", 1_500)}, {}, folders) == frozenset()


def test_days_to_process_adds_missing_days_and_the_day_before() -> None:
    values = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "not-a-date"]
    validated = {D1, D2, D3}
    assert validate_ledger.days_to_process(values, validated, date(2025, 3, 4), full=False) == [
        "2025-03-03",
        "not-a-date",
    ]
    assert validate_ledger.days_to_process(values, {D2}, date(2025, 3, 4), full=False) == [
        "2025-03-01",
        "2025-03-03",
        "not-a-date",
    ]
    assert validate_ledger.days_to_process(values, validated, date(2025, 3, 4), full=True) == [
        "2025-03-01",
        "2025-03-02",
        "2025-03-03",
        "not-a-date",
    ]
    assert validate_ledger.days_to_process(
        values, validated, date(2025, 3, 4), False, frozenset({"2025-03-01"})
    ) == ["2025-03-01", "2025-03-03", "not-a-date"]
