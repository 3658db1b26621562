"""GX suites on hand-built frames: a failing frame reports exactly the expectations it breaks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pyspark.sql import SparkSession

from bantay import ledger
from bantay.quality import quarantine, suites
from bantay.quality.rules import rules_for


def test_run_suite_reports_which_fx_expectations_failed(spark: SparkSession) -> None:
    day = date(2025, 3, 1)
    frame = spark.createDataFrame(
        [
            (day, "GBP", 1.25),
            (day, "GBP", 1.25),  # the same currency and date twice: compound uniqueness fails for both rows
            (day, "PHP", -0.02),  # not positive
            (day, "EURO", 1.1),
        ],  # not ISO 4217
        ledger.FX_RATES_SCHEMA,
    )
    result = suites.run_suite(frame, suites.fx_rates_suite())
    assert result["success"] is False
    failed = {(f["expectation"], f["column"]): f["unexpected_count"] for f in suites.failures(result)}
    assert failed == {
        ("expect_compound_columns_to_be_unique", "currency,rate_date"): 2,
        ("expect_column_values_to_be_between", "usd_per_unit"): 1,
        ("expect_column_values_to_be_in_set", "currency"): 1,
    }


def test_run_suite_passes_a_clean_frame_and_checks_types(spark: SparkSession) -> None:
    decided = datetime(2025, 2, 1, 12, tzinfo=UTC)
    labels = spark.createDataFrame(
        [("C1", 1, decided, "ocse_payer", True)],
        "customer_id string, label int, decided_at timestamp, typology string, customer_known boolean",
    )
    assert suites.run_suite(labels, suites.labels_suite())["success"] is True
    # The same row with the label as a string: the type expectation is the one that fails.
    as_text = labels.selectExpr(
        "customer_id", "cast(label as string) as label", "decided_at", "typology", "customer_known"
    )
    failed = suites.failures(suites.run_suite(as_text, suites.labels_suite()))
    assert [(f["expectation"], f["column"], f["observed_value"]) for f in failed] == [
        ("expect_column_values_to_be_of_type", "label", "StringType")
    ]


def test_flag_orders_rules_and_types_strings_with_try_cast(spark: SparkSession) -> None:
    # A CSV-like frame (every column a string): unparsable values become quarantined rows, never errors.
    columns = [f.name for f in ledger.TRANSACTIONS_SCHEMA.fields] + ["booking_date"]
    base = dict.fromkeys(columns)
    base.update(
        txn_id="T1",
        booked_at="2025-03-01 10:00:00Z",
        customer_id="C1",
        direction="out",
        channel="card",
        amount="12.50",
        currency="GBP",
        counterparty_id="P1",
        counterparty_country="PH",
        mcc="5411",
        booking_date="2025-03-01",
    )
    rows = [
        base,
        {**base, "txn_id": "T2", "amount": "twelve"},  # amount_not_positive
        {**base, "txn_id": "T3", "booked_at": "yesterday"},  # booked_at_null
        {**base, "txn_id": "T4", "booked_at": "2025-03-02T00:30:00+00:00"},  # booked_at_not_partition_date
        {**base, "txn_id": "T5", "mcc": "541", "amount": "-1"},  # two rules, amount first
    ]
    raw = spark.createDataFrame(
        [[r[c] for c in columns] for r in rows], ", ".join(f"{c} string" for c in columns)
    )
    customers = spark.createDataFrame([("C1",)], "customer_id string")
    rates = spark.createDataFrame([(date(2025, 3, 1), "GBP", 1.25)], ledger.FX_RATES_SCHEMA)
    flagged = quarantine.flag(
        quarantine.prepare(raw, "transactions", known_customers=customers, fx_rates=rates),
        rules_for("transactions", date(2025, 3, 2)),
    )
    got = {r["txn_id"]: list(r["__rules"]) for r in flagged.select("txn_id", "__rules").collect()}
    assert got == {
        "T1": [],
        "T2": ["amount_not_positive"],
        "T3": ["booked_at_null"],
        "T4": ["booked_at_not_partition_date"],
        "T5": ["amount_not_positive", "mcc_invalid"],
    }
    good = (
        quarantine.accepted(flagged, "transactions")
        .selectExpr("*", "cast(booked_at as string) as at")
        .first()
    )
    assert good is not None
    assert good["amount"] == Decimal("12.50") and good["amount_usd"] == 15.625
    assert good["at"] == "2025-03-01 10:00:00"  # the session time zone is UTC
