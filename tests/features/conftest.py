"""The feature runs that the job's and the store's tests share (built once per session: Spark is slow)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from _sender_rows import txn
from _store_world import AS_OF, features_settings, make_out, revalidate_day
from pyspark.sql import SparkSession

from bantay.jobs import build_features


@pytest.fixture(scope="session")
def built(spark: SparkSession, tmp_path_factory) -> dict:
    """Incremental runs 03-08 (full), 03-09, then day 03-09 is re-validated with one more payment by c3 and
    03-10 runs incrementally; beside it, a full rebuild as of 03-10 on the same validated layer."""
    root = tmp_path_factory.mktemp("features")
    incremental = make_out(spark, root / "incremental")
    paths = [
        build_features.run(features_settings(incremental), date(2025, 3, 8), full=True),
        build_features.run(features_settings(incremental), date(2025, 3, 9)),
    ]
    revalidate_day(
        spark,
        incremental,
        date(2025, 3, 9),
        [txn("c3", "2025-03-09T20:00:00", 30.0, payee="P", payee_name="Ana Reyes")],
    )
    paths.append(build_features.run(features_settings(incremental), AS_OF))
    full = root / "full" / "out"
    shutil.copytree(incremental / "validated", full / "validated")
    return {
        "incremental": incremental,
        "paths": paths,
        "full": full,
        "full_table": build_features.run(features_settings(full), AS_OF, full=True),
    }
