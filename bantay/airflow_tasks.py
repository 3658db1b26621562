"""What the Bantay DAGs share: the Spark pool, the run params, and the helpers every task body calls.

The DAG processor imports this module with each DAG file, so it imports nothing heavy at module level:
settings and logging are imported inside the helpers, when a task runs.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from bantay.errors import BantayError, OutputLockedError

if TYPE_CHECKING:
    from bantay.settings import Settings

SPARK_POOL = os.environ.get("BANTAY_AIRFLOW_POOL", "bantay_spark")
PARAMS = {
    "ledger_root": Param(None, type=["null", "string"], description="Ledger root (else BANTAY_LEDGER_ROOT)"),
    "output_root": Param(None, type=["null", "string"], description="Output root (else BANTAY_OUTPUT_ROOT)"),
}


@contextlib.contextmanager
def fail_fast() -> Iterator[None]:
    """Turn bad input into a failure without retries; leave every other error to the retry policy.

    An output root held by another writer is no bad input: the task fails with its one line and is retried.
    """
    try:
        yield
    except OutputLockedError as error:
        raise AirflowException(f"OutputLockedError: {' '.join(str(error).split())}") from None
    except BantayError as error:
        raise AirflowFailException(f"{type(error).__name__}: {' '.join(str(error).split())}") from None


@contextlib.contextmanager
def writing(settings: Settings, poll_seconds: float = 30.0) -> Iterator[None]:
    """Hold the output root's lock for a task's work, as every `bantay` command holds it: a task and a
    command (or a task of the other DAG) never write the same root at once, and a task taking the lock fresh
    sweeps the staging folders killed runs left. A root held by a live run is waited for, polling every
    `poll_seconds`, up to `settings.lock_wait_minutes`; then the task fails with the holder's one line
    (`OutputLockedError`), and the retry policy tries again later."""
    import time

    from bantay.io.lock import output_lock

    deadline = time.monotonic() + 60 * settings.lock_wait_minutes
    with contextlib.ExitStack() as held:
        while True:
            try:
                held.enter_context(output_lock(settings.output_root))
                break
            except OutputLockedError:
                if time.monotonic() + poll_seconds > deadline:
                    raise
                time.sleep(poll_seconds)
        yield


def jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A step's summary as plain JSON (dates and paths as strings, numpy scalars as numbers) for XCom."""
    text = json.dumps(payload, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    plain: dict[str, Any] = json.loads(text)
    return plain


def run_settings(context: Mapping[str, Any]) -> Settings:
    """Settings of this run: environment and config file, then the run's params (`PARAMS`)."""
    from bantay import log, settings

    log.configure()
    params = context.get("params") or {}
    return settings.load(ledger_root=params.get("ledger_root"), output_root=params.get("output_root"))


def run_date(context: Mapping[str, Any]) -> date:
    """The run's date D: end of the data interval (UTC); runs without a logical date use `run_after`."""
    moment = context.get("data_interval_end") or context.get("logical_date") or context["dag_run"].run_after
    day: date = pendulum.instance(moment).in_timezone("UTC").date()
    return day


def monitoring_outcome(summary: dict[str, Any]) -> str:
    """The Airflow outcome of a day's monitoring summary: its status when ok; AirflowSkipException (the
    warning mark) or AirflowFailException (a check in `monitor_fail_on`) with the one-line reason."""
    status, reason = summary["status"], " ".join(str(summary["reason"]).split())
    line = f"monitoring of {summary['as_of']} ({summary['model_version']}): {reason}"
    if status == "failure":
        raise AirflowFailException(line)
    if status == "warning":
        raise AirflowSkipException(f"warning: {line}")
    return str(status)
