"""`bantay score --as-of D [--model URI]`: score the features of D, pick alerts, write OUT/scores/as_of=D/.

Reads the feature table of D, the validated labels (for the re-alert rule) and earlier score tables; writes
`customer_id, score, rank, alert, model_version, reasons` atomically (`files.write_partition`). The alert
and re-alert rules are documented in `bantay.models.score`.

The scorer: `--model URI` (a registered version, or `rules` for the documented rules of
`bantay.models.baseline`); by default the champion, and while no version holds the `champion` alias (a new
bank's cold start: too few confirmed labels to train, or no version has beaten the rules at the gate) the
rules, with a warning line; their scores carry `model_version` `bantay-rules/1`.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bantay import ledger
from bantay import spark as spark_session
from bantay.cases import ingest
from bantay.cases import labels as case_labels
from bantay.errors import MissingArtefactError, ModelError
from bantay.io import catalogue, files
from bantay.models import baseline, ranks, registry, score
from bantay.settings import Settings

logger = logging.getLogger(__name__)


def features_path(settings: Settings, as_of: date) -> Path:
    return catalogue.partition(settings.output_root, "features", as_of)


def scores_base(settings: Settings) -> Path:
    return catalogue.path(settings.output_root, "scores")


def read_features(spark: SparkSession, settings: Settings, as_of: date) -> DataFrame:
    path = features_path(settings, as_of)
    features = files.read_optional(spark, path)
    if features is None:
        raise MissingArtefactError(f"{path}: no feature table; run `bantay features --as-of {as_of}` first")
    return features


def prior_scores(spark: SparkSession, settings: Settings, as_of: date) -> DataFrame | None:
    """`customer_id, score, model_version, as_of` of the earlier score tables the re-alert rule can reach, or
    None when there is none.

    The rule reads a cleared customer's score at the last scoring on or before its decision, and only
    decisions within `realert_cooldown_days` before `as_of` count: so the tables from that day on, and the
    latest one before it (a decision on the cooldown's first day may fall after the last scoring before it).
    A table scores every customer active in the year before it, so the latest table on or before a decision
    holds a customer who was under review then. A day reads at most the cooldown's tables and one more,
    however many days were scored before.
    """
    base = scores_base(settings)
    earlier = {day: folder for day, folder in files.partition_dates(base, "as_of").items() if day < as_of}
    if not earlier:
        return None
    since = as_of - timedelta(days=settings.realert_cooldown_days)
    before = [day for day in earlier if day <= since]
    first = max(before) if before else min(earlier)
    paths = [str(folder) for day, folder in sorted(earlier.items()) if day >= first]
    earlier_scores = spark.read.option("basePath", str(base)).parquet(*paths)
    version = F.col("model_version") if "model_version" in earlier_scores.columns else F.lit(None)
    return earlier_scores.select("customer_id", "score", version.cast("string").alias("model_version"),
                                 F.col("as_of").cast("date").alias("as_of"))


def last_scorer(spark: SparkSession, settings: Settings, as_of: date) -> str | None:
    """The `model_version` of the latest score table before `as_of` (None when there is none)."""
    base = scores_base(settings)
    earlier = {day: folder for day, folder in files.partition_dates(base, "as_of").items() if day < as_of}
    if not earlier:
        return None
    row = spark.read.parquet(str(earlier[max(earlier)])).select("model_version").limit(1).first()
    return None if row is None else str(row["model_version"])


def labels_or_none(spark: SparkSession, settings: Settings) -> DataFrame | None:
    try:
        return ledger.read_validated(spark, settings.output_root, "labels")
    except MissingArtefactError:
        return None


RULES = "rules"  # `--model rules`: score by the documented rules


def scorer_uri(settings: Settings, model_uri: str | None, last: str | None = None) -> str:
    """What scores the day: `model_uri` when given, else the champion, else (none yet) the rules.

    `last`: the scorer of the latest earlier day (`last_scorer`). When it was a version of this model, a
    missing champion is an error, not a cold start (the alias was removed, or the registry is not the one
    that day used: check MLFLOW_TRACKING_URI and the model name)."""
    if model_uri is not None:
        return model_uri
    if registry.has_champion(settings):
        return f"models:/{settings.model_name}@{registry.CHAMPION}"
    if last is not None and last.startswith(f"{settings.model_name}/"):
        raise ModelError(
            f"model {settings.model_name}: no champion in the configured registry, yet the latest earlier "
            f"day was scored by {last}; restore the alias (`bantay promote --version N --force`) or point "
            "MLFLOW_TRACKING_URI at that day's registry"
        )
    logger.warning("no champion version of %s: scoring by the documented rules (%s) until a version passes "
                   "the promotion gate", settings.model_name, baseline.RULES_VERSION)
    return RULES


def run(settings: Settings, as_of: date, model_uri: str | None = None) -> Path:
    """Score every customer of the feature table of `as_of` (by default with the champion, else the rules)."""
    started = time.monotonic()
    spark = spark_session.session(settings)
    features = read_features(spark, settings, as_of)
    uri = scorer_uri(settings, model_uri, None if model_uri else last_scorer(spark, settings, as_of))
    customers = features.count()
    allowed = score.alert_count(customers, settings.alert_budget, settings.alert_capacity)
    floor = settings.min_alert_score
    labels = case_labels.with_decided(spark, labels_or_none(spark, settings), settings.output_root)
    open_cases = ingest.continuing_customers(settings.output_root, as_of, settings.case_store_url)
    continuing = spark.createDataFrame([(c,) for c in open_cases], "customer_id string")  # outside the budget
    if uri == RULES:
        version = baseline.RULES_VERSION
        scored = baseline.spark_score(features)
        # The rules alert only customers who meet a rule, whatever the floor: no case without a ground.
        floor = max(floor, baseline.lowest_score(features.columns))
    else:
        booster, version = registry.load_booster(settings, uri)
        columns = list(booster.feature_names or [])
        missing = [c for c in columns if c not in features.columns]
        if missing:
            raise ModelError(
                f"model {version} needs {len(missing)} column(s) the feature table of {as_of} lacks "
                f"({', '.join(missing[:5])}); rebuild features or retrain"
            )
    bars = None
    if labels is not None:
        earlier = prior_scores(spark, settings, as_of)
        bars = score.realert_bars(labels, earlier, as_of, settings.realert_cooldown_days,
                                  settings.realert_margin, floor, version).cache()
    if uri != RULES:
        # Reasons for the riskiest `reason_share` of customers, and at least down to the last possible alert:
        # the places, plus the open cases and the held-back customers that can rank above them.
        held = 0 if bars is None else bars.count()
        explained = max(math.ceil(settings.reason_share * customers), allowed + len(open_cases) + held)
        scored = score.score_features(features, bytes(booster.save_raw("ubj")), columns, rows=customers,
                                      ranked=ranks.columns_of(booster), explained=explained)
    table = score.rank_and_alert(scored, allowed, floor, bars, version, continuing)
    path = files.write_partition(table, settings.output_root, "scores", as_of)
    if bars is not None:
        bars.unpersist()
    # No count of the alerts only for this line: the draft step reads them and logs how many it drafted.
    logger.info("scored %d customers for %s with %s: at most %d alerts in %.1f s",
                customers, as_of, version, allowed, time.monotonic() - started)
    return path


if __name__ == "__main__":  # spark-submit jobs/score_customers.py --ledger L --out O --as-of 2025-03-31
    from bantay.cli import main

    raise SystemExit(main(["score", *sys.argv[1:]]))
