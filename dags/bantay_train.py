"""Bantay training: fit and evaluate a challenger model, then run the promotion gate.

Runs when the daily validate task reports changed labels (an event on the `bantay_labels` asset: the ledger's
labels changed, or the workbench approved decisions since, OUT/case_labels) and, in any case, weekly (Sunday
03:00 UTC). The as-of date of a run is the as-of date of the daily run that reported the
labels, or, for the weekly run, the latest date the daily DAG validated (`OUT/runs/validate/run_date=D/`):
training uses labels decided before it and features as of each label's decision date.

`train` registers a new version with alias `challenger`; `promote` moves alias `champion` to it only if it
beats the current champion (or, while there is none, the rules baseline) by the configured margin, on the
challenger's evaluation set. The daily DAG always scores with `champion` (the documented rules while there is
none). Too few labels to train (a new bank's cold start, or a latest quarter of decisions without a
confirmed one) is not a fault: `train` is skipped with the reason, and with it `promote`; so is `promote`
when the challenger's evaluation set holds no decision the champion has not seen. Settings, the
`bantay_spark` pool, the output root's lock and the failure policy are as in `bantay_daily` (both take them
from `bantay.airflow_tasks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowSkipException

from bantay.airflow_tasks import PARAMS, SPARK_POOL
from bantay.airflow_tasks import fail_fast as _fail_fast
from bantay.airflow_tasks import jsonable as _jsonable
from bantay.airflow_tasks import run_date as _run_date
from bantay.airflow_tasks import run_settings as _settings
from bantay.airflow_tasks import writing as _writing
from bantay.errors import TooFewLabelsError
from bantay.io import catalogue, files

LABELS = Asset(name="bantay_labels", uri="x-bantay://output/validated/labels")
FEATURES = Asset(name="bantay_features", uri="x-bantay://output/features")
CHALLENGER = Asset(name="bantay_challenger", uri="x-bantay://mlflow/challenger")
MODEL = Asset(name="bantay_model", uri="x-bantay://mlflow/champion")

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "bantay",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=60),
    "execution_timeout": timedelta(hours=6),
}


def _latest_validated(output_root: Path, not_after: date) -> date | None:
    """The latest as-of date the daily DAG validated, not after `not_after`."""
    runs = catalogue.dataset("validate_runs")
    dates = [
        day
        for day, folder in files.partition_dates(runs.path(output_root), str(runs.key)).items()
        if (folder / "summary.json").is_file()
    ]
    dates = [day for day in dates if day <= not_after]
    return max(dates) if dates else None


def _training_as_of(context: Mapping[str, Any], output_root: Path) -> date:
    """As-of of the labels event that triggered the run, else the latest validated date up to the run date."""
    events = context["triggering_asset_events"].get(LABELS, [])
    reported = [date.fromisoformat(e.extra["as_of"]) for e in events if (e.extra or {}).get("as_of")]
    if reported:
        return max(reported)
    latest = _latest_validated(output_root, _run_date(context))
    if latest is None:
        raise AirflowSkipException(f"{output_root}: nothing validated yet, so nothing to train on")
    return latest


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    """The scalar entries of a step's summary, for an asset event's `extra` (which must be JSON)."""
    return {k: v for k, v in payload.items() if isinstance(v, str | int | float | bool) or v is None}


@dag(
    dag_id="bantay_train",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 3 * * 0", timezone="UTC"), assets=LABELS),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    tags=["bantay"],
    doc_md=__doc__,
)
def bantay_train() -> None:
    @task(pool=SPARK_POOL, inlets=[LABELS, FEATURES], outlets=[CHALLENGER])
    def train() -> dict[str, Any]:
        """Fit XGBoost on labels decided before the as-of date, evaluate, log, register as `challenger`."""
        from bantay.models import train as job

        context = get_current_context()
        with _fail_fast():
            settings = _settings(context)
            as_of = _training_as_of(context, settings.output_root)
            try:
                with _writing(settings):
                    summary = job.run(settings, as_of, promote=False)
            except TooFewLabelsError as error:  # not a fault: the day's scorer stays, and says which
                from bantay.models import registry

                scorer = ("the champion stays" if registry.has_champion(settings) else
                          "the daily run scores by the documented rules until a version passes the gate")
                raise AirflowSkipException(
                    f"too few labels to train as of {as_of}: {' '.join(str(error).split())}; {scorer}"
                ) from None
        summary = _jsonable(summary)
        context["outlet_events"][CHALLENGER].extra = {"as_of": as_of.isoformat(), **_plain(summary)}
        return summary

    @task(pool=SPARK_POOL, inlets=[CHALLENGER], outlets=[MODEL])
    def promote(trained: dict[str, Any]) -> dict[str, Any]:
        """Promotion gate: move alias `champion` to the version just trained only if it beats the champion."""
        from bantay.models import registry

        context = get_current_context()
        version = trained.get("version")
        with _fail_fast():
            settings = _settings(context)
            try:
                with _writing(settings):
                    decision = _jsonable(
                        registry.promote(settings, version=None if version is None else str(version))
                    )
            except TooFewLabelsError as error:  # no decision the champion has not seen: it stays
                raise AirflowSkipException(f"no promotion: {' '.join(str(error).split())}") from None
        context["outlet_events"][MODEL].extra = _plain(decision)
        return decision

    # TaskFlow hands `promote` the XCom of `train` at run time; statically the call sees an XComArg.
    promote(train())  # type: ignore[arg-type]


bantay_train()
