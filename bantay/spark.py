"""The one Spark session builder used by jobs, the CLI, Airflow tasks and tests."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from bantay.settings import Settings

logger = logging.getLogger(__name__)

LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")


def session(settings: Settings, app_name: str = "bantay") -> SparkSession:
    """Return the active session or build one: `local[*]` unless the settings (or spark-submit) name a master.

    UTC session time zone (timestamps in the ledger are UTC; local hours use each row's IANA zone),
    Arrow for pandas conversion, adaptive execution to coalesce small shuffles, quiet logs. The time zone is
    the one setting a launch cannot override (`utc`).
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return utc(active)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if "PYSPARK_GATEWAY_PORT" in os.environ:
        # Launched by spark-submit: attach to its JVM first, so that SparkConf sees --master and --conf.
        SparkContext._ensure_initialized()
    submitted = SparkConf()  # under spark-submit this now holds --master and --conf values
    master = submitted.get("spark.master", settings.spark_master)
    if master.startswith("local"):
        # One machine: bind to loopback (no warning about the host name, nothing listening outside).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(app_name)
    if not submitted.contains("spark.master"):
        builder = builder.master(settings.spark_master)
    defaults = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        # A read of a year of day partitions lists its folders on the driver (milliseconds) instead of
        # starting a Spark job for it (above 32 paths by default, a second or so per read).
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "1024",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.ui.showConsoleProgress": "false",
        "spark.ui.enabled": "false",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.ansi.enabled": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}",
    }
    for key, value in defaults.items():
        if not submitted.contains(key):
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    logger.info("spark session on %s", spark.sparkContext.master)
    return utc(spark)


TIME_ZONE = "spark.sql.session.timeZone"


def utc(spark: SparkSession) -> SparkSession:
    """`spark` with its session time zone set to UTC, whatever a launch (`--conf`, a cluster's
    spark-defaults.conf) or an earlier caller set.

    Bantay's days are UTC days: a booking day is `to_date(booked_at)`, "before D" is before midnight UTC of D.
    In another session zone a date cast to a timestamp is midnight there, so a label decided in the first
    hours of D (UTC) would count as decided before D west of UTC: leakage into the features and training.
    """
    zone = spark.conf.get(TIME_ZONE)
    if zone != "UTC":
        logger.warning("spark.sql.session.timeZone was %s: Bantay sets UTC (its days are UTC days)", zone)
        spark.conf.set(TIME_ZONE, "UTC")
    return spark


UNCOMPRESSED_CACHE = "spark.sql.inMemoryColumnarStorage.compressed"


@contextlib.contextmanager
def uncompressed_caches(spark: SparkSession) -> Iterator[None]:
    """Inside the block, frames cached by the session are kept uncompressed in memory, unless the setting
    was given at launch (`--conf`), which is left as given.

    For the validator's flagged tables: choosing and applying a compression scheme per column of every cached
    batch cost more CPU than the cache saves in memory (5.2M transactions: 1.58 GB cached instead of 1.17 GB,
    `validate` 0.83x; docs/performance.md). Measured for validation only, so set only there.
    """
    if spark.sparkContext.getConf().contains(UNCOMPRESSED_CACHE):
        yield
        return
    spark.conf.set(UNCOMPRESSED_CACHE, "false")
    try:
        yield
    finally:
        spark.conf.unset(UNCOMPRESSED_CACHE)
