"""`bantay draft`: a case folder with the SAR drafts for every customer alerted on the as-of date.

Reads OUT/scores/as_of=D (alerts), the validated transactions (365 days before D), customers and FX rates,
and OUT/clusters/as_of=D; writes OUT/cases/as_of=D/ whole: it is built in a staging
folder and swapped in, so a rerun replaces the day's cases and drops cases no longer alerted.

The drafts are built and rendered in `settings.draft_workers` processes (`bantay.pool`; by default one per
CPU, at most 8) once there are MIN_CHUNK cases per chunk for two chunks at least; fewer are drafted in this
process. Either way the drafts, their order and every file written are the same. A worker process that dies
(killed, out of memory) fails the day with `bantay.pool.WorkerDiedError` before anything is swapped in.

One case that cannot be built or rendered (any exception) does not stop the others: its folder holds only
`error.txt` (one line: the error's type and message), the day's index lists it as failed with that reason,
every other case is written and the day swapped in as usual, and then the job raises `DraftsFailedError`
(one line with the count), so the run exits non-zero. The log names the case id and the error type only.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from pyspark.sql import functions as F

import bantay.spark
from bantay import ledger, pool
from bantay.cases import ingest
from bantay.errors import BantayError
from bantay.io import catalogue, files
from bantay.sar import austrac, batch, build, case, evidence, fintrac, fx, goaml, per_case
from bantay.settings import Settings

logger = logging.getLogger(__name__)

ERROR_FILE = "error.txt"
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")


class DraftsFailedError(BantayError):
    """Some cases of the day could not be drafted; every other case was written."""


MIN_CHUNK = 32  # cases per worker task: the drafts of a smaller day are made in the job's own process


def run(settings: Settings, as_of: date, pdf: bool = False, generated_at: datetime | None = None) -> Path:
    """Draft every alert of `as_of`; returns OUT/cases/as_of=D. `generated_at` is fixed only by tests.

    Raises DraftsFailedError after the day is written when any case failed (listed in the day's index)."""
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    case.institution_for_forms(settings.institution.model_dump(), settings.demo)  # refuse before any work
    spark = bantay.spark.session(settings)
    alerts = evidence.read_alerts(spark, settings, as_of)
    config = goaml.load_config(settings.goaml_config)
    drafts, failed = draft_scored(spark, settings, as_of, alerts, stamp, config)
    target = catalogue.partition(settings.output_root, "cases", as_of)
    n_cases = len(drafts) + len(failed)
    with files.atomic_dir(target) as staging:
        failed += write_cases(staging, drafts, settings, as_of, stamp, config, pdf, failed)
    logger.info("drafted %d cases for %s in %s", n_cases - len(failed), as_of, target)
    ingest.ingest_day(settings.output_root, as_of, target, settings.case_store_url)  # cases across days
    if failed:
        kinds = Counter(f.error_type for f in failed)
        raise DraftsFailedError(
            f"{len(failed)} of {n_cases} drafts for {as_of} failed "
            f"({', '.join(f'{kind} x{n}' for kind, n in sorted(kinds.items()))}); the others are written: "
            f"see {target / 'index.html'} and {ERROR_FILE} in each failed case folder"
        )
    return target


def _day_wide(what: str, make: Callable[[], T]) -> T | None:
    """`make()`, done once for the day's drafts, or None when it raised: each case then does its part alone,
    so that a fault in one customer's rows fails that case only (`per_case.isolated`)."""
    try:
        return make()
    except Exception as error:  # any fault: the cases redo this part one by one, and the faulty one fails
        logger.warning(
            "drafts: %s for the whole day failed (%s); each case does its own", what, type(error).__name__
        )
        return None


def draft_scored(
    spark: Any,
    settings: Settings,
    as_of: date,
    scored: pd.DataFrame,
    generated_at: datetime,
    config: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[per_case.FailedCase]]:
    """The drafts of the score rows `scored` of `as_of` (the day's alerts, or a backtest's below-the-line
    sample), with the rates their forms convert with, and the rows whose draft could not be built; none for
    no rows."""
    if scored.empty:
        return [], []
    inputs = evidence.load(spark, settings, as_of, scored)
    drafts, failed = build_drafts(inputs, settings, generated_at, config)
    _attach_rates(spark, settings, as_of, drafts, config)
    return drafts, failed


def build_drafts(
    inputs: evidence.CaseInputs, settings: Settings, generated_at: datetime, config: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[per_case.FailedCase]]:
    """One draft per alert, pure given the inputs; the alerts whose draft could not be built apart."""
    as_of = inputs.as_of
    case_ids = {str(c): build.case_id(str(c), as_of) for c in inputs.scores["customer_id"]}
    customers = {str(row["customer_id"]): row for row in inputs.customers.to_dict("records")}
    # Every alerted customer's rows prepared in one pass (look-back, order, flags), then split by customer.
    # A fault in some customer's rows: each case prepares its own rows, so that only its case fails.
    prepared = _day_wide("the rows' preparation", partial(build.prepare, inputs.transactions, as_of))
    rows = inputs.transactions if prepared is None else prepared
    by_customer = dict(tuple(rows.groupby(rows["customer_id"].astype(str), sort=False)))
    empty = rows.iloc[0:0]
    decisions = {str(row["customer_id"]): row for row in inputs.decisions.to_dict("records")}
    catalogue = build.feature_catalogue()
    # Built once for the day's drafts; should it fail, each case builds its own (and fails alone, as below).
    index = _day_wide(
        "the payee cluster index", partial(build.ClusterIndex.of, inputs.clusters, inputs.cluster_payers)
    )
    shared = per_case.DayInputs(
        as_of=as_of,
        generated_at=generated_at,
        # With the index, no case reads the cluster tables: they are not sent to the workers.
        clusters=inputs.clusters if index is None else inputs.clusters.iloc[0:0],
        cluster_payers=inputs.cluster_payers if index is None else inputs.cluster_payers.iloc[0:0],
        case_ids=case_ids,
        institution=case.institution_for_forms(settings.institution.model_dump(), settings.demo),
        reporting_currency=settings.reporting_currency,
        catalogue=catalogue,
        goaml=config,
        index=index,
        prepared=prepared is not None,
    )
    cases = []
    for score in inputs.scores.to_dict("records"):
        customer_id = str(score["customer_id"])
        customer = customers.get(customer_id, {"customer_id": customer_id})
        cases.append((score, customer, by_customer.get(customer_id, empty), decisions.get(customer_id)))
    made = _in_workers(per_case.build_one, shared, cases, settings)
    failed = [m for m in made if isinstance(m, per_case.FailedCase)]
    for failure in failed:
        failure.log()
    return [m for m in made if not isinstance(m, per_case.FailedCase)], failed


def _in_workers(fn: Callable[[S, T], R], shared: S, cases: Sequence[T], settings: Settings) -> list[R]:
    """`pool.map_ordered` over the day's cases with the settings' worker count; a dead worker fails the day
    in one line that says how to draft in one process."""
    try:
        return pool.map_ordered(
            fn, shared, cases, settings.draft_workers or pool.default_workers(), MIN_CHUNK
        )
    except pool.WorkerDiedError as error:
        raise pool.WorkerDiedError(
            f"drafts: {error}; rerun, or set BANTAY_DRAFT_WORKERS=1 to draft in the job's own process"
        ) from error


def _attach_rates(
    spark: Any, settings: Settings, as_of: date, drafts: list[dict[str, Any]], config: dict[str, Any]
) -> None:
    """Record in each draft the rates its forms convert with (goAML local currency, AUD, CAD)."""
    if drafts:
        attach_rates(drafts, rate_table(spark, settings, as_of), settings, config)


def rate_table(spark: Any, settings: Settings, as_of: date) -> pd.DataFrame:
    """The validated FX rates a day's drafts may convert with: the look-back, and a week before it."""
    start = as_of - timedelta(days=evidence.LOOKBACK_DAYS + 7)  # a week more: the latest rate before day 1
    return pd.DataFrame(
        ledger.read_validated(spark, settings.output_root, "fx_rates")
        .where((F.col("rate_date") >= F.lit(start)) & (F.col("rate_date") < F.lit(as_of)))
        .select("rate_date", "currency", "usd_per_unit")
        .toPandas()
    )


def attach_rates(
    drafts: list[dict[str, Any]], table: pd.DataFrame, settings: Settings, config: dict[str, Any]
) -> None:
    """Record in each draft the rates of `table` (`rate_table`) its forms convert with."""
    index = fx.RateIndex.of(table)
    targets = {
        settings.reporting_currency,
        config.get("currency_code_local") or settings.reporting_currency,
        austrac.CURRENCY,
        fintrac.CURRENCY,
    }
    for draft in drafts:
        draft["fx_rates"] = fx.rates_for(draft["transactions"], index, targets)


def write_cases(
    folder: Path,
    drafts: list[dict[str, Any]],
    settings: Settings,
    as_of: date,
    generated_at: datetime,
    config: dict[str, Any],
    pdf: bool,
    failed: list[per_case.FailedCase] | None = None,
) -> list[per_case.FailedCase]:
    """Write each case folder (0700, files 0600) and the batch views into `folder`.

    A case whose forms cannot be rendered, and each of `failed` (drafts that could not be built), gets a
    folder with `error.txt` only and a "failed" row in the index; the batch views count the written cases.
    Returns the cases that failed here."""
    folder.mkdir(mode=catalogue.DIR_MODE, exist_ok=True)
    written: list[dict[str, Any]] = []
    failed_here: list[per_case.FailedCase] = []
    rendering = per_case.Rendering(config, settings.goaml_xsd, pdf)
    renders = _in_workers(per_case.render_one, rendering, drafts, settings)
    for draft, rendered in zip(drafts, renders, strict=True):
        if isinstance(rendered, per_case.FailedCase):
            rendered.log()
            failed_here.append(rendered)
            continue
        forms, notes = rendered
        draft.update(notes)  # what rendering recorded in the draft, the same whichever process rendered it
        case_dir = folder / draft["case_id"]
        case_dir.mkdir(mode=catalogue.DIR_MODE)
        for name, content in forms.items():
            files.write_private(case_dir / name, content)
        written.append(draft)
    every_failure = [*(failed or []), *failed_here]
    for failure in every_failure:
        case_dir = folder / failure.case_id
        case_dir.mkdir(mode=catalogue.DIR_MODE)
        files.write_private(case_dir / ERROR_FILE, failure.reason + "\n")
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    currency = settings.reporting_currency
    failures = [{"case_id": f.case_id, "score": f.score, "reason": f.reason} for f in every_failure]
    files.write_private(folder / "index.html", batch.index_html(written, as_of.isoformat(), stamp, failures))
    geography = batch.geography(written, currency)
    files.write_private(folder / "geography.csv", _csv(geography))
    files.write_private(folder / "geography.png", batch.geography_png(geography))
    network = batch.network(written, currency)
    files.write_private(folder / "network.csv", _csv(network))
    files.write_private(folder / "network.png", batch.network_png(network))
    files.make_private(folder)  # whatever the umask
    return failed_here


def _csv(frame: pd.DataFrame) -> str:
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


if __name__ == "__main__":  # spark-submit jobs/draft_cases.py --ledger L --out O --as-of D
    from bantay.cli import main

    raise SystemExit(main(["draft", *sys.argv[1:]]))
