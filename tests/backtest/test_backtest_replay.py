"""`bantay backtest` on a tiny world: real Spark, MLflow and SQLite case store, three replayed days.

The module's tests share one replay (it takes minutes) and then rerun a shorter one on the same output root.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from sqlalchemy import select

pytestmark = pytest.mark.slow

END = date(2025, 3, 31)  # last booking day of the ledger
CUSTOMERS, DAYS = 300, 40
START, STOP = date(2025, 3, 29), date(2025, 3, 31)  # three replayed days (2 shared cores: minutes a day)
DELAY = 0


def _write_labels(ledger_root: Path, oracle: pd.DataFrame) -> None:
    """Replace the ledger's labels with 12 confirmed and 8 cleared decisions on 10 days before the replay:
    a 40-day world is too short for the generator's own case outcomes, and the first model needs some."""
    payers = sorted(oracle.loc[oracle["label"] == 1, "customer_id"])
    others = sorted(oracle.loc[oracle["label"] == 0, "customer_id"])
    confirmed = (payers + others)[:12]
    cleared = [c for c in others if c not in confirmed][:8]
    rows = [(c, 1, "ocse_payer") for c in confirmed] + [(c, 0, "cleared") for c in cleared]
    decided = [
        datetime.combine(date(2025, 3, 1) + timedelta(days=2 * (n % 10)), time(10), UTC)
        for n in range(len(rows))
    ]
    table = pa.table({
        "customer_id": pa.array([r[0] for r in rows], pa.string()),
        "label": pa.array([r[1] for r in rows], pa.int32()),
        "decided_at": pa.array(decided, pa.timestamp("us", tz="UTC")),
        "typology": pa.array([r[2] for r in rows], pa.string()),
    })
    folder = ledger_root / "labels"
    for old in folder.glob("*"):
        old.unlink()
    pq.write_table(table, folder / "labels.parquet")


