"""The transaction duplicate rank from an aggregation of the id equals the rank over a window of every row."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from bantay.quality import quarantine
from bantay.quality.rules import DUP_RANK


def test_with_first_copy_rank_equals_the_window_over_every_row(spark: SparkSession) -> None:
    rows = [
        ("t1", 5, "a"), ("t1", 3, "b"), ("t1", 9, "c"),  # three copies: the earliest (3) is kept
        ("t2", 1, "d"), ("t2", 1, "e"),  # a tie on the time: the second order column decides
        ("t3", 7, "f"),  # one copy
        (None, 2, "g"), (None, 2, "h"),  # a null id is never ranked, however often it appears
    ]
    frame = spark.createDataFrame(rows, "id string, at int, tag string")
    key, order = F.col("id"), [F.col("at"), F.col("tag")]
    sparse = quarantine._with_first_copy_rank(frame, key, order)
    window = frame.withColumn(DUP_RANK, quarantine._first_copy_rank([key], order))

    ranks = {row["tag"]: row[DUP_RANK] for row in sparse.collect()}

    assert ranks == {row["tag"]: row[DUP_RANK] for row in window.collect()}
    assert ranks == {"a": 2, "b": 1, "c": 3, "d": 1, "e": 2, "f": 1, "g": None, "h": None}
    assert sparse.columns == window.columns
