"""`bantay features`: the point-in-time feature table OUT/features/as_of=D/ and the payee clusters.

Arguments, session and wiring only: the state, the clusters and the features themselves live in the feature
store (`bantay.features.store`). A run for D brings the store's state up to date for the look-back before D,
then computes the table from the state alone. Only validated transactions with booking_date < D and labels
decided before D (UTC) are used.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame
from tqdm import tqdm

from bantay.features import store
from bantay.features.common import LOOKBACK_DAYS
from bantay.features.table import at_as_of, feature_table
from bantay.io import files
from bantay.settings import Settings

logger = logging.getLogger(__name__)


# --- entry points ---


def run(settings: Settings, as_of: date, full: bool = False) -> Path:
    """Update the state, then write OUT/features/as_of=D/ (and OUT/clusters/as_of=D/); return the path."""
    from bantay import spark as spark_module

    spark = spark_module.session(settings)
    started = time.monotonic()
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    store.update_state(spark, settings, start, as_of, full=full)
    customers = store.read_customers(spark, settings)
    p2p = store.read_state(spark, settings, "p2p", start, as_of)
    cached: list[DataFrame] = []
    with store.stage("network features", as_of):
        clusters = store.payee_clusters(spark, settings, p2p, reuse=not full)
        labels = store.read_labels(spark, settings)
        network, clusters = store.network_features(settings, p2p, labels, as_of, clusters, cached)
        files.write_partition(clusters, settings.output_root, "clusters", as_of)
    with store.stage("feature table", as_of):
        activity = store.activity_features(spark, settings, as_of, full=full)
        table = feature_table(at_as_of(p2p, as_of), activity, customers, network)
        target = files.write_partition(table, settings.output_root, "features", as_of)
    for frame in cached:
        frame.unpersist()
    logger.info("features: as of %s written in %.1fs", as_of, time.monotonic() - started)
    return target


def backfill(settings: Settings, start: date, end: date, full: bool = False) -> list[Path]:
    """Run every as-of date from `start` to `end` (inclusive) in order; `full` rebuilds the state first."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [
        run(settings, day, full=full and n == 0)
        for n, day in enumerate(tqdm(days, desc="features", disable=len(days) < 2))
    ]


if __name__ == "__main__":  # spark-submit jobs/build_features.py --ledger L --out O --as-of 2025-03-31
    from bantay.cli import main

    raise SystemExit(main(["features", *sys.argv[1:]]))
