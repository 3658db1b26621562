"""`bantay validate`: check every ledger table with GX, quarantine bad rows with their rule, pass the rest on.

Reads LEDGER (Parquet or CSV), writes
  OUT/validated/transactions/booking_date=D/   one partition per booking day processed, typed, + amount_usd
  OUT/validated/{customers,fx_rates,labels}/   whole tables, typed, replaced every run
  OUT/quarantine/table=T/run_date=D/           bad rows as read, with rule, rules, run_date, run_id
  OUT/runs/validate/run_date=D/                summary.json and GX's gx_<table>.json
Days processed for run date D: every booking day < D without a validated partition, plus D-1 always, plus
every validated day whose ledger files changed since it was validated (a file added, replaced or removed: the
names, sizes and modification times of its files, kept in OUT/validated/_sources.json); with `full`, every
day < D. Days >= D are never read. Reference tables are validated first, because transactions and labels
must name an accepted customer and transactions need an accepted FX rate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

import bantay.spark
from bantay import ledger
from bantay.errors import LedgerFileError, LedgerLayoutError, TableUnusableError
from bantay.io import catalogue, files
from bantay.quality import ledger_files, quarantine, suites
from bantay.quality.rules import Rule, rules_for
from bantay.settings import Settings

logger = logging.getLogger(__name__)

PARTITION = ledger.PARTITION_COLUMN
# A run of at most this many booking days broadcasts its txn_ids to look them up among the earlier days' ids
# (a week at 100M rows a year is about 2M ids); a longer catch-up lets Spark plan the lookup.
BROADCAST_ID_DAYS = 7


def run(settings: Settings, as_of: date, full: bool = False) -> dict[str, Any]:
    """Validate the ledger for run date `as_of`; return the run summary (also written as summary.json).

    Every file is judged before Spark starts: a missing ledger root or table, or a table none of whose files
    can be read, stops the run at once with one line. Nothing is replaced until every table's output is
    written and checked. A file Spark fails to read that the checks before Spark passed stops the run with
    one line naming it (LedgerFileError), not a traceback.
    """
    try:
        return _validate(settings, as_of, full)
    except (PySparkException, Py4JJavaError) as error:
        failed = unreadable_file(str(error))
        if failed is None:
            raise
        raise LedgerFileError(
            f"{failed[0]}: Spark cannot read this ledger file ({failed[1]}); nothing was replaced: move the "
            "file out of the ledger (or rewrite it as plain Parquet with snappy, or as CSV) and rerun"
        ) from None


def unreadable_file(message: str) -> tuple[str, str] | None:
    """(file, root cause) from Spark's error for a file it could not read; None for any other error."""
    found = _FAILED_READ.search(message)
    if found is None:
        return None
    causes = _CAUSE.findall(message)
    return found.group(1).removeprefix("file://"), causes[-1] if causes else "read error"


_FAILED_READ = re.compile(r"Encountered error while reading file (\S+?)\.?\s")
_CAUSE = re.compile(r"Caused by: ([\w.$]+)")


