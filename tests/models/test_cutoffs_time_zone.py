"""Point-in-time cut-offs hold whatever the driver's local time zone: "before D" means before midnight UTC.

PySpark turns a naive datetime literal into an instant in the Python process's own zone; these run the label
cut-offs of the network features, the training set and the re-alert rule on drivers west and east of UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from bantay.features import network, store
from bantay.models import score, training_set

AS_OF = date(2025, 6, 1)


@pytest.fixture(params=["America/Toronto", "Asia/Manila"])
def local_zone(request, monkeypatch):
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def _labels(spark):
    return spark.createDataFrame(
        [
            ("on_d", 1, datetime(2025, 6, 1, 2, tzinfo=UTC), "ocse_payer"),   # D in UTC (D-1 in Toronto)
            ("on_d_cleared", 0, datetime(2025, 6, 1, 3, tzinfo=UTC), None),   # the same, cleared
            ("before_d", 0, datetime(2025, 5, 31, 20, tzinfo=UTC), None),     # D-1 in UTC (D in Manila)
            ("before_window", 0, datetime(2025, 5, 30, 22, tzinfo=UTC), None),  # D-2 in UTC (D-1 in Manila)
        ],
        "customer_id string, label int, decided_at timestamp, typology string",
    )


def test_labels_decided_on_d_in_utc_are_never_used_as_of_d(spark, local_zone):
    labels = _labels(spark)
    assert sorted(r["customer_id"] for r in store.decided_before(labels, AS_OF).collect()) == [
        "before_d", "before_window"]
    points = {r["customer_id"]: r["as_of"] for r in training_set.labelled_points(labels, AS_OF).collect()}
    assert points == {"before_d": date(2025, 5, 31), "before_window": date(2025, 5, 30)}


def test_the_re_alert_cooldown_starts_at_midnight_utc(spark, local_zone):
    # A cooldown of one day before 06-01: decisions from 05-31 00:00 UTC up to 06-01 00:00 UTC.
    bars = score.realert_bars(_labels(spark), None, AS_OF, cooldown_days=1, margin=0.1, min_score=0.2)
    assert [(r["customer_id"], round(r["required_score"], 9)) for r in bars.collect()] == [("before_d", 0.3)]


# --- the Spark session's own time zone (a launch's --conf or a cluster's spark-defaults.conf) ---


@pytest.fixture(params=["America/Toronto", "Asia/Manila"])
def session_zone(request, spark):
    spark.conf.set("spark.sql.session.timeZone", request.param)
    yield request.param
    spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_label_cut_offs_hold_in_any_session_time_zone(spark, session_zone):
    """A date cast to a timestamp is midnight in the session's zone: the cut-offs must not hang on it."""
    labels = _labels(spark)
    assert sorted(r["customer_id"] for r in network.confirmed_payers(labels, AS_OF).collect()) == [
        "before_d", "before_window"]
    at = network.confirmed_payers_at(labels, [AS_OF, date(2025, 5, 31)]).collect()
    assert sorted((r["as_of"], r["customer_id"]) for r in at) == [
        (date(2025, 5, 31), "before_window"), (AS_OF, "before_d"), (AS_OF, "before_window")]
    # A decision's date (a training point's as_of, the re-alert rule's day) is its UTC date.
    points = {r["customer_id"]: r["as_of"] for r in training_set.labelled_points(labels, AS_OF).collect()}
    assert points == {"before_d": date(2025, 5, 31), "before_window": date(2025, 5, 30)}
    bars = score.realert_bars(labels, None, AS_OF, cooldown_days=2, margin=0.1, min_score=0.2)
    assert sorted(r["customer_id"] for r in bars.collect()) == ["before_d", "before_window"]


def test_the_session_builder_sets_utc_whatever_was_set_before(spark, session_zone):
    from bantay import settings as settings_module
    from bantay.spark import session

    assert spark.conf.get("spark.sql.session.timeZone") == session_zone
    assert session(settings_module.load()) is spark
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
