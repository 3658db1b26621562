"""`bantay_daily` and `bantay_train` run by Airflow (`dag.test()`, SQLite metadata DB) on a small ledger.

The tests of this module share one output root and run in order: train a first model through `bantay_train`,
run the daily DAG for D, rerun D, then run D+1 on a ledger that lacks a table.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from airflow_support import DAGS
from pyspark.sql import SparkSession

pytestmark = pytest.mark.slow

END = date(2025, 3, 31)  # last booking day of the ledger
AS_OF = END + timedelta(days=1)  # the daily run dated D = 1 April scores with bookings up to 31 March
CUSTOMERS, DAYS = 300, 45
ALERT_BUDGET = 0.02
DAILY_TASKS = ("validate_ledger", "build_features", "score_customers", "draft_cases")
CASE_FILES = {
    "draft.json",
    "draft.html",
    "fincen_sar.xml",
    "goaml_str.xml",
    "nca_sar.txt",
    "austrac_smr.xml",
    "fintrac_str.json",
}


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _write_labels(ledger_root: Path, truth: Path) -> None:
    """Replace the ledger's labels with 12 confirmed and 8 cleared decisions on 10 days before the cut-off.

    A 45-day ledger is too short for the generator's own case outcomes (decided 30-150 days after the first
    payment). Which customers are confirmed matters little here: this module checks the orchestration, and
    the model tests check what the model learns.
    """
    kinds = pq.read_table(truth / "customers.parquet", columns=["customer_id", "kind"]).to_pylist()
    payers = sorted(row["customer_id"] for row in kinds if row["kind"] == "ocse_payer")
    others = sorted(row["customer_id"] for row in kinds if row["kind"] != "ocse_payer")
    confirmed = (payers + others)[:12]
    cleared = [c for c in others if c not in confirmed][:8]
    rows = [(c, 1, "ocse_payer") for c in confirmed] + [(c, 0, "cleared") for c in cleared]
    days = [date(2025, 3, 5) + timedelta(days=2 * (n % 10)) for n in range(len(rows))]  # 10 distinct days
    decided = [_utc(day) + timedelta(hours=10) for day in days]
    table = pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "label": pa.array([r[1] for r in rows], pa.int32()),
            "decided_at": pa.array(decided, pa.timestamp("us", tz="UTC")),
            "typology": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    folder = ledger_root / "labels"
    for old in folder.glob("*"):
        old.unlink()
    folder.mkdir(exist_ok=True)
    pq.write_table(table, folder / "labels.parquet")
    os.chmod(folder / "labels.parquet", 0o600)


def _dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS).get_dag(dag_id)


def _run(dag_id: str, day: date, conf: dict[str, str]) -> tuple[str, dict[str, tuple[str, int]]]:
    """`dag.test()` for logical date `day`: the run's state and each task's (state, try number)."""
    run = _dag(dag_id).test(logical_date=_utc(day), run_conf=conf)
    states = {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}
    return str(run.state), states


def _frame(path: Path) -> list[dict[str, Any]]:
    """Rows of a parquet folder, sorted by customer id (order on disk is not part of the contract)."""
    rows = ds.dataset(path, format="parquet").to_table().to_pylist()
    return sorted(rows, key=lambda row: row["customer_id"])


def _draft(case: Path) -> dict[str, Any]:
    """A case's draft.json without the moment it was written."""
    draft = json.loads((case / "draft.json").read_text())
    draft.pop("generated_at")
    return draft


def _files(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, by relative path (the MLflow store aside: reads may touch it)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != "mlflow"
    }


