"""The daily budget counts new cases: customers with an open case are alerted without using a place."""

from __future__ import annotations

from pyspark.testing import assertDataFrameEqual

from bantay.models.score import rank_and_alert


def test_open_case_customers_use_no_place_in_the_budget(spark):
    scored = spark.createDataFrame(
        [
            ("c1", 0.9, []),  # open case: above the line, alerted, no place used
            ("c2", 0.8, []),  # new: place 1
            ("c3", 0.7, []),  # new: place 2 (the budget's last)
            ("c4", 0.6, []),  # open case, still above the first new customer left out: alerted
            ("c5", 0.5, []),  # new: place 3, over the budget
            ("c6", 0.4, []),  # open case below the line: not alerted
            ("c7", 0.1, []),  # open case under min_alert_score: never
        ],
        "customer_id string, score double, "
        "reasons array<struct<code:string, text:string, contribution:double, value:double>>",
    )
    continuing = spark.createDataFrame([("c1",), ("c4",), ("c6",), ("c7",), ("c9",)], "customer_id string")
    table = rank_and_alert(scored, 2, 0.2, None, "1", continuing).select("customer_id", "rank", "alert")
    expected = spark.createDataFrame(
        [
            ("c1", 1, True),
            ("c2", 2, True),
            ("c3", 3, True),
            ("c4", 4, True),
            ("c5", 5, False),
            ("c6", 6, False),
            ("c7", 7, False),
        ],
        "customer_id string, rank int, alert boolean",
    )
    assertDataFrameEqual(table, expected)
    # without open cases the budget is the first two eligible customers, as before
    plain = rank_and_alert(scored, 2, 0.2, None, "1").where("alert").select("customer_id")
    assert sorted(r["customer_id"] for r in plain.collect()) == ["c1", "c2"]
