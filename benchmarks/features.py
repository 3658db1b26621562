"""Benchmark of the feature job: full build, one incremental day, and a DuckDB reference on the same Parquet.

    .venv/bin/python benchmarks/features.py --work /tmp/bench --customers 20000 --days 180

Steps (each timed): generate a synthetic ledger (`bantay.synth.generate.run`, skipped when --work already has
one), validate it (`bantay validate --full`, skipped when validated), then

1. Spark full build as of D = last day + 1 with `full=True`, sender features only (state + feature table);
2. Spark full build with the network features (clusters, F1-F5) too: `build_features.run(full=True)`;
3. one incremental day: day D is appended to the validated layer, then `run(D + 1)`;
4. DuckDB reference: the SHARED SUBSET below computed straight from the validated Parquet, in a child process.

Shared subset (per customer with a transaction in the 365 days before D): n_out_90d, out_usd_90d, n_in_90d,
in_usd_90d, n_p2p_30d, n_p2p_90d, p2p_usd_90d, median_p2p_usd_90d (approximate), share_p2p_night_90d (local
hour in the customer's zone), n_payees_90d. Spark's step 1 computes these and ~50 other sender features, and
writes state and table, so the ratio favours DuckDB.

Peak memory: the Spark JVM's VmHWM (resident high-water mark) and the Python driver's max RSS; DuckDB's is the
child process's VmHWM. Prints one JSON document.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its profile.py would shadow the standard
# library's `profile` (which cProfile, hence pyspark, imports): drop that folder before anything else.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import logging
import resource
import shutil
import subprocess
import time
from datetime import date, timedelta

DUCKDB_SUBSET = """
WITH t AS (
  SELECT t.customer_id, t.booking_date, t.booked_at, t.direction, t.channel, t.mcc, t.amount_usd,
         t.counterparty_id, t.counterparty_country, c.residence_country, c.timezone
  FROM read_parquet('{txns}', hive_partitioning = true) t
  JOIN read_parquet('{customers}') c USING (customer_id)
  WHERE t.booking_date >= DATE '{start}' AND t.booking_date < DATE '{as_of}'
), f AS (
  SELECT *,
    booking_date >= DATE '{as_of}' - INTERVAL 90 DAY AS w90,
    booking_date >= DATE '{as_of}' - INTERVAL 30 DAY AS w30,
    direction = 'out' AND channel IN ('remittance', 'bank_transfer', 'wallet', 'crypto', 'cash')
      AND mcc IS NULL
      AND counterparty_country IS NOT NULL AND counterparty_country <> residence_country AS p2p,
    hour(timezone(timezone, booked_at::TIMESTAMPTZ)) AS local_hour
  FROM t
)
SELECT customer_id,
  count(*) FILTER (WHERE w90 AND direction = 'out') AS n_out_90d,
  coalesce(sum(amount_usd) FILTER (WHERE w90 AND direction = 'out'), 0) AS out_usd_90d,
  count(*) FILTER (WHERE w90 AND direction = 'in') AS n_in_90d,
  coalesce(sum(amount_usd) FILTER (WHERE w90 AND direction = 'in'), 0) AS in_usd_90d,
  count(*) FILTER (WHERE w30 AND p2p) AS n_p2p_30d,
  count(*) FILTER (WHERE w90 AND p2p) AS n_p2p_90d,
  coalesce(sum(amount_usd) FILTER (WHERE w90 AND p2p), 0) AS p2p_usd_90d,
  approx_quantile(amount_usd, 0.5) FILTER (WHERE w90 AND p2p) AS median_p2p_usd_90d,
  avg(CASE WHEN local_hour >= 21 OR local_hour < 3 THEN 1.0 ELSE 0.0 END) FILTER (WHERE w90 AND p2p)
    AS share_p2p_night_90d,
  count(DISTINCT counterparty_id) FILTER (WHERE w90 AND p2p) AS n_payees_90d