@pytest.fixture(scope="module")
def replay(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from bantay import settings as settings_module
    from bantay.jobs import replay_backtest
    from bantay.synth import generate

    root = tmp_path_factory.mktemp("backtest")
    ledger_root, truth, out = root / "ledger", root / "truth", root / "out"
    generate.run(out=ledger_root, customers=CUSTOMERS, days=DAYS, seed=5, end_date=END, truth=truth)
    oracle = pd.read_parquet(truth / "oracle.parquet")
    _write_labels(ledger_root, oracle)
    knobs = replay_backtest.Knobs(
        start=START, end=STOP, oracle=truth / "oracle.parquet", capacity_per_week=0.07,
        review_delay_days=DELAY, oracle_error_rate=0.2, below_line_share=0.3, retrain_every_days=5, seed=3,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlruns.sqlite'}")
        settings = settings_module.load(
            ledger_root=ledger_root, output_root=out, spark_master="local[2]", spark_shuffle_partitions=2,
            spark_driver_memory="2g", min_alert_score=0.0, demo=True,
        )
        result = replay_backtest.run(settings, knobs)
        return {"root": root, "out": out, "oracle": oracle, "knobs": knobs, "settings": settings,
                "result": result, "patch_uri": f"sqlite:///{root / 'mlruns.sqlite'}"}


def _store(out: Path) -> Any:
    from bantay.cases import db

    return db.open_store(out, f"sqlite:///{(out / 'workbench' / 'cases.sqlite').resolve()}")


def _cases(out: Path) -> pd.DataFrame:
    from bantay.cases.models import Case

    factory = _store(out)
    with factory() as session:
        rows = session.execute(select(
            Case.id, Case.customer_id, Case.state, Case.opened_on, Case.outcome, Case.decided_by,
            Case.approved_by, Case.approved_at,
        )).all()
    factory.kw["bind"].dispose()
    return pd.DataFrame(rows, columns=["case_id", "customer_id", "state", "opened_on", "outcome",
                                       "decided_by", "approved_by", "approved_at"])


def test_decisions_arrive_after_the_delay_through_four_eyes(replay: dict[str, Any]) -> None:
    from bantay.backtest import oracle as oracle_module

    cases = _cases(replay["out"])
    truth = {r.customer_id: (r.label, r.typology) for r in replay["oracle"].itertuples()}
    assert len(cases) > 0
    due = cases["opened_on"] + timedelta(days=DELAY) <= STOP  # decided by the last replayed day
    assert (cases.loc[~due, "state"] == "new").all()
    decided = cases[due]
    assert len(decided) > 0 and decided["state"].isin(["filed", "closed"]).all()
    for row in decided.itertuples():
        # Approved at noon UTC of the due day, by someone else than the decider, as the oracle says.
        assert row.approved_at.replace(tzinfo=UTC) == datetime.combine(
            row.opened_on + timedelta(days=DELAY), time(12), UTC)
        assert row.decided_by != row.approved_by
        assert row.outcome == oracle_module.decide(truth[row.customer_id], 0.2, 3, row.case_id)[0]
        assert (row.state == "filed") == (row.outcome == "confirmed")


def test_decisions_become_labels(replay: dict[str, Any], spark: SparkSession) -> None:
    from bantay.cases import labels

    cases = _cases(replay["out"])
    decided = cases[cases["outcome"].notna()].sort_values("customer_id")
    written = labels.read_decided(spark, replay["out"]).toPandas().sort_values("customer_id")
    assert written["customer_id"].tolist() == decided["customer_id"].tolist()
    assert written["label"].tolist() == (decided["outcome"] == "confirmed").astype(int).tolist()
    assert [t.to_pydatetime() for t in pd.to_datetime(written["decided_at"], utc=True)] == [
        a.replace(tzinfo=UTC) for a in decided["approved_at"]]
    assert replay["result"]["labels_gained"] == len(written)
    summary = json.loads((replay["out"] / "backtest" / "summary.json").read_text())
    assert summary["figures"]["labels_confirmed"] == int((decided["outcome"] == "confirmed").sum())


def test_below_line_cases_are_marked_and_under_the_line(replay: dict[str, Any], spark: SparkSession) -> None:
    from bantay.cases.models import AuditEvent, Case, Note
    from bantay.jobs.replay_backtest import BELOW_LINE

    factory = _store(replay["out"])
    with factory() as session:
        marked = {e.case_id: json.loads(e.after) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == BELOW_LINE))}
        notes = {n.case_id: n.text for n in session.scalars(select(Note))}
        customers = dict(session.execute(select(Case.id, Case.customer_id)).all())
    factory.kw["bind"].dispose()
    daily = pd.read_csv(replay["out"] / "backtest" / "daily.csv")
    assert len(marked) == daily["cases_below_line"].sum() > 0
    assert (daily["cases_new"] <= daily["capacity_above_line"]).all()
    assert (daily["cases_below_line"] <= daily["capacity_below_line"]).all()
    for case_id, mark in marked.items():
        assert notes[case_id].startswith("Below-the-line sample")
        day = mark["as_of"]
        row = spark.read.parquet(str(replay["out"] / "scores" / f"as_of={day}")).where(
            f"customer_id = '{customers[case_id]}'").first()
        assert not row["alert"] and mark["line"] < row["rank"] == mark["rank"]


