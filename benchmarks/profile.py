"""Profile of one day's pipeline: per step and sub-step, the Spark jobs, stages, tasks, shuffles and seconds.

    .venv/bin/python benchmarks/profile.py --work /tmp/profile --customers 2000 --days 120 --label before
    .venv/bin/python benchmarks/profile.py --work /tmp/profile --label after --compare before

The ledger (`bantay.synth.generate.run`, last day D = --end-date) is generated once under WORK/ledger and
reused; every run writes a fresh output root WORK/out-LABEL. Steps, in the order a first day runs them:

  validate_full  `validate --full` as of D (every day before D)
  features_full  `features --full` as of D
  train          `train --promote` as of D (labels decided before D; the first version becomes champion)
  validate_day   `validate` as of D+1 (the new day D, and D-1 again)
  features_day   `features` as of D+1 from the state of D (one new day)
  score          `score` as of D+1
  draft          `draft` as of D+1 (a fixed generated_at, so the drafts can be compared)

Spark's event log (spark.eventLog.enabled, uncompressed JSON lines in WORK/eventlog-LABEL) holds every job,
stage and task; each step and sub-step sets the job group, so a job belongs to the phase that started it.
Sub-steps are the functions below (`PHASES`), wrapped while the profile runs: their wall time counts Python
work too (the pyarrow file pre-check, GX, pandas, XGBoost), which no Spark metric shows. Per phase:
wall seconds, jobs, stages run (skipped stages not counted), tasks, shuffle read and write bytes, input
bytes, spill, the seconds the phase had a Spark job running (`spark_s`; wall - spark_s is driver work), and
the executor CPU seconds its tasks used (`cpu_s`: on a shared machine a task waits for a core, so its run time
says more about the load than about the code).

Output checksums (`checksums`): the feature tables of D and D+1, the training table, the scores of D+1 and
the drafts of D+1, each hashed whatever its row order (in DuckDB: the sum of the rows' hashes, floats at 12
significant digits; since 2026-12-07 evening: not comparable with earlier runs' hashes), so that a change
can show it left the results as they were; `validate_day` hashes what the daily validation wrote (the
validated partitions of the days it processed and the reference tables, the quarantine of D+1 without its
run_id, summary.json and GX's results without their run ids, times and generated ids).
`--compare LABEL` prints the ratio of each figure to that run and whether every checksum is equal. Results:
WORK/profile-LABEL.json and a table on stdout.

`--steps validate_day,draft --reuse LABEL` runs only the named steps, on a copy of the output root of the
earlier run LABEL (which ran every step): the steps not run keep that run's outputs, so the daily steps can be
profiled without repeating the first day's. The checksums of steps not run are then those of the copy.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and this module would shadow the standard
# library's `profile` (which cProfile imports): drop that folder before anything else is imported.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import contextlib
import functools
import hashlib
import json
import os
import resource
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

STEPS = ("validate_full", "features_full", "train", "validate_day", "features_day", "score", "draft")
# The step whose output each checksum hashes.
CHECKSUM_STEP = {
    "validate_full": "validate_full", "validate_day": "validate_day", "features_full": "features_full",
    "features_day": "features_day",
    "training_table": "train", "scores": "score", "drafts": "draft",
}

# Sub-steps: (module, attribute) wrapped as a phase named by the attribute.
PHASES: tuple[tuple[str, str], ...] = (
    ("bantay.jobs.validate_ledger", "intake"),  # the pyarrow pre-check of every file, before Spark
    ("bantay.jobs.validate_ledger", "read_table"),
    ("bantay.jobs.validate_ledger", "_seen_txn_ids"),
    ("bantay.quality.quarantine", "counts"),
    ("bantay.jobs.validate_ledger", "_raw_count"),
    ("bantay.quality.suites", "run_suite"),
    ("bantay.jobs.validate_ledger", "_write"),
    ("bantay.features.store", "update_state"),
    ("bantay.features.store", "payee_clusters"),
    ("bantay.features.store", "network_features"),
    ("bantay.features.store", "features_for_points"),
    ("bantay.features.store", "p2p_counts_at"),
    ("bantay.io.files", "write_partition"),
    ("bantay.models.training_set", "training_rows"),
    ("bantay.models.training_set", "labelled_points"),
    ("bantay.models.training_set", "paying_lead_points"),
    ("bantay.models.training_set", "book_features"),
    ("bantay.models.training_set", "to_frame"),
    ("bantay.models.fit", "fit_frame"),
    ("bantay.models.tracking", "log_run"),
    ("bantay.models.registry", "load_booster"),
    ("bantay.models.score", "realert_bars"),
    ("bantay.cases.ingest", "continuing_customers"),
    ("bantay.sar.evidence", "read_alerts"),
    ("bantay.sar.evidence", "load"),
    ("bantay.jobs.draft_cases", "build_drafts"),
    ("bantay.jobs.draft_cases", "_attach_rates"),
    ("bantay.jobs.draft_cases", "write_cases"),
    ("bantay.cases.ingest", "ingest_day"),
)


class Profiler:
    """Phases as a stack: each sets the Spark job group to its path (`step/sub`) and records wall time."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.wall: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.spark: Any = None

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        path = "/".join([*self.stack, name])
        self.stack.append(name)
        self._group(path)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.wall[path] = self.wall.get(path, 0.0) + time.perf_counter() - started
            self.calls[path] = self.calls.get(path, 0) + 1
            self.stack.pop()
            self._group("/".join(self.stack) if self.stack else None)

    def _group(self, path: str | None) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            return
        context = spark.sparkContext
        if path is None:
            context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
        else:
            context.setJobGroup(path, path)

    def wrap(self, module_name: str, attribute: str) -> None:
        import importlib

        module = importlib.import_module(module_name)
        original = getattr(module, attribute)

        @functools.wraps(original)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not self.stack:  # only inside a step
                return original(*args, **kwargs)
            with self.phase(attribute):
                return original(*args, **kwargs)

        setattr(module, attribute, wrapped)