def _validate(settings: Settings, as_of: date, full: bool) -> dict[str, Any]:
    started = time.monotonic()
    root, out = settings.ledger, settings.output_root
    if not root.is_dir():
        raise LedgerLayoutError(f"{root}: ledger root does not exist (or is not a folder)")
    validated_folders = files.partition_dates(ledger.validated_path(out, "transactions"), PARTITION)
    validated_days = set(validated_folders)
    ledger_folders = files.partitions(root / "transactions", PARTITION)
    ledger_days = list(ledger_folders)
    run_folder = catalogue.partition(out, "validate_runs", as_of)
    # Taken before anything is read: a file landing during the run makes its day change again next run.
    sources = {value: day_sources(folder) for value, folder in ledger_folders.items()
               if (day := _as_date(value)) is not None and day < as_of}
    recorded = recorded_sources(out)
    changed = changed_days(sources, recorded, validated_folders)
    if changed and not full:
        logger.warning(
            "validate %s: the ledger files of %d validated booking day(s) changed since they were validated "
            "(%s); validating them again", as_of, len(changed), ", ".join(sorted(changed)),
        )
    again = _days_of_earlier_run(run_folder) | changed
    days = days_to_process(ledger_days, validated_days, as_of, full, again)
    logger.info(
        "validate %s: %d booking day(s) to process (%s)", as_of, len(days), "full" if full else "incremental"
    )
    intakes = {table: intake(root, table, days) for table in ledger.TABLES}

    spark = bantay.spark.session(settings)
    run_id = f"validate-{as_of.isoformat()}-{uuid.uuid4().hex[:8]}"
    raw = {table: read_table(spark, root, table, intakes[table]) for table in ledger.TABLES}
    context = suites.ephemeral_context()
    # Built once: flagging and counting share each table's rules (a set rule holds hundreds of literals).
    rules = {table: rules_for(table, as_of) for table in ledger.TABLES}
    tables: dict[str, dict[str, Any]] = {}
    gx_results: dict[str, dict[str, Any]] = {}
    cached: list[DataFrame] = []
    # Every output is staged here and swapped into place only when all tables are written and checked.
    with bantay.spark.uncompressed_caches(spark), contextlib.ExitStack() as swaps:
        try:
            customers = _flag(raw["customers"], "customers", rules["customers"], cached)
            known = customers.where(F.col(quarantine.RULE).isNull()).select(
                F.col("__customer_id").alias("customer_id")
            )
            fx = _flag(raw["fx_rates"], "fx_rates", rules["fx_rates"], cached)
            rates = quarantine.accepted(fx, "fx_rates")
            labels = _flag(raw["labels"], "labels", rules["labels"], cached, known_customers=known)
            transactions_raw = _select_days(raw["transactions"], days)
            seen = _seen_txn_ids(spark, out, validated_days, days, as_of)
            transactions = _flag(
                transactions_raw,
                "transactions",
                rules["transactions"],
                cached,
                known_customers=known,
                fx_rates=rates,
                seen_txn_ids=seen,
                broadcast_ids=len(days) <= BROADCAST_ID_DAYS,
            )

            flagged = {"customers": customers, "fx_rates": fx, "labels": labels, "transactions": transactions}
            originals = {table: _original_columns(raw[table], table) for table in ledger.TABLES}
            for table in ("customers", "fx_rates", "labels", "transactions"):  # reference tables first
                frame = flagged[table]
                step = time.monotonic()
                tables[table] = quarantine.counts(frame, rules[table])
                tables[table]["files_quarantined"] = [f.as_dict() for f in intakes[table].faults]
                counted = time.monotonic()
                logger.info(
                    "%s: %d read, %d accepted, %d quarantined, %d file(s) quarantined",
                    table,
                    tables[table]["read"],
                    tables[table]["accepted"],
                    tables[table]["quarantined"],
                    len(intakes[table].faults),
                )
                result = suites.run_suite(
                    quarantine.checked(frame, table), suites.suite_for(table, as_of), context
                )
                gx_results[table] = result
                checked = time.monotonic()
                tables[table]["gx"] = {
                    "success": bool(result["success"]),
                    "evaluated": len(result["results"]),
                    "failed": suites.failures(result),
                }
                verify = _verifier(table, tables[table], _raw_count(raw[table], table, days))
                _write(spark, out, table, frame, originals[table], as_of, run_id, days, verify, swaps)
                logger.info(
                    "%s: counted in %.1fs, GX in %.1fs, written in %.1fs",
                    table,
                    counted - step,
                    checked - counted,
                    time.monotonic() - checked,
                )
        finally:
            for frame in cached:
                frame.unpersist()

        summary: dict[str, Any] = {
            "run_id": run_id,
            "as_of": as_of.isoformat(),
            "full": full,
            "ledger": str(root),
            "days": days,
            "tables": tables,
            "files_quarantined": sum(len(i.faults) for i in intakes.values()),
            "quarantine": str(catalogue.dataset("quarantine").folder(out)),
            "validated": str(catalogue.dataset("validated_transactions").folder(out)),
            "seconds": round(time.monotonic() - started, 1),
        }
        staging = swaps.enter_context(files.atomic_dir(run_folder))
        for table, result in gx_results.items():
            files.write_json(staging / f"gx_{table}.json", result)
        files.write_json(staging / "summary.json", summary)
    # After every swap: a run killed before this line leaves the old fingerprints, so its days count as
    # changed and the next run validates them again.
    _record_sources(out, sources, recorded, days, validated_days)
    logger.info("validate %s done in %.1fs (run %s)", as_of, summary["seconds"], run_id)
    return summary


