"""The Spark session's scoped settings."""

from __future__ import annotations

from pyspark.sql import SparkSession

from bantay.spark import UNCOMPRESSED_CACHE, uncompressed_caches


def _cached_bytes(spark: SparkSession, inside: bool) -> int:
    """Memory held by the cache of a very compressible frame (one repeated value), built inside the block or
    not."""
    frame = spark.range(200_000).selectExpr("id % 3 AS k", "'the same text on every row' AS text")
    if inside:
        with uncompressed_caches(spark):
            frame = frame.cache()
            frame.count()
    else:
        frame = frame.cache()
        frame.count()
    held = sum(info.memSize() for info in spark.sparkContext._jsc.sc().getRDDStorageInfo())
    frame.unpersist(blocking=True)
    return int(held)


def test_uncompressed_caches_hold_inside_the_block_only(spark: SparkSession) -> None:
    assert spark.conf.get(UNCOMPRESSED_CACHE) == "true"
    with uncompressed_caches(spark):
        assert spark.conf.get(UNCOMPRESSED_CACHE) == "false"
    assert spark.conf.get(UNCOMPRESSED_CACHE) == "true"  # restored for the steps after validation
    # The setting takes effect on a cache built inside the block (the first action, not `cache()`, builds it).
    assert _cached_bytes(spark, inside=True) > 5 * _cached_bytes(spark, inside=False)