def test_report_written_and_logged_without_customer_ids(replay: dict[str, Any]) -> None:
    import mlflow

    folder = replay["out"] / "backtest"
    page = (folder / "report.html").read_text()
    assert "Week by week" in page and page.count("data:image/png;base64,") == 4
    # The first day trained from the world's labels and went through the gate: its figures are in daily.csv
    # and in the report's table (the labels not from alerts are the ledger's own and the unlabelled sample).
    daily = pd.read_csv(folder / "daily.csv")
    first = daily.iloc[0]
    assert bool(first["trained"]) and 0 < first["gate_challenger_pr_auc"] <= 1
    assert first["gate_unchosen_rows"] > 0
    assert "<h2>Retraining and the promotion gate</h2>" in page
    assert f"<td>{first['gate_challenger_pr_auc']:.3f}</td>" in page
    weeks = pd.read_csv(folder / "weekly.csv")
    assert weeks["days"].tolist() == [3]
    payers = pd.read_csv(folder / "payers.csv")
    assert stat.S_IMODE(os.stat(folder / "payers.csv").st_mode) == 0o600
    assert weeks["payers_alerted"].iloc[-1] == payers["first_alert_on"].notna().sum()
    client = mlflow.MlflowClient(tracking_uri=replay["patch_uri"])
    run = client.get_run(replay["result"]["mlflow_run_id"])
    assert run.data.metrics["labels_gained"] == replay["result"]["labels_gained"]
    names = {a.path for a in client.list_artifacts(run.info.run_id, "backtest")}
    assert "backtest/report.html" in names and "backtest/payers.csv" not in names
    ids = replay["oracle"]["customer_id"].tolist()
    shared = [page, *(str(v) for v in run.data.params.values()), (folder / "daily.csv").read_text()]
    assert not any(c in text for c in ids for text in shared)


def test_rerun_replaces_the_replay(replay: dict[str, Any]) -> None:
    from dataclasses import replace

    from bantay.jobs import replay_backtest

    out = replay["out"]
    knobs = replace(replay["knobs"], start=date(2025, 3, 31), end=STOP)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", replay["patch_uri"])
        result = replay_backtest.run(replay["settings"], knobs)
    cases = _cases(out)
    assert cases["opened_on"].min() >= date(2025, 3, 31)  # the first replay's cases are gone
    assert len(list((out / "case_labels").glob("*.parquet"))) == result["labels_gained"]
    assert pd.read_csv(out / "backtest" / "weekly.csv")["days"].tolist() == [1]
    days = [f"as_of={date(2025, 3, d)}" for d in (31,)]
    assert sorted(p.name for p in (out / "scores").iterdir()) == days


def test_a_bank_with_too_few_labels_is_scored_by_the_rules(replay: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    from bantay.jobs import replay_backtest
    from bantay.models import baseline

    # The same ledger with one confirmed and one cleared decision: no model can be trained from it.
    ledger_root = tmp_path / "ledger"
    shutil.copytree(replay["root"] / "ledger", ledger_root)
    oracle = replay["oracle"]
    labels = pa.table({
        "customer_id": pa.array(sorted(oracle["customer_id"])[:2], pa.string()),
        "label": pa.array([1, 0], pa.int32()),
        "decided_at": pa.array([datetime(2025, 3, 2, 10, tzinfo=UTC), datetime(2025, 3, 9, 10, tzinfo=UTC)],
                               pa.timestamp("us", tz="UTC")),
        "typology": pa.array(["ocse_payer", "cleared"], pa.string()),
    })
    for old in (ledger_root / "labels").glob("*"):
        old.unlink()
    pq.write_table(labels, ledger_root / "labels" / "labels.parquet")
    knobs = replay_backtest.Knobs(
        start=STOP, end=STOP, oracle=replay["knobs"].oracle, capacity_per_week=0.07, review_delay_days=DELAY,
        oracle_error_rate=0.0, below_line_share=0.0, retrain_every_days=5, seed=3,
    )
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlruns.sqlite'}")
        settings = replay["settings"].model_copy(update={"ledger_root": ledger_root, "output_root": out})
        result = replay_backtest.run(settings, knobs)
    daily = pd.read_csv(out / "backtest" / "daily.csv")
    assert daily["model"].tolist() == [baseline.RULES_VERSION]
    assert (daily["trained"].tolist(), result["days_scored_by_rules"]) == ([False], 1)
    scores = pd.read_parquet(out / "scores" / f"as_of={STOP}")
    assert set(scores["model_version"]) == {baseline.RULES_VERSION}
    # 7% of 300 customers a week: 3 places on the day, every one taken by a case of the rules' alerts.
    assert daily["capacity_above_line"].tolist() == [3] and daily["cases_new"].tolist() == [3]
    alerted = scores[scores["alert"]].sort_values("rank")
    assert len(alerted) == 3 and (alerted["score"] > 0).all()