# ---------------------------------------------------------------------------------------------------- days


def _as_date(value: str) -> date | None:
    return ledger.partition_day(value)


def partition_days(folder: Path) -> set[date]:
    """The booking days that have a partition folder under `folder`."""
    return set(files.partition_dates(folder, PARTITION))


def days_to_process(
    ledger_days: list[str],
    validated_days: set[date],
    as_of: date,
    full: bool,
    again: frozenset[str] = frozenset(),
) -> list[str]:
    """Partition values to read: days < as_of not yet validated, plus as_of - 1; every day < as_of if full.

    `again` are days to process again: the days an earlier run for the same as_of processed (a rerun replaces
    that run's quarantine partition, which must keep holding their bad rows), and validated days whose ledger
    files changed since (`changed_days`). A folder whose name is not a date is read on every run: its rows
    cannot be placed on a day, so they are quarantined (`booked_at_not_partition_date`) rather than silently
    skipped.
    """
    chosen = []
    for value in ledger_days:
        day = _as_date(value)
        if (
            day is None
            or (value in again and day < as_of)
            or (day < as_of and (full or day not in validated_days or day == as_of - timedelta(days=1)))
        ):
            chosen.append(value)
    return chosen


@dataclass(frozen=True)
class DaySource:
    """What a ledger day folder holds: `fingerprint`, sha256 over its visible files' relative names, sizes
    and modification times (as rsync and make judge a change), and the latest of those times."""

    fingerprint: str
    newest_ns: int


