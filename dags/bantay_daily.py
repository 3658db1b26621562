"""Bantay daily run: validate the ledger, build features, score with the champion model, draft SAR cases.

One run per day. The as-of date D of a run is the end of its data interval, as a UTC date: with Airflow 3's
default `@daily` timetable (CronTriggerTimetable) that is the run's logical date, midnight UTC of D, when day
D-1 has just closed. Every step uses only data booked before D, so the run dated D covers bookings up to D-1;
`airflow dags test bantay_daily 2025-06-01` scores as of 2025-06-01 with everything booked until 31 May.

Runs advance in date order (the feature state is incremental): `max_active_runs=1`, and the stateful tasks
have `depends_on_past=True`, which also orders the runs of a backfill, whose own limit on active runs is not
the DAG's: `airflow backfill create --dag-id bantay_daily --from-date 2025-05-01 --to-date 2025-05-31
--max-active-runs 1` (a scheduler must be running). A failed day holds the later ones until it is fixed and
cleared. Rerunning a day replaces that day's outputs and nothing else.

After scoring, `monitor_model` measures the day against the champion's training reference (PSI of the score
and of every feature, null rates, alerts against the budget, share scored: OUT/monitoring/ and an MLflow run
per day), and `check_monitoring` shows the verdict: success within every threshold, *skipped* with the
one-line reason when a threshold is crossed (a warning: Airflow 3 has no warning state, and nothing depends
on this task), failed for the checks named in BANTAY_MONITOR_FAIL_ON. While no version holds the `champion`
alias (a new bank: too few labels to train, or no version has beaten the documented rules at the gate), the
rules of `bantay.models.baseline` score the day and `check_monitoring` is skipped with that reason; the
training DAG promotes a first version once one passes the gate.

Settings come from `bantay.settings.load()` in each task (BANTAY_LEDGER_ROOT, BANTAY_OUTPUT_ROOT, ... or a
TOML file named by BANTAY_CONFIG); the `ledger_root` / `output_root` params of a run override them. Each
task starts its own Spark driver, `local[*]` by default; BANTAY_SPARK_MASTER=spark://host:7077 (or yarn,
k8s://...) sends the same jobs to a cluster, the task process being the driver. The Spark tasks share the
pool `bantay_spark` (create it once: `airflow pools set bantay_spark 1 "Bantay Spark jobs"`; without it the
scheduler queues them for ever), so that no more Spark jobs run at once than the machine holds; set
BANTAY_AIRFLOW_POOL to use another pool. Each task holds the output root's lock while it writes, as every
`bantay` command does: a task that finds the root held by a live run (a command, the other DAG) fails with
that one line and is retried. Bad input (`bantay.errors.BantayError`) fails the task at once,
without retries, with the one-line reason; anything else (a lost executor, a full disk) is retried with
exponential back-off.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, AssetAlias, dag, get_current_context, task

from bantay.airflow_tasks import PARAMS, SPARK_POOL
from bantay.airflow_tasks import fail_fast as _fail_fast
from bantay.airflow_tasks import jsonable as _jsonable
from bantay.airflow_tasks import run_date as _as_of
from bantay.airflow_tasks import run_settings as _settings
from bantay.airflow_tasks import writing as _writing
from bantay.io import files

# Logical assets: the concrete folders depend on the settings of the run and go into each event's `extra`.
LEDGER = Asset(name="bantay_ledger", uri="x-bantay://ledger")
VALIDATED = Asset(name="bantay_validated", uri="x-bantay://output/validated")
LABELS = Asset(name="bantay_labels", uri="x-bantay://output/validated/labels")
FEATURES = Asset(name="bantay_features", uri="x-bantay://output/features")
MODEL = Asset(name="bantay_model", uri="x-bantay://mlflow/champion")
SCORES = Asset(name="bantay_scores", uri="x-bantay://output/scores")
CASES = Asset(name="bantay_cases", uri="x-bantay://output/cases")
MONITORING = Asset(name="bantay_monitoring", uri="x-bantay://output/monitoring")
# Validate adds a `bantay_labels` event through this alias only when the labels changed: the ledger's, or the
# workbench's decisions approved before the run's date (so the next training reads them).
LABELS_CHANGED = AssetAlias(name="bantay_labels_changed")

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "bantay",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=3),
}


def _labels_fingerprint(
    ledger_root: Path, output_root: Path | None = None, as_of: date | None = None
) -> str | None:
    """sha256 over the ledger's label files and, given `output_root` and `as_of`, the workbench's decisions
    approved before `as_of` (what a training as of `as_of` reads): names and bytes; None when there are
    none."""
    folder = ledger_root / "labels"
    sources = [(folder, "", files.visible_files(folder, (".parquet", ".csv")))]
    if output_root is not None and as_of is not None:
        from bantay.cases import labels as case_labels  # pyarrow and the ledger: never at parse time

        decided = case_labels.labels_path(output_root)
        sources.append((decided, "case_labels/", case_labels.decided_files(output_root, before=as_of)))
    if not any(paths for _, _, paths in sources):
        return None
    digest = hashlib.sha256()
    for base, prefix, paths in sources:
        for path in paths:
            digest.update(f"{prefix}{path.relative_to(base)}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dag(
    dag_id="bantay_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    tags=["bantay"],
    doc_md=__doc__,
)
def bantay_daily() -> None:
    @task(
        pool=SPARK_POOL,
        depends_on_past=True,
        inlets=[LEDGER, LABELS],
        outlets=[VALIDATED, LABELS_CHANGED],
    )
    def validate_ledger() -> dict[str, Any]:
        """Check the ledger with GX, quarantine bad rows, write the validated layer for the days before D."""
        from bantay.jobs import validate_ledger as job

        context = get_current_context()
        with _fail_fast():
            settings, as_of = _settings(context), _as_of(context)
            with _writing(settings):
                summary = job.run(settings, as_of)
                fingerprint = _labels_fingerprint(settings.ledger, settings.output_root, as_of)
        context["outlet_events"][VALIDATED].extra = {
            "as_of": as_of.isoformat(),
            "out": str(settings.output_root),
        }
        previous = list(context["inlet_events"][LABELS].ascending(False).limit(1))
        seen = (previous[0].extra or {}).get("fingerprint") if previous else None
        if fingerprint is not None and fingerprint != seen:
            context["outlet_events"][LABELS_CHANGED].add(
                LABELS, extra={"as_of": as_of.isoformat(), "fingerprint": fingerprint}
            )
        return _jsonable(summary)

    @task(pool=SPARK_POOL, depends_on_past=True, inlets=[VALIDATED], outlets=[FEATURES])
    def build_features() -> str:
        """Advance the incremental feature state and write OUT/features/as_of=D/."""
        from bantay.jobs import build_features as job

        context = get_current_context()
        with _fail_fast():
            settings, as_of = _settings(context), _as_of(context)
            with _writing(settings):
                path = str(job.run(settings, as_of))
        context["outlet_events"][FEATURES].extra = {"as_of": as_of.isoformat(), "path": path}
        return path

    @task(pool=SPARK_POOL, depends_on_past=True, inlets=[FEATURES, MODEL], outlets=[SCORES])
    def score_customers() -> str:
        """Score every customer with the `champion` model (the documented rules while no version holds the
        alias) and pick the alerts: OUT/scores/as_of=D/."""
        from bantay.jobs import score_customers as job

        context = get_current_context()
        with _fail_fast():
            settings, as_of = _settings(context), _as_of(context)
            with _writing(settings):
                path = str(job.run(settings, as_of))  # the champion; the rules while there is none
        context["outlet_events"][SCORES].extra = {"as_of": as_of.isoformat(), "path": path}
        return path

    @task(pool=SPARK_POOL, inlets=[SCORES, FEATURES], outlets=[CASES])
    def draft_cases() -> str:
        """Write one case folder of SAR drafts per alert: OUT/cases/as_of=D/."""
        from bantay.jobs import draft_cases as job

        context = get_current_context()
        with _fail_fast():
            settings, as_of = _settings(context), _as_of(context)
            with _writing(settings):
                path = str(job.run(settings, as_of))
        context["outlet_events"][CASES].extra = {"as_of": as_of.isoformat(), "path": path}
        return path

    @task(pool=SPARK_POOL, inlets=[SCORES, FEATURES, MODEL], outlets=[MONITORING])
    def monitor_model() -> dict[str, Any]:
        """PSI of the score and features vs the champion's training reference, null rates, alert volume,
        share scored: a row of OUT/monitoring/daily.parquet, an MLflow run, the 90-day report."""
        from bantay.jobs import monitor_model as job

        context = get_current_context()
        with _fail_fast():
            settings, as_of = _settings(context), _as_of(context)
            with _writing(settings):
                summary = _jsonable(job.run(settings, as_of))
        context["outlet_events"][MONITORING].extra = {
            "as_of": as_of.isoformat(), "status": summary["status"], "report": summary["report"],
        }
        return summary

    @task(retries=0)
    def check_monitoring(summary: dict[str, Any]) -> str:
        """Within every threshold: success. Crossed: skipped (a warning) or failed (BANTAY_MONITOR_FAIL_ON),
        with the one-line reason."""
        from bantay.airflow_tasks import monitoring_outcome

        return monitoring_outcome(summary)

    scored = validate_ledger() >> build_features() >> score_customers()
    scored >> draft_cases()
    check_monitoring(scored >> monitor_model())


bantay_daily()
