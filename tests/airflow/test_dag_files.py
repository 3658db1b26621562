"""The DAG files: they parse without errors, fast, without heavy imports, and wire what the design says."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pendulum
import pytest
from airflow_support import DAGS, SPARK_POOL

from bantay.cases import labels as case_labels
from bantay.errors import BantayError

PARSE_BUDGET_SECONDS = 1.0
HEAVY_MODULES = ("pyspark", "mlflow", "xgboost", "great_expectations", "pandas", "sklearn", "bantay.jobs",
                 "bantay.models", "bantay.features", "bantay.spark", "bantay.ledger")


def _load(name: str) -> ModuleType:
    """Import one DAG file as a module (as Airflow's parser does), under a private name."""
    spec = importlib.util.spec_from_file_location(f"_dagfile_{name}", DAGS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dagbag_imports_every_dag_file_without_errors_within_budget(airflow_home: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=DAGS, known_pools={SPARK_POOL, "default_pool"})

    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["bantay_daily", "bantay_train"]
    seconds = {Path(stat.file).name: stat.duration.total_seconds() for stat in bag.dagbag_stats}
    assert sorted(seconds) == ["bantay_daily.py", "bantay_train.py"]
    assert all(value < PARSE_BUDGET_SECONDS for value in seconds.values()), seconds


def test_dag_files_import_nothing_heavy_at_parse_time() -> None:
    # A fresh interpreter: Airflow's SDK loaded first (as in the DAG processor), then each file timed alone.
    script = f"""
import json, runpy, sys, time
import airflow.sdk, pendulum
before = set(sys.modules)
timings = {{}}
for name in ("bantay_daily", "bantay_train"):
    started = time.perf_counter()
    runpy.run_path({str(DAGS)!r} + "/" + name + ".py", run_name="_dagfile_" + name)
    timings[name] = time.perf_counter() - started
heavy = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in {HEAVY_MODULES!r}
               or any(m == h or m.startswith(h + ".") for h in {HEAVY_MODULES!r}))
print(json.dumps({{"timings": timings, "heavy": heavy}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["heavy"] == []
    assert all(value < PARSE_BUDGET_SECONDS for value in report["timings"].values()), report["timings"]


def test_bantay_daily_wires_four_spark_tasks_in_order_with_assets_and_retries(airflow_home: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=DAGS).get_dag("bantay_daily")
    order = ["validate_ledger", "build_features", "score_customers", "draft_cases"]

    assert sorted(dag.task_ids) == sorted([*order, "monitor_model", "check_monitoring"])
    for upstream, downstream in itertools.pairwise(order[:3]):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    # After scoring: the drafts, and the monitoring with its verdict (which nothing else waits for).
    assert dag.get_task("score_customers").downstream_task_ids == {"draft_cases", "monitor_model"}
    assert dag.get_task("monitor_model").downstream_task_ids == {"check_monitoring"}
    assert dag.get_task("check_monitoring").downstream_task_ids == set()
    assert dag.get_task("monitor_model").pool == SPARK_POOL
    assert [o.name for o in dag.get_task("monitor_model").outlets] == ["bantay_monitoring"]
    assert dag.max_active_runs == 1
    assert type(dag.timetable).__name__ == "CronTriggerTimetable" and dag.timetable.expression == "0 0 * * *"
    tasks = {task_id: dag.get_task(task_id) for task_id in order}
    assert {t.pool for t in tasks.values()} == {SPARK_POOL}
    assert {(t.retries, t.retry_exponential_backoff) for t in tasks.values()} == {(3, 2.0)}
    assert [t.depends_on_past for t in tasks.values()] == [True, True, True, False]
    outlets = {task_id: sorted(o.name for o in t.outlets) for task_id, t in tasks.items()}
    assert outlets == {
        "validate_ledger": ["bantay_labels_changed", "bantay_validated"],
        "build_features": ["bantay_features"],
        "score_customers": ["bantay_scores"],
        "draft_cases": ["bantay_cases"],
    }
    assert sorted(i.name for i in tasks["score_customers"].inlets) == ["bantay_features", "bantay_model"]


def test_bantay_train_runs_on_new_labels_or_weekly_and_gates_promotion(airflow_home: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=DAGS).get_dag("bantay_train")

    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert dag.timetable.asset_condition.name == "bantay_labels"
    assert dag.timetable.timetable.expression == "0 3 * * 0"
    assert dag.get_task("train").downstream_task_ids == {"promote"}
    assert dag.get_task("train").pool == SPARK_POOL
    assert [o.name for o in dag.get_task("promote").outlets] == ["bantay_model"]
    assert dag.get_task("promote").pool == SPARK_POOL  # it moves the alias the daily scoring reads


def test_fail_fast_turns_bad_input_into_one_line_failure_without_retry() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from bantay.errors import ConfigError, TableUnusableError

    daily = _load("bantay_daily")

    with pytest.raises(AirflowFailException) as failed, daily._fail_fast():
        raise TableUnusableError("fx_rates", "(all)", "table_missing", 1, "/l/fx_rates/ has\nno files")
    assert str(failed.value) == (
        "TableUnusableError: table fx_rates: column (all): rule table_missing failed for 1 row(s) or "
        "file(s), e.g. /l/fx_rates/ has no files"
    )
    train = _load("bantay_train")
    with pytest.raises(AirflowFailException, match=r"^ConfigError: no ledger"), train._fail_fast():
        raise ConfigError("no ledger given")
    # Anything else is not bad input: it keeps its type, so the retry policy applies.
    with pytest.raises(OSError), daily._fail_fast():
        raise OSError("disk full")
    # A root another live run writes is no bad input either: one line, and the task is retried.
    from airflow.sdk.exceptions import AirflowException

    from bantay.errors import OutputLockedError

    with pytest.raises(AirflowException) as locked, daily._fail_fast():
        raise OutputLockedError("/o: in use by another bantay run (pid 7 on h since s);\nwait for it")
    assert type(locked.value) is AirflowException
    assert str(locked.value) == (
        "OutputLockedError: /o: in use by another bantay run (pid 7 on h since s); wait for it"
    )


def test_a_task_waits_for_the_output_root_then_holds_it(tmp_path: Path) -> None:
    from bantay import airflow_tasks
    from bantay import settings as settings_module
    from bantay.errors import OutputLockedError
    from bantay.io import lock

    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from bantay.io.lock import output_lock\n"
         f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(3)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        impatient = settings_module.load(output_root=out, lock_wait_minutes=0)
        with pytest.raises(OutputLockedError, match=f"pid {holder.pid} "), airflow_tasks.writing(impatient):
            pass
        # Waiting: the holder lets go after 3 s; the task then holds the root itself.
        started = datetime.now(UTC)
        with airflow_tasks.writing(settings_module.load(output_root=out), poll_seconds=0.2):
            held = json.loads((out / lock.LOCK_NAME).read_text())
            assert held["pid"] == os.getpid()
        assert (datetime.now(UTC) - started).total_seconds() < 30
        assert not (out / lock.LOCK_NAME).exists()  # released on leaving
    finally:
        holder.kill()
        holder.wait()


def test_as_of_is_the_data_interval_end_as_a_utc_date() -> None:
    as_of = _load("bantay_daily")._as_of
    midnight = pendulum.datetime(2025, 4, 1, tz="UTC")
    day_before = midnight.subtract(days=1)

    # CronTriggerTimetable: logical date = interval end = the moment the run fires.
    assert as_of({"data_interval_end": midnight, "logical_date": midnight}) == date(2025, 4, 1)
    # CronDataIntervalTimetable: logical date = interval start, the day before; the end decides.
    assert as_of({"data_interval_end": midnight, "logical_date": day_before}) == date(2025, 4, 1)
    # 01:30 in Manila on 1 April is still 31 March in UTC.
    manila = pendulum.datetime(2025, 4, 1, 1, 30, tz="Asia/Manila")
    assert as_of({"logical_date": manila}) == date(2025, 3, 31)
    # A run triggered without a logical date.
    assert as_of({"dag_run": SimpleNamespace(run_after=midnight.add(hours=5))}) == date(2025, 4, 1)


def test_labels_fingerprint_changes_with_label_bytes_only(tmp_path: Path) -> None:
    fingerprint = _load("bantay_daily")._labels_fingerprint
    labels = tmp_path / "labels"

    assert fingerprint(tmp_path) is None  # no labels/ folder
    labels.mkdir()
    assert fingerprint(tmp_path) is None  # empty
    (labels / "part-0.parquet").write_bytes(b"one")
    first = fingerprint(tmp_path)
    (labels / "_SUCCESS").write_bytes(b"")  # markers and staging files do not count
    (labels / ".part-0.parquet.crc").write_bytes(b"x")
    assert fingerprint(tmp_path) == first
    (labels / "part-0.parquet").write_bytes(b"two")
    assert fingerprint(tmp_path) not in (None, first)


def test_labels_fingerprint_counts_decisions_approved_before_the_run_date(tmp_path: Path) -> None:
    fingerprint = _load("bantay_daily")._labels_fingerprint
    ledger, out = tmp_path / "ledger", tmp_path / "out"
    (ledger / "labels").mkdir(parents=True)
    (ledger / "labels" / "part-0.parquet").write_bytes(b"one")
    day = date(2025, 3, 2)
    ledger_only = fingerprint(ledger)
    assert fingerprint(ledger, out, day) == ledger_only  # no decisions yet: the ledger's labels alone

    def approve(case_id: str, when: datetime) -> None:
        case_labels.write_decision(out, case_id=case_id, customer_id="c1", label=1, decided_at=when,
                                   typology="confirmed")

    approve("C-20250301-0000000001", datetime(2025, 3, 2, 0, 0, tzinfo=UTC))  # at the run's midnight
    assert fingerprint(ledger, out, day) == ledger_only  # training as of the day cannot read it: no event
    assert fingerprint(ledger, out, day + timedelta(days=1)) not in (None, ledger_only)  # the next day's can
    approve("C-20250301-0000000002", datetime(2025, 3, 1, 23, 59, 59, 999999, tzinfo=UTC))
    with_decision = fingerprint(ledger, out, day)
    assert with_decision not in (None, ledger_only)
    assert case_labels.decided_files(out, day) == [
        case_labels.labels_path(out) / "C-20250301-0000000002-20250301T235959999999Z.parquet"
    ]
    # Only decisions: still a fingerprint (a ledger without labels).
    assert fingerprint(tmp_path / "empty", out, day) is not None
    (case_labels.labels_path(out) / "notes.parquet").write_bytes(b"x")
    with pytest.raises(BantayError, match="not a decision label"):
        fingerprint(ledger, out, day)


def test_latest_validated_picks_the_last_finished_validate_run_not_after_a_date(tmp_path: Path) -> None:
    latest = _load("bantay_train")._latest_validated
    runs = tmp_path / "runs" / "validate"
    for day, finished in (("2025-03-01", True), ("2025-03-08", True), ("2025-03-15", False)):
        (runs / f"run_date={day}").mkdir(parents=True)
        if finished:
            (runs / f"run_date={day}" / "summary.json").write_text("{}")

    assert latest(tmp_path, date(2025, 3, 20)) == date(2025, 3, 8)  # 15 March has no summary: unfinished
    assert latest(tmp_path, date(2025, 3, 5)) == date(2025, 3, 1)
    assert latest(tmp_path, date(2025, 2, 1)) is None