def day_sources(folder: Path) -> DaySource:
    """The `DaySource` of a ledger day folder."""
    digest, newest = hashlib.sha256(), 0
    for path in sorted(p for p in folder.rglob("*") if not files.is_hidden(p.relative_to(folder))):
        if path.is_file():
            info = path.stat()
            digest.update(f"{path.relative_to(folder)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
            newest = max(newest, info.st_mtime_ns)
    return DaySource(digest.hexdigest(), newest)


def recorded_sources(out: Path) -> dict[str, str]:
    """The fingerprint of each validated booking day's ledger files when it was validated, by day value."""
    path = catalogue.path(out, "validated_sources")
    if not path.is_file():
        return {}
    recorded: dict[str, str] = json.loads(path.read_text()).get("days", {})
    return recorded


def changed_days(
    sources: dict[str, DaySource], recorded: dict[str, str], validated: dict[date, Path]
) -> frozenset[str]:
    """Validated days (`validated`: their partition folders) whose ledger files differ from the ones they were
    validated from. A day without a recorded fingerprint (validated by a version of Bantay that kept none, or
    by a run killed before it recorded them) counts as changed when one of its files is newer than its
    validated partition."""
    changed = set()
    for value, source in sources.items():
        day = _as_date(value)
        if day not in validated:
            continue
        if value in recorded:
            if recorded[value] != source.fingerprint:
                changed.add(value)
        elif source.newest_ns > validated[day].stat().st_mtime_ns:
            changed.add(value)
    return frozenset(changed)


def _record_sources(
    out: Path,
    sources: dict[str, DaySource],
    recorded: dict[str, str],
    days: list[str],
    validated_days: set[date],
) -> None:
    """Keep the fingerprints of the days this run validated, and a first one for validated days without."""
    done = set(days)
    kept = dict(recorded)
    for value, source in sources.items():
        if value in done or (value not in kept and _as_date(value) in validated_days):
            kept[value] = source.fingerprint
    if kept != recorded:
        files.write_json(catalogue.path(out, "validated_sources"), {"days": dict(sorted(kept.items()))})


def _days_of_earlier_run(run_folder: Path) -> frozenset[str]:
    summary = run_folder / "summary.json"
    if not summary.is_file():
        return frozenset()
    return frozenset(json.loads(summary.read_text()).get("days", []))


# ---------------------------------------------------------------------------------------------------- reading


def intake(root: Path, table: str, days: list[str]) -> ledger_files.Intake:
    """Judge the files of `table` this run reads (transactions: the booking days in `days`), before Spark.

    Stops with TableUnusableError when the table is missing, or when none of its files can be read. Labels may
    be absent. A transactions table whose days in this run are all unreadable is still usable when a file of
    another day is (its footer or header is enough to tell): those days are quarantined as files.
    """
    scope = set(days) if table == "transactions" else None
    found = ledger_files.inspect(root, table, ledger_files.list_files(root, table, scope))
    if found.usable:
        return found
    if table == "transactions":
        everything = ledger_files.list_files(root, table)
        elsewhere = [
            path for path in everything if path not in set(ledger_files.list_files(root, table, scope))
        ]
        if any(ledger_files.inspect(root, table, [path], pages=False).usable for path in elsewhere):
            return found
        if not everything:
            raise TableUnusableError(
                table, "(all)", "table_missing", 1, f"{root / table}/ has no *.parquet or *.csv"
            )
    if not found.faults:
        if table == "labels":
            return found
        raise TableUnusableError(
            table, "(all)", "table_missing", 1, f"{root / table}/ has no *.parquet or *.csv"
        )
    raise ledger_files.unusable(table, found.faults)


def read_table(spark: SparkSession, root: Path, table: str, found: ledger_files.Intake) -> DataFrame | None:
    """Read the usable files of a ledger table as stored (CSV every column a string); None for absent labels.

    A transactions table without a usable file in this run's days gives an empty frame of the contract.
    """
    if not found.usable:
        if table == "labels":
            return None
        empty = _empty(spark, table)
        return empty.withColumn(PARTITION, F.lit(None).cast("string")) if table == "transactions" else empty
    # The reader turns partition type inference off for the session while it lists files; later reads (the
    # validated layer, the features step in the same session) need it back, or booking_date is a string.
    inference = "spark.sql.sources.partitionColumnTypeInference.enabled"
    previous = spark.conf.get(inference, "true") or "true"
    try:
        frame = ledger_files.read(spark, root, found, with_position=table in ("customers", "fx_rates"))
        _ = frame.schema  # resolve now: a file Spark cannot read stops the run with one line, no traceback
    except (PySparkException, Py4JJavaError) as error:
        kind = type(error).__name__
        first = next(iter(found.usable))
        raise TableUnusableError(
            table, "(all)", "table_unreadable", len(found.usable), f"{first} ({kind})"
        ) from None
    finally:
        spark.conf.set(inference, previous)
    return frame


def _select_days(frame: DataFrame | None, days: list[str]) -> DataFrame | None:
    assert frame is not None
    # booking_date is the partition column: this filter prunes folders, so days >= D are never read.
    return frame.where(F.col(PARTITION).isin(*days)) if days else frame.where(F.lit(False))


def _seen_txn_ids(
    spark: SparkSession, out: Path, validated_days: set[date], days: list[str], as_of: date
) -> DataFrame | None:
    """txn_ids already validated on days < as_of that this run does not rewrite (only that column is read)."""
    rewritten = {_as_date(value) for value in days}
    keep = sorted(day for day in validated_days if day < as_of and day not in rewritten)
    if not keep:
        return None
    base = ledger.validated_path(out, "transactions")
    paths = [str(files.partition_path(base, PARTITION, day)) for day in keep]
    return spark.read.option("basePath", str(base)).parquet(*paths).select("txn_id")


def _original_columns(frame: DataFrame | None, table: str) -> list[str]:
    if frame is None:
        return [field.name for field in ledger.SCHEMAS[table].fields]
    return [name for name in frame.columns if name not in (quarantine.FILE, quarantine.POSITION)]


def _empty(spark: SparkSession, table: str) -> DataFrame:
    return spark.createDataFrame([], ledger.SCHEMAS[table])


def _flag(
    frame: DataFrame | None,
    table: str,
    rules: tuple[Rule, ...],
    cached: list[DataFrame],
    broadcast_ids: bool = True,
    **lookups: DataFrame | None,
) -> DataFrame:
    """Prepared, flagged and cached once (values as read kept on bad rows only): counts, GX, quarantine and
    accepted rows all read this frame."""
    if frame is None:  # labels absent: an empty table with the contract schema
        spark = SparkSession.getActiveSession()
        assert spark is not None
        frame = _empty(spark, table)
    flagged = quarantine.flag(quarantine.prepare(frame, table, broadcast_ids=broadcast_ids, **lookups), rules)
    flagged = quarantine.for_reuse(flagged, _original_columns(frame, table)).cache()
    cached.append(flagged)
    return flagged


def _raw_count(frame: DataFrame | None, table: str, days: list[str]) -> int:
    """Rows in the input as read, before any join: Parquet answers from file footers."""
    if frame is None:
        return 0
    if table == "transactions":
        frame = _select_days(frame, days)
        assert frame is not None
    return frame.count()


# ---------------------------------------------------------------------------------------------------- writing


def _write(
    spark: SparkSession,
    out: Path,
    table: str,
    flagged: DataFrame,
    original_columns: list[str],
    as_of: date,
    run_id: str,
    days: list[str],
    verify: Callable[[], None],
    swaps: contextlib.ExitStack,
) -> None:
    """Stage the quarantine partition and the accepted rows; each is swapped into place when `swaps` closes.

    `verify` (the conservation check) runs first: when it fails, the earlier output stays as it was.
    """
    bad = quarantine.quarantined(flagged, original_columns, as_of, run_id)
    good = quarantine.accepted(flagged, table)
    target = catalogue.partition(out, "quarantine", as_of, table=table)
    verify()
    staging = swaps.enter_context(files.atomic_dir(target))
    # One file each, and the scan of the cached rows stays parallel: repartition(1) moves only the rows
    # written, where coalesce(1) would read every cached partition of the table in a single task.
    bad.repartition(1).write.mode("overwrite").parquet(str(staging))
    files.make_private(staging)
    if table == "transactions":
        _write_transactions(spark, out, good, days, swaps)
    else:
        valid = swaps.enter_context(files.atomic_dir(ledger.validated_path(out, table)))
        good.repartition(1).write.mode("overwrite").parquet(str(valid))
        files.make_private(valid)


def _write_transactions(
    spark: SparkSession, out: Path, good: DataFrame, days: list[str], swaps: contextlib.ExitStack
) -> None:
    """One validated partition per booking day processed, from one Spark write; each staged for `swaps`.

    A day whose rows were all quarantined still gets an (empty) partition, so that a stale one is replaced
    and the day counts as validated.
    """
    base = ledger.validated_path(out, "transactions")
    for leftover in (base / "_staging").glob("_batch.*"):  # a batch of a killed run
        shutil.rmtree(leftover, ignore_errors=True)
    batch = base / "_staging" / f"_batch.{uuid.uuid4().hex}"
    schema = T.StructType([*ledger.TRANSACTIONS_SCHEMA.fields, T.StructField("amount_usd", T.DoubleType())])
    try:
        # No shuffle: each task writes the days it holds (a day's rows come from its own folder's files, so
        # mostly one file per day; a day holding the first copy of a repeated txn_id gets one more).
        good.write.partitionBy(PARTITION).mode("overwrite").parquet(str(batch))
        for value in days:
            day = _as_date(value)
            if day is None:
                continue  # not a date: every row of that folder was quarantined
            produced = files.partition_path(batch, PARTITION, day)
            staging = swaps.enter_context(files.atomic_dir(files.partition_path(base, PARTITION, day)))
            if produced.is_dir():
                os.rename(produced, staging)
            else:
                spark.createDataFrame([], schema).coalesce(1).write.mode("overwrite").parquet(str(staging))
            files.make_private(staging)
    finally:
        shutil.rmtree(batch, ignore_errors=True)


def _verifier(table: str, counted: dict[str, Any], read: int) -> Callable[[], None]:
    """Rows read, counted on the input before any join, = rows accepted + rows quarantined by the rules.

    The two sides are counted on different frames, so a join that loses or repeats rows is caught here.
    """

    def verify() -> None:
        if counted["read"] != read:
            raise quarantine.ConservationError(
                f"table {table}: {read} rows in the input but {counted['read']} rows checked"
            )
        quarantine.check_conservation(table, read, counted["accepted"], counted["quarantined"])

    return verify


if __name__ == "__main__":  # spark-submit jobs/validate_ledger.py --ledger L --out O --as-of 2025-03-31
    from bantay.cli import main

    raise SystemExit(main(["validate", *sys.argv[1:]]))