def _asset_events(name: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
        return [dict(extra or {}) for extra in session.scalars(query.where(AssetModel.name == name))]


@pytest.fixture(scope="module")
def world(
    spark: SparkSession, airflow_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A 300-customer, 45-day ledger, validated as of D, with a champion model trained by `bantay_train`."""
    from bantay import settings as settings_module
    from bantay.jobs import validate_ledger
    from bantay.models import registry
    from bantay.synth import generate

    root = tmp_path_factory.mktemp("daily")
    ledger_root, out = root / "ledger", root / "out"
    generate.run(out=ledger_root, customers=CUSTOMERS, days=DAYS, seed=7, end_date=END, truth=root / "truth")
    _write_labels(ledger_root, root / "truth")
    conf = {"ledger_root": str(ledger_root), "output_root": str(out)}
    with pytest.MonkeyPatch.context() as patch:
        # The tasks build their settings from the environment and the run's params, as in production.
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("BANTAY_ALERT_BUDGET", str(ALERT_BUDGET))
        patch.setenv("BANTAY_MIN_ALERT_SCORE", "0")
        patch.setenv("BANTAY_DEMO", "1")  # the test ledger's institution is the demo one
        settings = settings_module.load(ledger_root=ledger_root, output_root=out)
        validate_ledger.run(settings, AS_OF)
        state, tasks = _run("bantay_train", AS_OF, conf)
        assert (state, tasks) == ("success", {"train": ("success", 1), "promote": ("success", 1)})
        if not registry.has_champion(settings):
            # The gate compares a first model with the rules; these tests need a champion whatever it decides.
            registry.promote(settings, force=True)
        yield {"root": root, "ledger": ledger_root, "out": out, "conf": conf, "settings": settings}


def test_bantay_daily_writes_features_scores_and_case_folders(world: dict[str, Any]) -> None:
    out = world["out"]

    state, tasks = _run("bantay_daily", AS_OF, world["conf"])

    assert state == "success", tasks
    verdict = tasks.pop("check_monitoring")
    assert tasks == {t: ("success", 1) for t in (*DAILY_TASKS, "monitor_model")}
    # Monitoring: the day's row; its verdict is success within the thresholds, skipped (a warning) beyond.
    daily = pq.read_table(out / "monitoring" / "daily.parquet").to_pylist()
    assert [row["as_of"] for row in daily] == [str(AS_OF)]
    assert verdict == (("success", 1) if daily[0]["status"] == "ok" else ("skipped", 1))
    assert (out / "monitoring" / "report.html").is_file()
    # Features: one row per customer with a validated transaction in the 365 days before D (all 45 days here).
    booked = ds.dataset(out / "validated" / "transactions", format="parquet", partitioning="hive")
    customers = set(booked.to_table(columns=["customer_id"]).column("customer_id").to_pylist())
    features = _frame(out / "features" / f"as_of={AS_OF}")
    assert [row["customer_id"] for row in features] == sorted(customers)
    assert {row["as_of"] for row in features} == {AS_OF}
    # Scores: every featured customer once, ranks 1..n, floor(2% of n) alerts (the minimum score is 0 here).
    scores = _frame(out / "scores" / f"as_of={AS_OF}")
    assert [row["customer_id"] for row in scores] == sorted(customers)
    assert sorted(row["rank"] for row in scores) == list(range(1, len(customers) + 1))
    alerted = sorted(row["customer_id"] for row in scores if row["alert"])
    assert len(alerted) == int(ALERT_BUDGET * len(customers)) > 0
    assert all(row["reasons"] for row in scores if row["alert"])
    # Cases: one folder per alert, named C-<yyyymmdd>-<first 10 hex of sha256(customer id)>, with every form.
    cases = out / "cases" / f"as_of={AS_OF}"
    folders = sorted(p.name for p in cases.iterdir() if p.is_dir() and p.name.startswith("C-"))
    expected = sorted(f"C-{AS_OF:%Y%m%d}-{hashlib.sha256(c.encode()).hexdigest()[:10]}" for c in alerted)
    assert folders == expected
    for name in folders:  # every form, but those the draft says it could not write (with the reason)
        omitted = {o["form"] for o in json.loads((cases / name / "draft.json").read_text())["forms_omitted"]}
        assert {p.name for p in (cases / name).iterdir()} == CASE_FILES - omitted
    assert (cases / "index.html").is_file()
    # Assets: each task's event names the date; the first run saw the labels for the first time.
    features_event = {"as_of": str(AS_OF), "path": str(out / "features" / f"as_of={AS_OF}")}
    assert features_event in _asset_events("bantay_features")
    assert [e["as_of"] for e in _asset_events("bantay_labels")] == [str(AS_OF)]


def test_bantay_daily_rerun_of_a_day_replaces_its_outputs_identically(world: dict[str, Any]) -> None:
    out = world["out"]
    before = {part: _frame(out / part / f"as_of={AS_OF}") for part in ("features", "scores")}
    cases = out / "cases" / f"as_of={AS_OF}"
    folders = {p.name: sorted(f.name for f in p.iterdir()) for p in cases.iterdir() if p.is_dir()}
    drafts = {name: _draft(cases / name) for name in folders if name.startswith("C-")}
    labels_events = _asset_events("bantay_labels")

    state, tasks = _run("bantay_daily", AS_OF, world["conf"])

    assert state == "success", tasks
    after = {part: _frame(out / part / f"as_of={AS_OF}") for part in ("features", "scores")}
    assert after == before  # same rows, no duplicates
    assert {p.name: sorted(f.name for f in p.iterdir()) for p in cases.iterdir() if p.is_dir()} == folders
    assert {name: _draft(cases / name) for name in drafts} == drafts
    monitored = pq.read_table(out / "monitoring" / "daily.parquet").to_pylist()
    assert [row["as_of"] for row in monitored] == [str(AS_OF)]
    # Only one partition per date, no staging leftovers.
    for part in ("features", "scores", "cases"):
        assert sorted(p.name for p in (out / part).iterdir()) == [f"as_of={AS_OF}"]
    # Unchanged labels: no new event, so no second training run is triggered.
    assert _asset_events("bantay_labels") == labels_events


def test_bantay_daily_missing_table_fails_in_validate_and_leaves_earlier_days(
    world: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    out, broken = world["out"], world["root"] / "ledger_without_fx"
    broken.mkdir()
    for table in ("transactions", "customers", "labels"):  # no fx_rates/
        (broken / table).symlink_to(world["ledger"] / table, target_is_directory=True)
    before = _files(out)
    day = AS_OF + timedelta(days=1)

    state, tasks = _run("bantay_daily", day, {**world["conf"], "ledger_root": str(broken)})

    assert state == "failed"
    # Failed at once (first try, no retry) and nothing downstream ran.
    assert tasks == {
        "validate_ledger": ("failed", 1),
        "build_features": ("upstream_failed", 0),
        "score_customers": ("upstream_failed", 0),
        "draft_cases": ("upstream_failed", 0),
        "monitor_model": ("upstream_failed", 0),
        "check_monitoring": ("upstream_failed", 0),
    }
    assert _files(out) == before
    for part in ("features", "scores", "cases"):
        assert not (out / part / f"as_of={day}").exists()
    # dag.test() runs the tasks in this process: the task log is this process's output.
    captured = capfd.readouterr()
    reason = "TableUnusableError: table fx_rates: column (all): rule table_missing failed for 1 row(s)"
    assert reason in captured.out + captured.err


def test_a_day_waits_for_the_writer_holding_the_output_root(
    world: dict[str, Any], capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `bantay` command on another host holds OUT: the day's first task stops with the holder's one line,
    as a retryable failure (tried again, where bad input fails at once), and writes nothing."""
    from bantay.io import lock

    out = world["out"]
    before = _files(out)
    held = out / lock.LOCK_NAME
    held.write_text(json.dumps({"pid": 4242, "host": "another-host", "since": "2025-04-01T09:00:00Z"}))
    day = AS_OF + timedelta(days=1)
    monkeypatch.setenv("BANTAY_LOCK_WAIT_MINUTES", "0")  # no waiting for the holder: fail at once
    dag = _dag("bantay_daily")
    for task in dag.tasks:  # one retry, without the production delay
        task.retries, task.retry_delay = 1, timedelta(0)
    try:
        run = dag.test(logical_date=_utc(day), run_conf=world["conf"])
    finally:
        held.unlink()
    tasks = {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}

    assert str(run.state) == "failed"
    assert tasks["validate_ledger"] == ("failed", 2)  # retried (bad input would fail on its first try)
    assert {tasks[t][0] for t in DAILY_TASKS[1:]} == {"upstream_failed"}
    assert _files(out) == before
    assert not (out / "runs" / "validate" / f"run_date={day}").exists()
    captured = capfd.readouterr()
    assert f"OutputLockedError: {out.resolve()}: in use by another bantay run (pid 4242 on another-host" in (
        captured.out + captured.err
    )


def test_a_bank_with_too_few_labels_is_scored_by_the_rules(world: dict[str, Any]) -> None:
    """Cold start: the same ledger with two decisions, a new output root. Training is skipped with the reason
    (and promotion with it); the daily run scores by the documented rules and drafts their alerts, and its
    monitoring check is skipped (a warning) saying so."""
    from bantay.models import baseline

    ledger_root, out = world["root"] / "ledger_two_labels", world["root"] / "out_cold"
    ledger_root.mkdir()
    for table in ("transactions", "customers", "fx_rates"):
        (ledger_root / table).symlink_to(world["ledger"] / table, target_is_directory=True)
    two = pq.read_table(world["ledger"] / "labels" / "labels.parquet").sort_by("label").slice(7, 2)
    assert two.column("label").to_pylist() == [0, 1]
    (ledger_root / "labels").mkdir()
    pq.write_table(two, ledger_root / "labels" / "labels.parquet")
    conf = {"ledger_root": str(ledger_root), "output_root": str(out)}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("BANTAY_ALERT_BUDGET", str(ALERT_BUDGET))
        patch.setenv("BANTAY_MIN_ALERT_SCORE", "0")
        patch.setenv("BANTAY_DEMO", "1")
        state, tasks = _run("bantay_daily", AS_OF, conf)
        assert state == "success", tasks
        assert tasks == {**{t: ("success", 1) for t in (*DAILY_TASKS, "monitor_model")},
                         "check_monitoring": ("skipped", 1)}
        trained_state, trained = _run("bantay_train", AS_OF, conf)
    assert (trained_state, trained) == ("success", {"train": ("skipped", 1), "promote": ("skipped", 0)})
    scores = _frame(out / "scores" / f"as_of={AS_OF}")
    assert {row["model_version"] for row in scores} == {baseline.RULES_VERSION}
    alerted = [row for row in scores if row["alert"]]
    assert len(alerted) == int(ALERT_BUDGET * len(scores)) > 0
    # Every alert meets a rule (the floor is 0 here, but the rules alert no one who meets none).
    assert all(row["score"] > 0 and row["reasons"] for row in alerted)
    assert {row["reasons"][0]["code"] for row in alerted} <= {f"RULE_{r.typology_id}" for r in baseline.RULES}
    cases = out / "cases" / f"as_of={AS_OF}"
    folders = sorted(p.name for p in cases.iterdir() if p.is_dir() and p.name.startswith("C-"))
    assert len(folders) == len(alerted)
    assert not (out / "monitoring").exists()
