"""Scale run: the full and the daily pipeline on ledgers of growing size, with DuckDB's and plain Spark's
reference in the same run.

    .venv/bin/python benchmarks/scale.py --work /tmp/scale --sizes 1 10         # millions of transactions
    .venv/bin/python benchmarks/scale.py --work /tmp/scale --sizes 1 10 50 100 --plot docs/scale.png

For each size N (millions of transactions), a ledger of --days days and as many customers as give about N
million rows (`ROWS_PER_CUSTOMER_DAY`, measured on the default world) is generated once under WORK/<N>m/ledger
(`bantay generate` in a child process: seconds and peak memory), then, each in a child process:

- the profile (`benchmarks/profile.py`, label `scale`): the first day's full run (validate --full, features
  --full, train --promote) as of the ledger's last day D, and the daily run of D+1 (validate the new day,
  features from the state, score, draft), with seconds, Spark jobs, shuffle and spill per step and the JVM's
  peak memory;
- DuckDB's reference: the shared subset of sender aggregates (`benchmarks/features.py`, DUCKDB_SUBSET)
  straight from the validated Parquet as of D;
- a plain PySpark job computing the same subset from the same Parquet, on the same master and memory.

Ratios of one size are read inside one run (the machine is shared: seconds alone say little):
`features_vs_duckdb` and `features_vs_plain_spark` (the full feature build against the references),
`daily_vs_full` (the daily steps against validate_full + features_full + score + draft; training aside), and
across sizes the growth of each step per row from the smallest size. Results: WORK/scale.json (one entry per
size, appended as sizes finish), a table on stdout, and with --plot a log-log plot of seconds per step.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its profile.py would shadow the standard
# library's `profile` (which cProfile imports): drop that folder before anything else is imported.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import importlib.util
import json
import multiprocessing
import resource
import subprocess
import time
from datetime import date
from typing import Any

HERE = Path(__file__).resolve().parent
# Transactions per customer and day in the default world (2,000 customers x 120 days gave 353,060 rows).
ROWS_PER_CUSTOMER_DAY = 1.47
FULL_STEPS = ("validate_full", "features_full", "score", "draft")
DAILY_STEPS = ("validate_day", "features_day", "score", "draft")

PLAIN_SPARK_CHILD = """
import json, sys, time
from datetime import date, timedelta
from pyspark.sql import SparkSession, functions as F
validated, as_of, master, memory, partitions = sys.argv[1], date.fromisoformat(sys.argv[2]), *sys.argv[3:6]
spark = (SparkSession.builder.master(master).appName("plain-spark-reference")
         .config("spark.driver.memory", memory).config("spark.sql.shuffle.partitions", partitions)
         .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter()
start = as_of - timedelta(days=365)
txns = (spark.read.parquet(f"{validated}/transactions")
        .where((F.col("booking_date") >= F.lit(start)) & (F.col("booking_date") < F.lit(as_of))))
customers = (spark.read.parquet(f"{validated}/customers")
             .select("customer_id", "residence_country", "timezone"))
t = txns.join(customers, "customer_id")
w90 = F.col("booking_date") >= F.lit(as_of - timedelta(days=90))
w30 = F.col("booking_date") >= F.lit(as_of - timedelta(days=30))
out = F.col("direction") == "out"
p2p = (out & F.col("channel").isin("remittance", "bank_transfer", "wallet", "crypto", "cash")
       & F.col("mcc").isNull() & F.col("counterparty_country").isNotNull()
       & (F.col("counterparty_country") != F.col("residence_country")))
hour = F.hour(F.from_utc_timestamp(F.col("booked_at"), F.col("timezone")))
night = F.when((hour >= 21) | (hour < 3), 1.0).otherwise(0.0)
def when(cond, value=F.lit(1)):
    return F.when(cond, value)
rows = t.groupBy("customer_id").agg(
    F.count(when(w90 & out)).alias("n_out_90d"),
    F.coalesce(F.sum(when(w90 & out, F.col("amount_usd"))), F.lit(0.0)).alias("out_usd_90d"),
    F.count(when(w90 & (F.col("direction") == "in"))).alias("n_in_90d"),
    F.coalesce(F.sum(when(w90 & (F.col("direction") == "in"), F.col("amount_usd"))),
               F.lit(0.0)).alias("in_usd_90d"),
    F.count(when(w30 & p2p)).alias("n_p2p_30d"),
    F.count(when(w90 & p2p)).alias("n_p2p_90d"),
    F.coalesce(F.sum(when(w90 & p2p, F.col("amount_usd"))), F.lit(0.0)).alias("p2p_usd_90d"),
    F.percentile_approx(when(w90 & p2p, F.col("amount_usd")), 0.5).alias("median_p2p_usd_90d"),
    F.avg(when(w90 & p2p, night)).alias("share_p2p_night_90d"),
    F.countDistinct(when(w90 & p2p, F.col("counterparty_id"))).alias("n_payees_90d"),
).collect()
seconds = time.perf_counter() - started
pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
peak = next(int(line.split()[1]) / 1024 for line in open(f"/proc/{pid}/status") if line.startswith("VmHWM:"))
spark.stop()
print(json.dumps({"seconds": seconds, "rows": len(rows), "peak_rss_mb": peak}))
"""


def _features_module() -> Any:
    """benchmarks/features.py (its DuckDB query and child program), loaded by path."""
    spec = importlib.util.spec_from_file_location("bantay_bench_features", HERE / "features.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generate(ledger: Path, customers: int, days: int, seed: int, end: date, queue: Any) -> None:
    from bantay.synth import generate

    started = time.perf_counter()
    summary = generate.run(ledger, customers, days, seed, end, None)
    queue.put({"seconds": round(time.perf_counter() - started, 1),
               "rows": int(summary["rows"]["transactions"]),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})


def generate_once(work: Path, customers: int, days: int, seed: int, end: date) -> dict[str, Any]:
    """The ledger of one size (reused when WORK holds it already, with the figures of its generation)."""
    ledger, record = work / "ledger", work / "generate.json"
    if record.is_file() and (ledger / "transactions").is_dir():
        return dict(json.loads(record.read_text()), reused=True)
    queue: Any = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(
        target=_generate, args=(ledger, customers, days, seed, end, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    if child.exitcode:
        raise SystemExit(f"scale: generating {customers} customers x {days} days failed")
    record.write_text(json.dumps(result) + "\n")
    return result


def _child_json(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"scale: {command[1]} failed: {tail[0]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def one_size(args: argparse.Namespace, millions: float) -> dict[str, Any]:
    customers = max(100, round(millions * 1e6 / (args.days * ROWS_PER_CUSTOMER_DAY)))
    work = args.work / f"{millions:g}m"
    work.mkdir(parents=True, exist_ok=True)
    generated = generate_once(work, customers, args.days, args.seed, args.end_date)
    profile_cmd = [sys.executable, str(HERE / "profile.py"), "--work", str(work), "--label", "scale",
                   "--customers", str(customers), "--days", str(args.days), "--seed", str(args.seed),
                   "--end-date", str(args.end_date), "--master", args.master,
                   "--driver-memory", args.driver_memory,
                   "--shuffle-partitions", str(args.shuffle_partitions)]
    done = subprocess.run(profile_cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"scale: profile of {millions:g}M failed: {tail[0]}")
    profile = json.loads((work / "profile-scale.json").read_text())
    validated = work / "out-scale" / "validated"
    as_of = args.end_date  # the full run's as-of: every day before the ledger's last day
    bench = _features_module()
    start = as_of.toordinal() - 365
    query = bench.DUCKDB_SUBSET.format(
        txns=f"{validated}/transactions/booking_date=*/*.parquet",
        customers=f"{validated}/customers/*.parquet",
        start=date.fromordinal(start).isoformat(), as_of=as_of.isoformat())
    duck = _child_json([sys.executable, "-c", bench._DUCKDB_CHILD, query])
    plain = _child_json([sys.executable, "-c", PLAIN_SPARK_CHILD, str(validated), as_of.isoformat(),
                         args.master, args.driver_memory, str(args.shuffle_partitions)])
    steps = {name: row["wall_s"] for name, row in profile["steps"].items()}
    full = sum(steps[name] for name in FULL_STEPS)
    daily = sum(steps[name] for name in DAILY_STEPS)
    return {
        "millions": millions,
        "customers": customers,
        "days": args.days,
        "transactions": profile["ledger"]["transactions"],
        "generate": generated,
        "steps": steps,
        "spill_bytes": {name: row["spill"] for name, row in profile["steps"].items()},
        "jobs": {name: row["jobs"] for name, row in profile["steps"].items()},
        "peak_mb": {**profile["peak_mb"], "duckdb": round(duck["peak_rss_mb"]),
                    "plain_spark_jvm": round(plain["peak_rss_mb"])},
        "duckdb_s": round(duck["seconds"], 2),
        "plain_spark_s": round(plain["seconds"], 2),
        "reference_rows": {"duckdb": duck["rows"], "plain_spark": plain["rows"]},
        "full_s": round(full, 1),
        "daily_s": round(daily, 1),
        "features_vs_duckdb": round(steps["features_full"] / max(duck["seconds"], 1e-9), 2),
        "features_vs_plain_spark": round(steps["features_full"] / max(plain["seconds"], 1e-9), 2),
        "daily_vs_full": round(daily / full, 3),
        "checksums": profile["checksums"],
    }


def table(results: list[dict[str, Any]]) -> str:
    """One row per size, and each step's seconds per million rows against the smallest size's."""
    lines = [f"{'rows':>11} {'gen s':>7} {'full s':>7} {'daily s':>7} {'daily/full':>10} {'feat s':>7} "
             f"{'duck s':>7} {'plain s':>7} {'vs duck':>7} {'vs plain':>8} {'JVM MB':>7} {'spill MB':>8}"]
    for r in results:
        spill = sum(r["spill_bytes"].values()) / 2**20
        lines.append(
            f"{r['transactions']:>11} {r['generate']['seconds']:>7.0f} {r['full_s']:>7.0f} "
            f"{r['daily_s']:>7.0f} {r['daily_vs_full']:>10.3f} {r['steps']['features_full']:>7.0f} "
            f"{r['duckdb_s']:>7.1f} {r['plain_spark_s']:>7.1f} {r['features_vs_duckdb']:>7.1f} "
            f"{r['features_vs_plain_spark']:>8.2f} {r['peak_mb'].get('spark_jvm') or 0:>7.0f} {spill:>8.1f}")
    if len(results) > 1:
        base = results[0]
        lines.append("")
        lines.append("seconds per million rows, relative to the smallest size (1.00 = linear)")
        for name in base["steps"]:
            per = [r["steps"][name] / r["transactions"] for r in results]
            lines.append(f"{name:<14} " + " ".join(f"{p / per[0]:>6.2f}" for p in per))
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Log-log seconds against transactions: each step, the full and daily sums and both references."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r["transactions"] for r in results]
    figure, axis = plt.subplots(figsize=(8, 5), dpi=120)
    series = {"full run (no training)": [r["full_s"] for r in results],
              "daily run": [r["daily_s"] for r in results],
              "features --full": [r["steps"]["features_full"] for r in results],
              "train": [r["steps"]["train"] for r in results],
              "plain Spark reference": [r["plain_spark_s"] for r in results],
              "DuckDB reference": [r["duckdb_s"] for r in results]}
    for label, values in series.items():
        axis.plot(rows, values, marker="o", label=label)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("transactions in the ledger")
    axis.set_ylabel("seconds (one run, shared 2-core machine)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 50, 100],
                        help="millions of transactions")
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="12g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--plot", type=Path, help="write the log-log plot here (PNG)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    record = args.work / "scale.json"
    results: list[dict[str, Any]] = []
    for millions in sorted(args.sizes):
        started = time.perf_counter()
        results.append(one_size(args, millions))
        print(f"{millions:g}M rows: done in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # noqa: T201
        record.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))  # noqa: T201 - the benchmark's output
    if args.plot:
        plot(results, args.plot)
    return results


if __name__ == "__main__":
    main()
