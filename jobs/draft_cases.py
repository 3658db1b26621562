"""`bantay draft`: a case folder with the SAR drafts for every customer alerted on the as-of date.

Reads OUT/scores/as_of=D (alerts), the validated transactions (365 days before D), customers and FX rates,
and OUT/clusters/as_of=D; writes OUT/cases/as_of=D/ whole: it is built in a staging
folder and swapped in, so a rerun replaces the day's cases and drops cases no longer alerted.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import functions as F

import bantay.spark
from bantay import ledger
from bantay.cases import ingest
from bantay.io import catalogue, files
from bantay.sar import austrac, batch, build, case, evidence, fintrac, fx, goaml
from bantay.settings import Settings

logger = logging.getLogger(__name__)


def run(settings: Settings, as_of: date, pdf: bool = False, generated_at: datetime | None = None) -> Path:
    """Draft every alert of `as_of`; returns OUT/cases/as_of=D. `generated_at` is fixed only by tests."""
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    case.institution_for_forms(settings.institution.model_dump(), settings.demo)  # refuse before any work
    spark = bantay.spark.session(settings)
    alerts = evidence.read_alerts(spark, settings, as_of)
    config = goaml.load_config(settings.goaml_config)
    drafts: list[dict[str, Any]] = []
    if not alerts.empty:
        inputs = evidence.load(spark, settings, as_of, alerts)
        drafts = build_drafts(inputs, settings, stamp, config)
        _attach_rates(spark, settings, as_of, drafts, config)
    target = catalogue.partition(settings.output_root, "cases", as_of)
    with files.atomic_dir(target) as staging:
        write_cases(staging, drafts, settings, as_of, stamp, config, pdf)
    logger.info("drafted %d cases for %s in %s", len(drafts), as_of, target)
    ingest.ingest_day(settings.output_root, as_of, target, settings.case_store_url)  # cases across days
    return target


def build_drafts(
    inputs: evidence.CaseInputs, settings: Settings, generated_at: datetime, config: dict[str, Any]
) -> list[dict[str, Any]]:
    """One draft per alert, pure given the inputs."""
    as_of = inputs.as_of
    case_ids = {str(c): build.case_id(str(c), as_of) for c in inputs.scores["customer_id"]}
    customers = {str(row["customer_id"]): row for row in inputs.customers.to_dict("records")}
    by_customer = dict(tuple(inputs.transactions.groupby("customer_id", sort=False)))
    empty = inputs.transactions.iloc[0:0]
    catalogue = build.feature_catalogue()
    drafts = []
    for score in inputs.scores.to_dict("records"):
        customer_id = str(score["customer_id"])
        drafts.append(
            build.build_draft(
                as_of=as_of,
                generated_at=generated_at,
                score=score,
                customer=customers.get(customer_id, {"customer_id": customer_id}),
                transactions=by_customer.get(customer_id, empty),
                clusters=inputs.clusters,
                cluster_payers=inputs.cluster_payers,
                case_ids=case_ids,
                institution=case.institution_for_forms(settings.institution.model_dump(), settings.demo),
                reporting_currency=settings.reporting_currency,
                catalogue=catalogue,
                goaml=config,
            )
        )
    return drafts


def _attach_rates(
    spark: Any, settings: Settings, as_of: date, drafts: list[dict[str, Any]], config: dict[str, Any]
) -> None:
    """Record in each draft the rates its forms convert with (goAML local currency, AUD, CAD)."""
    if not drafts:
        return
    start = as_of - timedelta(days=evidence.LOOKBACK_DAYS + 7)  # a week more: the latest rate before day 1
    table = (
        ledger.read_validated(spark, settings.output_root, "fx_rates")
        .where((F.col("rate_date") >= F.lit(start)) & (F.col("rate_date") < F.lit(as_of)))
        .select("rate_date", "currency", "usd_per_unit")
        .toPandas()
    )
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
) -> None:
    """Write each case folder (0700, files 0600) and the batch views into `folder`."""
    folder.mkdir(mode=catalogue.DIR_MODE, exist_ok=True)
    for draft in drafts:
        case_dir = folder / draft["case_id"]
        case_dir.mkdir(mode=catalogue.DIR_MODE)
        for name, content in case.render_forms(draft, config, settings.goaml_xsd, pdf=pdf).items():
            files.write_private(case_dir / name, content)
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    currency = settings.reporting_currency
    files.write_private(folder / "index.html", batch.index_html(drafts, as_of.isoformat(), stamp))
    geography = batch.geography(drafts, currency)
    files.write_private(folder / "geography.csv", _csv(geography))
    files.write_private(folder / "geography.png", batch.geography_png(geography))
    network = batch.network(drafts, currency)
    files.write_private(folder / "network.csv", _csv(network))
    files.write_private(folder / "network.png", batch.network_png(network))
    files.make_private(folder)  # whatever the umask


def _csv(frame: pd.DataFrame) -> str:
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


if __name__ == "__main__":  # spark-submit jobs/draft_cases.py --ledger L --out O --as-of D
    from bantay.cli import main

    raise SystemExit(main(["draft", *sys.argv[1:]]))
