"""Benchmark `bantay generate`: rows per second and peak memory for a few ledger sizes.

    .venv/bin/python benchmarks/generate.py                      # 20k x 180 and 100k x 180
    .venv/bin/python benchmarks/generate.py --sizes 20000x180    # one size

Each size runs in a fresh child process, so peak RSS (resource.getrusage) belongs to that size alone.
Results go to benchmarks/results/generate-<timestamp>.json (gitignored).
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
import multiprocessing
import resource
import shutil
import tempfile
import time
from datetime import UTC, date, datetime

RESULTS = Path(__file__).resolve().parent / "results"


def _one(customers: int, days: int, queue: multiprocessing.Queue) -> None:
    from bantay.synth import generate

    folder = Path(tempfile.mkdtemp(prefix="bantay-bench-"))
    try:
        clock = time.perf_counter()
        summary = generate.run(
            folder / "ledger", customers, days, 7, date(2025, 6, 30), folder / "truth", "parquet"
        )
        seconds = time.perf_counter() - clock
        size = sum(p.stat().st_size for p in (folder / "ledger").rglob("*") if p.is_file())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = summary["rows"]["transactions"]
        queue.put(
            {
                "customers": customers,
                "days": days,
                "rows": rows,
                "seconds": round(seconds, 1),
                "rows_per_s": round(rows / seconds),
                "peak_rss_mb": round(peak_mb),
                "ledger_mb": round(size / 2**20),
                "labels": summary["labels"],
            }
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["20000x180", "100000x180"], help="CUSTOMERSxDAYS")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        customers, days = (int(x) for x in size.split("x"))
        queue: multiprocessing.Queue = multiprocessing.Queue()
        child = multiprocessing.get_context("fork").Process(target=_one, args=(customers, days, queue))
        child.start()
        result = queue.get()
        child.join()
        results.append(result)
    header = (
        f"{'customers':>10} {'days':>5} {'rows':>11} {'seconds':>8} {'rows/s':>9} "
        f"{'peak MB':>8} {'ledger MB':>9}"
    )
    print(header)  # noqa: T201
    for r in results:
        print(  # noqa: T201
            f"{r['customers']:>10} {r['days']:>5} {r['rows']:>11} {r['seconds']:>8} {r['rows_per_s']:>9} "
            f"{r['peak_rss_mb']:>8} {r['ledger_mb']:>9}"
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"generate-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