# ------------------------------------------------------------------------------------------- event log


def _accumulables(info: dict[str, Any]) -> dict[str, float]:
    values = {}
    for item in info.get("Accumulables", []):
        name = item.get("Name", "")
        if name.startswith("internal.metrics."):
            try:
                values[name.removeprefix("internal.metrics.")] = float(item.get("Value", 0))
            except (TypeError, ValueError):
                continue
    return values


def parse_event_log(paths: list[Path]) -> dict[str, dict[str, float]]:
    """Per job group: jobs, stages, tasks, shuffle read/write, input and spill bytes, seconds with a job,
    executor CPU seconds."""
    jobs: dict[int, dict[str, Any]] = {}
    stage_job: dict[int, int] = {}
    stages: list[tuple[int, dict[str, float], int]] = []
    lines = [line for path in paths for line in path.read_text().splitlines()]
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:  # the last line of a log still being written
            continue
        kind = event.get("Event")
        if kind == "SparkListenerJobStart":
            group = (event.get("Properties") or {}).get("spark.jobGroup.id") or "(none)"
            jobs[event["Job ID"]] = {"group": group, "start": event["Submission Time"], "end": None}
            for stage_id in event.get("Stage IDs", []):
                stage_job[stage_id] = event["Job ID"]
        elif kind == "SparkListenerJobEnd":
            jobs[event["Job ID"]]["end"] = event["Completion Time"]
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            stages.append((info["Stage ID"], _accumulables(info), info.get("Number of Tasks", 0)))
    groups: dict[str, dict[str, Any]] = {}

    def group_of(name: str) -> dict[str, Any]:
        return groups.setdefault(
            name,
            {"jobs": 0, "stages": 0, "tasks": 0, "shuffle_read": 0.0, "shuffle_write": 0.0, "input": 0.0,
             "spill": 0.0, "cpu_s": 0.0, "intervals": []},
        )

    for job in jobs.values():
        entry = group_of(job["group"])
        entry["jobs"] += 1
        if job["end"] is not None:
            entry["intervals"].append((job["start"], job["end"]))
    for stage_id, metrics, tasks in stages:
        job_id = stage_job.get(stage_id)
        entry = group_of(jobs[job_id]["group"] if job_id is not None else "(none)")
        entry["stages"] += 1
        entry["tasks"] += tasks
        entry["shuffle_read"] += metrics.get("shuffle.read.remoteBytesRead", 0) + metrics.get(
            "shuffle.read.localBytesRead", 0
        )
        entry["shuffle_write"] += metrics.get("shuffle.write.bytesWritten", 0)
        entry["input"] += metrics.get("input.bytesRead", 0)
        entry["spill"] += metrics.get("diskBytesSpilled", 0)
        # Executor CPU seconds: on a shared machine, tasks wait for a core, and this is what they used.
        entry["cpu_s"] += metrics.get("executorCpuTime", 0) / 1e9
    for entry in groups.values():
        entry["spark_s"] = _union_seconds(entry.pop("intervals"))
    return groups


