"""The activity families' running totals: moved from day to day, they equal a sum over the whole look-back."""

from __future__ import annotations

import logging
import shutil
from datetime import date, timedelta

import pytest
from _sender_rows import customer, customers, fx_rates, transactions, txn, write_validated
from _store_world import features_settings

from bantay import ledger
from bantay.features import spending, store
from bantay.features.common import LOOKBACK_DAYS
from bantay.features.table import at_as_of

FIRST = date(2025, 3, 10)


def _card(customer_id: str, day: date, usd: float, mcc: str) -> tuple:
    return txn(
        customer_id, f"{day}T12:00:00", usd, channel="card", mcc=mcc, payee="m", payee_name="M", country="GB"
    )


def _rows() -> list[tuple]:
    return [
        # c1: a dating payment on the last day of the 30-day window, a VPN payment on the last of the 90-day
        # one (both leave the next day), a grocery payment the day before.
        _card("c1", FIRST - timedelta(days=30), 19.99, "7273"),
        _card("c1", FIRST - timedelta(days=90), 7.10, "4816"),
        _card("c1", FIRST - timedelta(days=1), 42.35, "5411"),
        # c2: one salary-like inflow on the first day of the year's look-back, nothing since.
        txn("c2", f"{FIRST - timedelta(days=365)}T09:00:00", 1234.56, direction="in",
            channel="bank_transfer", payee="employer", payee_name="Acme", country="GB"),
        # c3: first seen on FIRST itself, then two days later.
        _card("c3", FIRST, 0.1, "5411"),
        _card("c3", FIRST + timedelta(days=2), 0.2, "5411"),
        _card("c1", FIRST + timedelta(days=2), 0.3, "7273"),
    ]


def _sum_over_look_back(spark, settings, as_of: date) -> dict:
    """The families summed over every state day of the look-back: what a first run writes."""
    daily = store.read_state(spark, settings, "daily", as_of - timedelta(days=LOOKBACK_DAYS), as_of)
    return _by_customer(spending.activity_features(at_as_of(daily, as_of)))


def _by_customer(frame) -> dict:
    return {row["customer_id"]: row.asDict() for row in frame.collect()}


def _run(spark, settings, as_of: date) -> dict:
    store.update_state(spark, settings, as_of - timedelta(days=LOOKBACK_DAYS), as_of)
    return _by_customer(store.activity_features(spark, settings, as_of))


@pytest.fixture
def world(spark, tmp_path):
    out = tmp_path / "out"
    write_validated(out, "transactions", transactions(spark, _rows()))
    write_validated(out, "customers", customers(spark, [customer("c1"), customer("c2"), customer("c3")]))
    write_validated(out, "fx_rates", fx_rates(spark, [(FIRST, "PHP", 0.0175)]))
    return features_settings(out)


def test_activity_totals_moved_day_by_day_equal_the_sum_over_the_look_back(spark, world, caplog):
    caplog.set_level(logging.INFO, logger="bantay.features.store")
    first = _run(spark, world, FIRST)
    assert first == _sum_over_look_back(spark, world, FIRST)
    assert sorted(first) == ["c1", "c2"]
    c1 = first["c1"]
    assert (c1["n_related_card_30d"], c1["n_related_card_90d"], c1["n_related_groups_90d"]) == (1.0, 2.0, 2.0)
    assert (c1["related_card_usd_90d"], c1["n_card_90d"], c1["out_usd_90d"]) == (27.09, 3.0, 69.44)
    assert (first["c2"]["n_active_days_365d"], first["c2"]["n_in_90d"]) == (1.0, 0.0)

    # A day later the dating payment has left the 30-day window, the VPN one the 90-day window and c2's inflow
    # the year; c3 has arrived.
    caplog.clear()
    second = _run(spark, world, FIRST + timedelta(days=1))
    assert "moved from 2025-03-10" in caplog.text
    assert second == _sum_over_look_back(spark, world, FIRST + timedelta(days=1))
    assert sorted(second) == ["c1", "c3"]
    c1 = second["c1"]
    assert (c1["n_related_card_30d"], c1["n_related_card_90d"], c1["n_related_groups_90d"]) == (0.0, 1.0, 1.0)
    assert (c1["out_usd_90d"], c1["n_active_days_90d"], c1["n_active_days_365d"]) == (62.34, 2.0, 3.0)

    # Two days at once, then the same day again: still equal.
    for as_of in (FIRST + timedelta(days=3), FIRST + timedelta(days=3)):
        caplog.clear()
        moved = _run(spark, world, as_of)
        assert "moved from" in caplog.text
        assert moved == _sum_over_look_back(spark, world, as_of)
    assert moved["c1"]["n_related_card_30d"] == 1.0
    # Summed exactly (as longs): a sum of the two doubles would give 0.30000000000000004.
    assert moved["c3"]["out_usd_90d"] == 0.3


