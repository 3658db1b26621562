"""`bantay monitor --as-of D`: drift, null rates, alert volume and coverage of the model that scored D.

Reads OUT/features/as_of=D/ and OUT/scores/as_of=D/ (the scoring version is the scores' `model_version`,
`<model>/<version>`), and that version's training reference (`monitoring/reference.json` of its run);
computes the day (`bantay.models.monitor`), replaces the day's rows of the monitoring table, logs the day's
monitoring run to MLflow and redraws the report. Returns the day's summary with its status (`ok`, `warning`,
`failure`) and a one-line reason; the caller decides what a status does (the DAG's check task, the CLI).

A day scored by the documented rules (no champion yet) has no training reference: its summary is a `warning`
saying so, and nothing is written.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from typing import Any

from pyspark.sql import functions as F

from bantay import spark as spark_session
from bantay.errors import MissingArtefactError, ModelError
from bantay.io import catalogue, files
from bantay.models import baseline, monitor, registry, score
from bantay.settings import Settings

logger = logging.getLogger(__name__)


def run(settings: Settings, as_of: date) -> dict[str, Any]:
    """Monitor the scoring of `as_of`; return the summary row written to the monitoring table."""
    spark = spark_session.session(settings)
    scores_path = catalogue.partition(settings.output_root, "scores", as_of)
    scores = files.read_optional(spark, scores_path)
    if scores is None:
        raise MissingArtefactError(f"{scores_path}: no scores; run `bantay score --as-of {as_of}` first")
    features_path = catalogue.partition(settings.output_root, "features", as_of)
    features = files.read_optional(spark, features_path)
    if features is None:
        raise MissingArtefactError(f"{features_path}: no feature table; run `bantay features` first")
    versions = [row["model_version"] for row in scores.select("model_version").distinct().limit(2).collect()]
    if len(versions) != 1:
        raise ModelError(f"{scores_path}: {len(versions)} model versions in one day's scores; expected 1")
    if versions[0] == baseline.RULES_VERSION:
        reason = (f"scored by the documented rules ({baseline.RULES_VERSION}): no champion version of "
                  f"{settings.model_name} yet, so no training reference to compare with")
        logger.warning("monitoring of %s: %s", as_of, reason)
        return {"as_of": as_of.isoformat(), "model_version": baseline.RULES_VERSION, "status": "warning",
                "reason": reason, "report": ""}
    name, _, number = str(versions[0]).rpartition("/")
    if name != settings.model_name or not number.isdigit():
        raise ModelError(f"{scores_path}: scored by {versions[0]}, not a version of {settings.model_name}; "
                         "monitoring compares registered versions with their training reference")
    version = registry.model_version(settings, name, number)
    if version is None:
        raise ModelError(f"{scores_path}: scored by {versions[0]}, which the model registry no longer holds")
    if version.run_id is None:
        raise ModelError(f"{versions[0]}: no MLflow run, so no training reference to compare with")
    reference = registry.run_json(settings, version.run_id, registry.REFERENCE_ARTIFACT)
    columns = [c for c in reference["features"] if c in features.columns]
    missing = sorted(set(reference["features"]) - set(columns))
    if missing:
        raise ModelError(f"{features_path}: lacks {len(missing)} model column(s) ({', '.join(missing[:5])})")
    joined = features.select("customer_id", *columns).join(
        scores.select("customer_id", monitor.SCORE), on="customer_id", how="left")
    counts = monitor.bucket_counts(joined, reference, [*columns, monitor.SCORE])
    feature_rows = int(counts.loc[counts["column"] == monitor.SCORE, "count"].sum())
    alerts = scores.where(F.col("alert")).count()
    allowed = score.alert_count(feature_rows, settings.alert_budget, settings.alert_capacity)
    summary, table = monitor.summarise(counts, reference, columns, feature_rows, alerts, allowed)
    table["drifted"] = table["psi"] > settings.monitor_feature_psi_max
    status, reason = monitor.verdict(monitor.checks(summary, table, settings))
    summary |= {"as_of": as_of.isoformat(), "model_version": str(versions[0]), "status": status,
                "reason": reason, "features_drifted": int(table["drifted"].sum()),
                "null_rate_changes": int(((table["null_rate"] - table["null_rate_reference"]).abs()
                                          > settings.monitor_null_rate_change_max).sum())}
    summary["monitoring_run_id"] = monitor.log_run(settings, summary, table)
    monitor.store(settings.output_root, summary, table)
    report = monitor.write_report(settings.output_root, settings)
    logger.info("monitored %s for %s: %s (%s); report %s", versions[0], as_of, status, reason, report)
    return {**summary, "report": str(report)}


if __name__ == "__main__":  # spark-submit jobs/monitor_model.py --ledger L --out O --as-of 2025-03-31
    from bantay.cli import main

    raise SystemExit(main(["monitor", *sys.argv[1:]]))