def _union_seconds(intervals: list[tuple[int, int]]) -> float:
    """Seconds covered by at least one of the (start, end) millisecond intervals."""
    total, reach = 0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total / 1000


# ------------------------------------------------------------------------------------------- checksums


def _digest(relation: Any, exclude: tuple[str, ...] = ()) -> str:
    """A hash of a table's rows whatever their order, in DuckDB (all cores, no Python per value): the sum
    of each row's hash over its columns in name order, floats first rounded to 12 significant digits (so a
    change of summation order in the last bits does not count), with the row count and the column names."""
    types = dict(zip(relation.columns, relation.dtypes, strict=True))
    columns = sorted(c for c in relation.columns if c not in exclude)

    def value(name: str) -> str:
        column = '"' + name.replace('"', '""') + '"'
        if str(types[name]) in ("DOUBLE", "FLOAT"):
            return (f"CASE WHEN {column} = 0 OR NOT isfinite({column}) THEN {column}::DOUBLE "
                    f"ELSE round({column}::DOUBLE, (11 - floor(log10(abs({column}))))::INTEGER) END")
        return column

    rows, total = relation.aggregate(
        f"count(*), coalesce(sum(hash({', '.join(value(c) for c in columns)})::HUGEINT), 0)"
    ).fetchall()[0]
    digest = hashlib.sha256(f"{','.join(columns)}|{rows}|{total}".encode())
    return digest.hexdigest()[:16]


def _duck() -> Any:
    import duckdb

    return duckdb.connect()


def _parquet(con: Any, folder: Path) -> Any | None:
    """The parquet files under `folder` (Hive partitions as columns) as a DuckDB relation; None if none."""
    if not any(folder.rglob("*.parquet")):
        return None
    return con.read_parquet(str(folder / "**" / "*.parquet"), hive_partitioning=True)


def _table_sum(con: Any, folder: Path, exclude: tuple[str, ...] = ()) -> str:
    relation = _parquet(con, folder)
    return "empty" if relation is None else _digest(relation, exclude)


# Keys of a GX result that differ on every run: generated ids, run ids and times, the batch's load time.
_GX_VOLATILE = ("id", "run_id", "validation_time", "validation_id", "batch_markers")


