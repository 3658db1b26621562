"""Row-level predicates of `bantay.features.common`, each on a few hand-built rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bantay.features import common


def test_is_night_local_uses_each_rows_own_time_zone(spark):
    rows = [
        ("London 22:30 GMT", datetime(2025, 2, 10, 22, 30), "Europe/London"),
        ("Sydney 22:30 AEDT (UTC+11)", datetime(2025, 2, 10, 11, 30), "Australia/Sydney"),
        ("London 22:30 BST (UTC+1)", datetime(2025, 7, 10, 21, 30), "Europe/London"),
        (
            "Sydney 11:30 UTC is 22:30 there, but 11:30 in London",
            datetime(2025, 2, 10, 11, 30),
            "Europe/London",
        ),
        ("London 03:00 is no longer night", datetime(2025, 2, 10, 3, 0), "Europe/London"),
        ("Manila 02:59", datetime(2025, 2, 10, 18, 59), "Asia/Manila"),
    ]
    frame = spark.createDataFrame(rows, "case string, booked_at timestamp, timezone string")
    got = {
        r["case"]: (r["hour"], r["night"])
        for r in frame.select(
            "case", common.local_hour().alias("hour"), common.is_night_local().alias("night")
        ).collect()
    }
    assert got == {
        "London 22:30 GMT": (22, True),
        "Sydney 22:30 AEDT (UTC+11)": (22, True),
        "London 22:30 BST (UTC+1)": (22, True),
        "Sydney 11:30 UTC is 22:30 there, but 11:30 in London": (11, False),
        "London 03:00 is no longer night": (3, False),
        "Manila 02:59": (2, True),
    }


def test_is_cross_border_p2p_selects_outbound_person_to_person_abroad(spark):
    rows = [
        ("remittance to PH", "out", "remittance", None, "PH", "GB", True),
        ("cash pick-up in TH", "out", "cash", None, "TH", "GB", True),
        ("bank transfer at home", "out", "bank_transfer", None, "GB", "GB", False),
        ("card purchase abroad", "out", "card", "5816", "PH", "GB", False),
        ("remittance with a money-transfer MCC", "out", "remittance", "4829", "PH", "GB", True),
        ("ATM cash abroad", "out", "cash", "6011", "PH", "GB", False),
        ("inbound remittance", "in", "remittance", None, "PH", "GB", False),
        ("unknown country", "out", "remittance", None, None, "GB", False),
    ]
    frame = spark.createDataFrame(
        rows,
        "case string, direction string, channel string, mcc string, "
        "counterparty_country string, residence_country string, expected boolean",
    )
    got = frame.select("case", "expected", common.is_cross_border_p2p().alias("p2p")).collect()
    assert [(r["case"], r["p2p"]) for r in got] == [(r["case"], r["expected"]) for r in got]


def test_is_round_amount_in_sending_currency_or_php(spark):
    rows = [
        ("GBP 25.00", Decimal("25.00"), None, True),
        ("GBP 25.50", Decimal("25.50"), None, False),
        ("GBP 31.37 = PHP 2,000.00", Decimal("31.37"), 2000.0, True),
        ("GBP 31.50 = PHP 2,008 (0.4% off)", Decimal("31.50"), 2008.0, True),
        ("GBP 31.90 = PHP 2,030 (1.5% off)", Decimal("31.90"), 2030.0, False),
        ("GBP 3.13 = PHP 200: under PHP 500", Decimal("3.13"), 200.0, False),
    ]
    frame = spark.createDataFrame(
        rows, "case string, amount decimal(18,2), amount_php double, expected boolean"
    )
    got = frame.select("case", "expected", common.is_round_amount().alias("round")).collect()
    assert [(r["case"], r["round"]) for r in got] == [(r["case"], r["expected"]) for r in got]


def test_reference_keyword_matches_typology_wording_and_handles(spark):
    rows = [
        ("School Fees", True),
        ("for the kids", True),
        ("medical", True),
        ("Gift :)", True),
        ("uniform", True),
        ("family support", True),
        ("@maria_ph", True),
        ("ig: maria", True),
        ("invoice 2025-03", False),
        ("rent", False),
        (None, False),
        ("email me at x@y.com", False),
    ]
    frame = spark.createDataFrame(rows, "reference string, expected boolean")
    got = frame.select("reference", "expected", common.reference_keyword().alias("hit")).collect()
    assert [(r["reference"], r["hit"]) for r in got] == [(r["reference"], r["expected"]) for r in got]


def test_related_spend_and_travel_predicates(spark):
    rows = [
        ("out", "card", "7273", "Match Group", "US", "GB"),
        ("out", "card", "5999", "NordVPN", "PA", "GB"),
        ("out", "card", "5411", "Tesco", "GB", "GB"),
        ("out", "card", "3058", "Delta", "US", "GB"),
        ("out", "card", "7011", "Hotel Cebu", "PH", "GB"),
        ("out", "card", "7011", "Hotel Leeds", "GB", "GB"),
        ("out", "card", "6011", "ATM", "PH", "GB"),
    ]
    frame = spark.createDataFrame(
        rows,
        "direction string, channel string, mcc string, counterparty_name string, "
        "counterparty_country string, residence_country string",
    )
    got = [
        tuple(r)
        for r in frame.select(
            common.is_related_spend(),
            common.is_airline(),
            common.is_lodging_abroad(),
            common.is_cash_in_destination(),
        ).collect()
    ]
    assert got == [
        (True, False, False, False),  # dating MCC
        (True, False, False, False),  # VPN by name under a generic MCC
        (False, False, False, False),
        (False, True, False, False),  # airline MCC range 3000-3299
        (False, False, True, False),  # hotel abroad
        (False, False, False, False),  # hotel at home
        (False, False, False, True),  # ATM in PH
    ]