def test_activity_totals_are_summed_again_when_a_day_of_their_look_back_changed(spark, world, caplog):
    caplog.set_level(logging.INFO, logger="bantay.features.store")
    _run(spark, world, FIRST)
    # The validator runs again on an old day of the look-back and accepts one more payment of c1's.
    day = FIRST - timedelta(days=30)
    folder = ledger.validated_path(world.output_root, "transactions") / f"booking_date={day}"
    shutil.rmtree(folder)
    again = [row for row in _rows() if row[18] == day] + [_card("c1", day, 5.0, "7273")]
    transactions(spark, again).drop("booking_date").coalesce(1).write.parquet(str(folder))

    caplog.clear()
    after = _run(spark, world, FIRST + timedelta(days=1))
    assert "written again" in caplog.text
    assert after == _sum_over_look_back(spark, world, FIRST + timedelta(days=1))
    # Both dating payments of that day are out of the 30-day window as of the next day: had the totals been
    # moved from the first run's, the new one would have been taken away without ever being added.
    assert after["c1"]["n_related_card_30d"] == 0.0
    assert after["c1"]["n_related_card_90d"] == 2.0


def test_activity_totals_are_summed_again_for_an_earlier_or_distant_day_and_with_full(spark, world, caplog):
    caplog.set_level(logging.INFO, logger="bantay.features.store")
    _run(spark, world, FIRST + timedelta(days=3))
    for as_of in (FIRST, FIRST + timedelta(days=spending.SHORTEST_WINDOW + 1)):
        caplog.clear()
        assert _run(spark, world, as_of) == _sum_over_look_back(spark, world, as_of)
        assert "summed over the look-back: they are as of" in caplog.text
    # With `full`, a day after the kept totals is summed over the look-back too.
    _run(spark, world, FIRST)
    caplog.clear()
    as_of = FIRST + timedelta(days=1)
    full = _by_customer(store.activity_features(spark, world, as_of, full=True))
    assert "moved from" not in caplog.text
    assert full == _sum_over_look_back(spark, world, as_of)


@pytest.fixture
def dense(spark, tmp_path):
    """Two customers active nearly every day for 440 days: every day entering or leaving a window has rows."""
    out = tmp_path / "dense"
    rows = []
    for n in range(440):
        day = FIRST - timedelta(days=400) + timedelta(days=n)
        rows.append(_card("c1", day, round(1.01 * (n % 7 + 1), 2), ("7273", "4816", "5411", "6051")[n % 4]))
        if n % 3:
            rows.append(txn("c2", f"{day}T23:30:00", 10.0 + n % 5, direction="in", channel="bank_transfer",
                            payee="employer", payee_name="Acme", country="GB"))
        if n % 5 == 0:
            rows.append(txn("c2", f"{day}T21:30:00", 3.33, payee="P", payee_name="Ana Reyes"))
    write_validated(out, "transactions", transactions(spark, rows))
    write_validated(out, "customers", customers(spark, [customer("c1"), customer("c2")]))
    write_validated(out, "fx_rates", fx_rates(spark, [(FIRST, "PHP", 0.0175)]))
    return features_settings(out)


def test_activity_totals_moved_by_one_two_and_thirty_days_equal_the_sum_over_the_look_back(
    spark, dense, caplog
):
    caplog.set_level(logging.INFO, logger="bantay.features.store")
    _run(spark, dense, FIRST)
    for gap in (1, 2, spending.SHORTEST_WINDOW):
        as_of = FIRST + timedelta(days=gap)
        caplog.clear()
        moved = _run(spark, dense, as_of)
        assert "moved from" in caplog.text
        assert moved == _sum_over_look_back(spark, dense, as_of), gap
        assert moved["c1"]["n_active_days_365d"] == 365.0
        assert moved["c1"]["n_related_groups_90d"] == 3.0  # dating, VPN and adult tokens; groceries are none
        _run(spark, dense, FIRST)  # back to the first day's totals for the next gap


def test_advance_totals_refuses_a_move_backwards_or_past_the_shortest_window(spark):
    daily = spark.createDataFrame([], store.state_schema(spark, "daily"))
    totals = spending.window_totals(at_as_of(daily, FIRST))
    with pytest.raises(ValueError, match="0 to 30 days"):
        spending.advance_totals(totals, daily, FIRST, FIRST - timedelta(days=1))
    with pytest.raises(ValueError, match="not 31"):
        spending.advance_totals(totals, daily, FIRST, FIRST + timedelta(days=31))


def test_days_to_advance_reads_the_days_entering_and_leaving_each_window():
    assert spending.days_to_advance(FIRST, FIRST) == []
    assert spending.days_to_advance(FIRST, FIRST + timedelta(days=2)) == [
        FIRST - timedelta(days=n) for n in (365, 364, 90, 89, 30, 29)
    ] + [FIRST, FIRST + timedelta(days=1)]
    assert spending.days_to_advance(FIRST, FIRST + timedelta(days=1)) == [
        FIRST - timedelta(days=365),
        FIRST - timedelta(days=90),
        FIRST - timedelta(days=30),
        FIRST,
    ]