def _without(value: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def validation_checksum(out: Path, run_date: date) -> dict[str, Any]:
    """One hash of what `validate` for `run_date` wrote, without what differs on every run (ids, times)."""
    from bantay import ledger
    from bantay.io import catalogue

    run_folder = catalogue.partition(out, "validate_runs", run_date)
    summary = json.loads((run_folder / "summary.json").read_text())
    digest = hashlib.sha256()
    digest.update(json.dumps(_without(summary, ("run_id", "seconds", "ledger", "quarantine", "validated")),
                             sort_keys=True).encode())
    con = _duck()
    for table in ledger.TABLES:
        gx = json.loads((run_folder / f"gx_{table}.json").read_text())
        digest.update(json.dumps(_without(gx, _GX_VOLATILE), sort_keys=True).encode())
        bad = catalogue.partition(out, "quarantine", run_date, table=table)
        digest.update(_table_sum(con, bad, exclude=("run_id",)).encode())
        if table != "transactions":
            digest.update(_table_sum(con, ledger.validated_path(out, table)).encode())
    base = ledger.validated_path(out, "transactions")
    days = sorted(summary["days"])
    rows = 0
    if days:
        relation = con.read_parquet(
            [str(base / f"{ledger.PARTITION_COLUMN}={value}" / "*.parquet") for value in days],
            hive_partitioning=True,
        )
        rows = relation.aggregate("count(*)").fetchall()[0][0]
        digest.update(",".join(days).encode())
        digest.update(_digest(relation).encode())
    con.close()
    return {"rows": rows, "sha": digest.hexdigest()[:16]}


def checksums(
    out: Path, d: date, training: pd.DataFrame | None, steps: tuple[str, ...] = STEPS
) -> dict[str, Any]:
    """The checksums of the outputs present: a run of the validation steps alone hashes only theirs."""
    from bantay.io import catalogue

    day_run = catalogue.partition(out, "validate_runs", d + timedelta(days=1)) / "summary.json"
    sums: dict[str, Any] = {
        "validate_day": validation_checksum(out, d + timedelta(days=1)) if day_run.is_file() else None
    }
    if set(steps) <= {"validate_full", "validate_day"}:
        return sums
    # An output that no step of this run (nor the reused root) wrote has no checksum (None).
    con = _duck()

    def summed(folder: Path) -> dict[str, Any] | None:
        relation = _parquet(con, folder) if folder.is_dir() else None
        if relation is None:
            return None
        return {"rows": relation.aggregate("count(*)").fetchall()[0][0], "sha": _digest(relation)}

    for day, name in ((d, "features_full"), (d + timedelta(days=1), "features_day")):
        sums[name] = summed(catalogue.partition(out, "features", day))
    if training is not None:
        sums["training_table"] = {"rows": len(training), "sha": _digest(con.from_df(training))}
    folder = catalogue.partition(out, "scores", d + timedelta(days=1))
    scores = summed(folder)
    if scores is not None:
        scores["alerts"] = _parquet(con, folder).aggregate("count(*) FILTER (WHERE alert)").fetchall()[0][0]
    sums["scores"] = scores
    con.close()
    cases = catalogue.partition(out, "cases", d + timedelta(days=1))
    digest = hashlib.sha256()
    drafts = sorted(cases.glob("*/draft.json"))
    for path in drafts:
        digest.update(path.parent.name.encode())
        digest.update(path.read_bytes())
    sums["drafts"] = {"rows": len(drafts), "sha": digest.hexdigest()[:16]}
    return sums


# ------------------------------------------------------------------------------------------- run


def event_log_files(folder: Path) -> list[Path]:
    """The event log files of the one application logged under `folder`, in order.

    Spark 4 rolls its event log by default: a folder `eventlog_v2_<app>` of `events_<n>_<app>` files.
    """
    found = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(found) != 1:
        raise RuntimeError(f"{folder}: expected one application's event log, found {len(found)}")
    if found[0].is_file():
        return found

    def index(path: Path) -> int:
        return int(path.name.split("_")[1])

    return sorted(found[0].glob("events_*"), key=index)


def run(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.work
    ledger_root, out = work / "ledger", work / f"out-{args.label}"
    events = work / f"eventlog-{args.label}"
    steps = tuple(args.steps.split(",")) if args.steps else STEPS
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise SystemExit(f"unknown step(s) {sorted(unknown)}; steps are {', '.join(STEPS)}")
    steps = tuple(step for step in STEPS if step in steps)  # always in the pipeline's order
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir(parents=True)
    if args.reuse:
        shutil.copytree(work / f"out-{args.reuse}", out, symlinks=True)
    elif steps != STEPS and steps[0] != "validate_full":
        raise SystemExit("--steps needs --reuse LABEL (an earlier run's output root to start from)")
    d: date = args.end_date
    profiler = Profiler()
    if not (ledger_root / "transactions").is_dir():
        from bantay.synth import generate

        started = time.perf_counter()
        generate.run(ledger_root, args.customers, args.days, args.seed, d, None)
        print(f"generated {ledger_root} in {time.perf_counter() - started:.1f}s", file=sys.stderr)  # noqa: T201
    # The event log is switched on where the driver JVM is launched (the session builder adds its options).
    os.environ["PYSPARK_SUBMIT_ARGS"] = (
        f"--conf spark.eventLog.enabled=true --conf spark.eventLog.dir={events.resolve().as_uri()} "
        "--conf spark.eventLog.compress=false pyspark-shell"
    )
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{out.resolve()}/mlflow/mlflow.db"
    from bantay import log
    from bantay import settings as settings_module
    from bantay import spark as spark_module
    from bantay.jobs import build_features, draft_cases, score_customers, validate_ledger
    from bantay.models import train, training_set

    log.configure("WARNING")
    for module_name, attribute in PHASES:
        profiler.wrap(module_name, attribute)
    training: dict[str, pd.DataFrame] = {}
    original_to_frame = training_set.to_frame

    def keep_training(table: Any) -> pd.DataFrame:
        frame = original_to_frame(table)
        training["table"] = frame
        return frame

    training_set.to_frame = keep_training  # type: ignore[assignment]
    settings = settings_module.load(
        ledger_root=ledger_root, output_root=out, spark_master=args.master, demo=True,
        spark_driver_memory=args.driver_memory, spark_shuffle_partitions=args.shuffle_partitions,
    )
    (out / "mlflow").mkdir(parents=True, exist_ok=True)
    with profiler.phase("session"):
        spark = spark_module.session(settings, app_name="bantay-profile")
    profiler.spark = spark
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    actions: dict[str, Callable[[], Any]] = {
        "validate_full": lambda: validate_ledger.run(settings, d, full=True),
        "features_full": lambda: build_features.run(settings, d, full=True),
        "train": lambda: train.run(settings, d, promote=True),
        "validate_day": lambda: validate_ledger.run(settings, d + timedelta(days=1)),
        "features_day": lambda: build_features.run(settings, d + timedelta(days=1)),
        # The version just trained, whether or not the gate promoted it (else the champion, or the rules).
        "score": lambda: score_customers.run(settings, d + timedelta(days=1), model_uri=(
            f"models:/{settings.model_name}/{train_result['version']}" if train_result.get("version")
            else None)),
        "draft": lambda: draft_cases.run(settings, d + timedelta(days=1), generated_at=stamp),
    }
    train_result: dict[str, Any] = {}
    full_sum: dict[str, Any] | None = None
    for step in steps:
        with profiler.phase(step):
            result = actions[step]()
        if step == "validate_full":
            # Hashed now: validate_day rewrites the reference tables and the partition of D-1.
            full_sum = validation_checksum(out, d)
        if step == "train":
            train_result = {k: result.get(k) for k in ("version", "rows_train", "rows_eval")}
            train_result["pr_auc"] = result.get("metrics", {}).get("pr_auc")
        print(f"{step}: {profiler.wall[step]:.1f}s", file=sys.stderr)  # noqa: T201
    jvm_peak = _jvm_peak_mb(spark)
    spark.stop()
    groups = parse_event_log(event_log_files(events))
    phases = []
    for path, wall in profiler.wall.items():
        metrics = groups.get(path, {})
        phases.append({"phase": path, "calls": profiler.calls[path], "wall_s": round(wall, 2),
                       **{k: (round(v, 2) if isinstance(v, float) else v) for k, v in metrics.items()}})
    # Totals per step: the step's own jobs plus its sub-steps'.
    totals = {}
    for step in steps:
        rows = [g for p, g in groups.items() if p == step or p.startswith(step + "/")]
        totals[step] = {
            "wall_s": round(profiler.wall[step], 2),
            **{k: sum(r.get(k, 0) for r in rows) for k in ("jobs", "stages", "tasks", "shuffle_read",
                                                            "shuffle_write", "input", "spill")},
        }
    unassigned = groups.get("(none)", {})
    from bantay import ledger

    report = {
        "label": args.label,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "reused": args.reuse,
        "ledger": {"customers": args.customers, "days": args.days, "seed": args.seed, "end_date": str(d),
                   "transactions": pq.ParquetDataset(ledger.validated_path(out, "transactions")).read(
                       columns=["txn_id"]).num_rows},
        "master": args.master,
        "steps": totals,
        "phases": phases,
        "jobs_outside_steps": unassigned.get("jobs", 0),
        "train": train_result,
        "peak_mb": {"spark_jvm": jvm_peak,
                    "python": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)},
        "checksums": checksums(out, d, training.get("table"), steps),
    }
    if full_sum is not None:
        report["checksums"]["validate_full"] = full_sum
    return report


def _jvm_peak_mb(spark: Any) -> float | None:
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


def _mb(value: float) -> str:
    return f"{value / 2**20:.1f}"


def table(report: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """The per-phase table (and, with a baseline, each step's ratio of wall seconds, jobs, stages)."""
    lines = [f"{'phase':<44} {'calls':>5} {'wall s':>7} {'spark s':>7} {'cpu s':>6} {'jobs':>5} "
             f"{'stages':>6} {'tasks':>6} {'shufR MB':>8} {'shufW MB':>8} {'in MB':>7}"]
    for row in report["phases"]:
        lines.append(
            f"{row['phase']:<44} {row['calls']:>5} {row['wall_s']:>7.1f} {row.get('spark_s', 0):>7.1f} "
            f"{row.get('cpu_s', 0):>6.1f} "
            f"{row.get('jobs', 0):>5} {row.get('stages', 0):>6} {row.get('tasks', 0):>6} "
            f"{_mb(row.get('shuffle_read', 0)):>8} {_mb(row.get('shuffle_write', 0)):>8} "
            f"{_mb(row.get('input', 0)):>7}"
        )
    lines.append("")
    head = f"{'step':<14} {'wall s':>7} {'jobs':>5} {'stages':>6} {'shufR MB':>8} {'shufW MB':>8}"
    if baseline:
        head += f"   vs {baseline['label']}: {'wall':>6} {'jobs':>6} {'stages':>6} {'shuffle':>7}"
    lines.append(head)
    for step, row in report["steps"].items():
        line = (f"{step:<14} {row['wall_s']:>7.1f} {row['jobs']:>5} {row['stages']:>6} "
                f"{_mb(row['shuffle_read']):>8} {_mb(row['shuffle_write']):>8}")
        if baseline and step in baseline["steps"]:
            before = baseline["steps"][step]

            def ratio(key: str, row: dict[str, Any] = row, before: dict[str, Any] = before) -> str:
                return f"{row[key] / before[key]:.2f}" if before[key] else "-"

            shuffle = row["shuffle_read"] + row["shuffle_write"]
            shuffle_before = before["shuffle_read"] + before["shuffle_write"]
            line += (f"   {'':>{len(baseline['label']) + 4}} {ratio('wall_s'):>6} {ratio('jobs'):>6} "
                     f"{ratio('stages'):>6} "
                     f"{(f'{shuffle / shuffle_before:.2f}' if shuffle_before else '-'):>7}")
        lines.append(line)
    total = sum(r["wall_s"] for r in report["steps"].values())
    lines.append(f"{'total':<14} {total:>7.1f} {sum(r['jobs'] for r in report['steps'].values()):>5}")
    if baseline:
        lines.append("")
        for name, value in report["checksums"].items():
            other = baseline["checksums"].get(name)
            same = "equal" if other == value else f"DIFFERENT (was {other})"
            if report.get("reused") and CHECKSUM_STEP[name] not in report["steps"]:
                same += f" (step not run: output copied from {report['reused']})"
            lines.append(f"checksum {name:<16} {value}  {same}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--label", default="run")
    parser.add_argument("--compare", help="label of an earlier run in --work to compare with")
    parser.add_argument("--steps", help=f"comma-separated steps to run (default all: {','.join(STEPS)})")
    parser.add_argument("--reuse", help="label of an earlier full run whose output root the steps start from")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    args = parser.parse_args(argv)
    report = run(args)
    (args.work / f"profile-{args.label}.json").write_text(json.dumps(report, indent=2) + "\n")
    baseline = None
    if args.compare:
        baseline = json.loads((args.work / f"profile-{args.compare}.json").read_text())
    print(table(report, baseline))  # noqa: T201 - the benchmark's output
    print(json.dumps({"steps": report["steps"], "checksums": report["checksums"]}, indent=2))  # noqa: T201
    return report


if __name__ == "__main__":
    main()