FROM f GROUP BY customer_id
"""

_DUCKDB_CHILD = """
import json, sys, time
import duckdb
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
started = time.perf_counter()
rows = con.execute(sys.argv[1]).fetchall()
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: on Linux a child's ru_maxrss keeps the RSS its parent had when it forked.
peak = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "rows": len(rows), "peak_rss_mb": peak}))
"""


def _timed(label: str, fn, timings: dict):
    started = time.perf_counter()
    result = fn()
    timings[label] = round(time.perf_counter() - started, 1)
    logging.getLogger("benchmark").info("%s: %.1fs", label, timings[label])
    return result


def _jvm_peak_mb(spark) -> float | None:
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _direct_validated(spark, ledger_root: Path, out: Path) -> None:
    """The validated layer without the checks (bad planted rows pass through): typed columns + amount_usd."""
    from pyspark.sql import functions as F

    from bantay import ledger

    fx = ledger.read_raw(spark, ledger_root, "fx_rates").dropDuplicates(["rate_date", "currency"])
    txns = ledger.read_raw(spark, ledger_root, "transactions").withColumn(
        "booking_date", F.col("booking_date").cast("date")
    )
    txns = txns.join(
        F.broadcast(fx.select(F.col("rate_date").alias("booking_date"), "currency", "usd_per_unit")),
        on=["booking_date", "currency"],
        how="inner",
    ).withColumn("amount_usd", F.col("amount").cast("double") * F.col("usd_per_unit"))
    columns = [f.name for f in ledger.TRANSACTIONS_SCHEMA.fields]
    txns.select(*columns, "booking_date", "amount_usd").repartition("booking_date").write.partitionBy(
        "booking_date"
    ).parquet(str(ledger.validated_path(out, "transactions")))
    for table in ("customers", "fx_rates", "labels"):
        frame = ledger.read_raw(spark, ledger_root, table)
        if frame is not None:
            if table == "customers":
                frame = frame.dropDuplicates(["customer_id"]).where(F.col("customer_id").isNotNull())
            frame.write.parquet(str(ledger.validated_path(out, table)))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the ledger and the output root")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--direct", action="store_true", help="fill the validated layer by a plain typed copy instead of GX"
    )
    args = parser.parse_args(argv)

    from bantay import ledger, log
    from bantay import settings as settings_module
    from bantay import spark as spark_module

    log.configure("INFO")
    timings: dict[str, float] = {}
    ledger_root, out = args.work / "ledger", args.work / "out"
    as_of = args.end_date  # the last generated day stays out of the full build: it is the "new day"
    settings = settings_module.load(
        ledger_root=ledger_root,
        output_root=out,
        spark_master=args.master,
        spark_driver_memory=args.driver_memory,
        spark_shuffle_partitions=8,
    )
    if not (ledger_root / "transactions").is_dir():
        from bantay.synth import generate

        _timed(
            "generate",
            lambda: generate.run(
                out=ledger_root,
                customers=args.customers,
                days=args.days,
                seed=args.seed,
                end_date=args.end_date,
                truth=None,
            ),
            timings,
        )
    spark = spark_module.session(settings, app_name="bantay-benchmark")
    from bantay.features import spending, store
    from bantay.features.table import at_as_of, feature_table
    from bantay.io import catalogue, files
    from bantay.jobs import build_features, validate_ledger

    if not ledger.validated_path(out, "transactions").is_dir():
        if args.direct:
            _timed("validate_direct", lambda: _direct_validated(spark, ledger_root, out), timings)
        else:
            _timed(
                "validate",
                lambda: validate_ledger.run(settings, as_of + timedelta(days=1), full=True),
                timings,
            )
    validated = ledger.validated_path(out, "transactions")
    new_day = files.partition_path(validated, ledger.PARTITION_COLUMN, as_of)
    parked = args.work / f"_parked_{new_day.name}"
    if new_day.exists():  # hide day D so that the full build and the incremental day are honest
        shutil.move(str(new_day), str(parked))
    n_rows = ledger.read_validated(spark, out, "transactions").count()
    shutil.rmtree(catalogue.dataset("state_p2p").folder(out), ignore_errors=True)

    def sender_only() -> None:
        start = as_of - timedelta(days=365)
        store.update_state(spark, settings, start, as_of, full=True)
        p2p = store.read_state(spark, settings, "p2p", start, as_of)
        daily = store.read_state(spark, settings, "daily", start, as_of)
        customers = ledger.read_validated(spark, out, "customers")
        activity = spending.activity_features(at_as_of(daily, as_of))
        table = feature_table(at_as_of(p2p, as_of), activity, customers)
        files.replace_partition(table, out / "bench_sender_features", "as_of", as_of)

    _timed("spark_full_sender_features", sender_only, timings)
    _timed("spark_full_with_network", lambda: build_features.run(settings, as_of, full=True), timings)
    p2p_rows = spark.read.parquet(str(store.state_path(settings, "p2p"))).count()
    daily_rows = spark.read.parquet(str(store.state_path(settings, "daily"))).count()
    if parked.exists():
        shutil.move(str(parked), str(new_day))
    _timed("spark_incremental_day", lambda: build_features.run(settings, as_of + timedelta(days=1)), timings)
    jvm_peak = _jvm_peak_mb(spark)

    query = DUCKDB_SUBSET.format(
        txns=f"{validated}/booking_date=*/*.parquet",
        customers=f"{ledger.validated_path(out, 'customers')}/*.parquet",
        start=as_of - timedelta(days=365),
        as_of=as_of,
    )
    child = subprocess.run(
        [sys.executable, "-c", _DUCKDB_CHILD, query], check=True, capture_output=True, text=True
    )
    duck = json.loads(child.stdout.strip().splitlines()[-1])
    timings["duckdb_subset"] = round(duck["seconds"], 1)
    report = {
        "transactions": n_rows,
        "p2p_state_rows": p2p_rows,
        "daily_state_rows": daily_rows,
        "customers": args.customers,
        "days": args.days,
        "master": args.master,
        "seconds": timings,
        "ratio_full_sender_to_duckdb": round(
            timings["spark_full_sender_features"] / max(duck["seconds"], 1e-9), 2
        ),
        "ratio_incremental_to_full": round(
            timings["spark_incremental_day"] / timings["spark_full_with_network"], 3
        ),
        "peak_mb": {
            "spark_jvm": jvm_peak,
            "python_driver": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "duckdb": duck["peak_rss_mb"],
        },
        "duckdb_rows": duck["rows"],
    }
    print(json.dumps(report, indent=2))  # noqa: T201 - the benchmark's output
    return report


if __name__ == "__main__":
    main()
