"""Each sender feature family on one hand-built customer, with the numbers worked out by hand.

The customer lives in London (GMT in winter), is called John Smith, and is scored as of 2025-04-01:
the 30-day window is 2025-03-02..03-31, the 90-day window 2025-01-01..03-31.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from _sender_rows import customer, customers, fx_rates, transactions, txn
from pyspark.sql import SparkSession

from bantay.features import payments, spending, state
from bantay.features.profile import kyc_profile
from bantay.features.table import at_as_of, feature_table

AS_OF = date(2025, 4, 1)

P2P = [
    # 2024-12-01: only in the 365-day look-back; first payment to payee A.
    txn("c1", "2024-12-01T10:00:00", 20.0, amount="16.00", payee="A", payee_name="Maria Cruz"),
    # 40 days 2 hours later, same payee (not new), round GBP 25, "school fees".
    txn(
        "c1",
        "2025-01-10T12:00:00",
        30.0,
        amount="25.00",
        payee="A",
        payee_name="Maria Cruz",
        reference="School fees Jan",
    ),
    # 22:30 London = night; GBP 31.37 is not round but lands on PHP 2,000 at USD 0.02 per PHP; a gift.
    txn(
        "c1", "2025-02-15T22:30:00", 40.0, amount="31.37", payee="B", payee_name="Ana Reyes", reference="gift"
    ),
    # 01:00 London = night; Thailand; a payee with the sender's surname; e-wallet; round GBP 40.
    txn(
        "c1",
        "2025-03-20T01:00:00",
        50.0,
        amount="40.00",
        payee="C",
        payee_name="Juan SMITH",
        country="TH",
        channel="wallet",
        reference="payment",
    ),
    # 90 minutes later (a burst with the one before), crypto, a social-media handle as reference.
    txn(
        "c1",
        "2025-03-20T02:30:00",
        60.0,
        amount="47.11",
        payee="D",
        payee_name="Liza Santos",
        channel="crypto",
        reference="@liza.ph",
    ),
    # Booked on the as-of day itself: never counts.
    txn("c1", "2025-04-01T09:00:00", 900.0, payee="E", payee_name="Rosa Lim"),
]
OTHER = [
    # Not p2p: a domestic bank transfer (GB -> GB).
    txn(
        "c1",
        "2025-03-05T12:00:00",
        70.0,
        channel="bank_transfer",
        payee="landlord",
        payee_name="Flat Ltd",
        country="GB",
    ),
    # O8: MCC 5967 (30-day window) and a VPN merchant by name with no MCC (90-day window).
    txn(
        "c1",
        "2025-03-10T12:00:00",
        15.0,
        channel="card",
        mcc="5967",
        payee="m1",
        payee_name="Merchant 1",
        country="US",
    ),
    txn(
        "c1",
        "2025-01-05T12:00:00",
        10.0,
        channel="card",
        payee="m2",
        payee_name="SecureVPN Ltd",
        country="US",
    ),
    # O11: an airline ticket (MCC 3005), a hotel in PH (7011), cash from an ATM in PH (6011).
    txn(
        "c1",
        "2025-03-25T12:00:00",
        500.0,
        channel="card",
        mcc="3005",
        payee="m3",
        payee_name="Air",
        country="GB",
    ),
    txn(
        "c1",
        "2025-03-26T12:00:00",
        300.0,
        channel="card",
        mcc="7011",
        payee="m4",
        payee_name="Hotel",
        country="PH",
    ),
    txn(
        "c1",
        "2025-03-27T12:00:00",
        200.0,
        channel="card",
        mcc="6011",
        payee="m5",
        payee_name="ATM",
        country="PH",
    ),
    # Salary-like: an inbound domestic bank transfer; a foreign inbound transfer is not.
    txn(
        "c1",
        "2025-03-01T12:00:00",
        3000.0,
        direction="in",
        channel="bank_transfer",
        payee="employer",
        payee_name="Employer plc",
        country="GB",
    ),
    txn(
        "c1",
        "2025-02-01T12:00:00",
        100.0,
        direction="in",
        channel="bank_transfer",
        payee="friend",
        payee_name="A Friend",
        country="US",
    ),
]


@pytest.fixture(scope="module")
def frames(spark: SparkSession):
    txns = transactions(spark, P2P + OTHER)
    kyc = customers(spark, [customer("c1")])
    fx = fx_rates(spark, [(date(2025, 2, 15), "PHP", 0.02)])
    p2p = at_as_of(state.p2p_rows(txns, kyc, fx), AS_OF)
    daily = at_as_of(state.daily_rows(txns, kyc), AS_OF)
    return payments.prepare(p2p).cache(), daily.cache(), kyc


def _row(frame) -> dict:
    rows = frame.collect()
    assert len(rows) == 1
    values = rows[0].asDict()
    assert (values.pop("customer_id"), values.pop("as_of")) == ("c1", AS_OF)
    return values


def test_small_payments_counts_amounts_and_destinations(frames):
    assert _row(payments.small_payments(frames[0])) == {
        "n_p2p_30d": 2.0,
        "n_p2p_90d": 4.0,
        "n_p2p_ph_90d": 3.0,
        "n_p2p_source_90d": 1.0,
        "n_p2p_elsewhere_90d": 0.0,
        "share_p2p_ph_90d": 0.75,
        "p2p_usd_30d": 110.0,
        "p2p_usd_90d": 180.0,
        "p2p_usd_ph_90d": 130.0,
        # percentile_approx returns an observed value: the median of 30, 40, 50, 60 is 40; (50 - 30) / 40.
        "median_p2p_usd_90d": 40.0,
        "p2p_usd_iqr_ratio_90d": 0.5,
        "share_p2p_small_90d": 1.0,
        "n_p2p_days_90d": 3.0,
    }


def test_year_profile_describes_every_payment_of_the_look_back(frames):
    # All 5 payments (USD 20-60, so all small): PH for all but C (TH); night for B, C, D; round GBP 25 and 40
    # and the PHP 2,000 landing (GBP 16.00 is not a multiple of 5); keywords "School fees", "gift",
    # "@liza.ph".
    assert _row(payments.year_profile(frames[0])) == {
        "median_p2p_usd_365d": 40.0,
        "share_p2p_small_365d": 1.0,
        "share_p2p_ph_365d": 0.8,
        "share_p2p_night_365d": 0.6,
        "share_p2p_round_365d": 0.6,
        "share_p2p_keyword_365d": 0.6,
    }


def test_uneven_activity_counts_the_year_and_the_busiest_day(frames):
    values = _row(payments.uneven_activity(frames[0]))
    assert (values["n_p2p_365d"], values["max_p2p_per_day_90d"]) == (5.0, 2.0)
    # Gaps in days: 40 d 2 h, 36 d 10.5 h, 32 d 2.5 h, 1.5 h (the first payment has none).
    gaps = np.array([40 + 2 / 24, 36 + 10.5 / 24, 32 + 2.5 / 24, 1.5 / 24])
    assert values["gap_cv_365d"] == pytest.approx(gaps.std() / gaps.mean())


def test_escalation_compares_first_and_last_third(frames):
    values = _row(payments.escalation(frames[0]))
    # Thirds of 5 payments: [20, 30], [40, 50], [60]; median 20 -> 60.
    assert values["escalation_amount_ratio_365d"] == 3.0
    # First-third gap 40 days 2 hours (the first payment has none); last-third gap 1.5 hours.
    assert values["escalation_gap_ratio_365d"] == pytest.approx((40 + 2 / 24) / (1.5 / 24))
    # 2 payments in the last 30 days against 2 in the 60 before: 2 / (2 / 2 + 1).
    assert values["p2p_count_trend_90d"] == 1.0


def test_payees_new_and_unrelated(frames):
    assert _row(payments.payees(frames[0])) == {
        "n_payees_30d": 2.0,
        "n_payees_90d": 4.0,
        "n_payees_365d": 4.0,
        # A was first paid 40 days before its 90-day payment; B, C, D are paid for the first time.
        "share_p2p_new_payee_90d": 0.75,
        # Cruz, Reyes and Santos differ from Smith; "Juan SMITH" does not.
        "share_p2p_unrelated_surname_90d": 0.75,
        # Concentration: A, the most-paid payee, has 2 of the 5 payments of the year.
        "n_p2p_top_payee_365d": 2.0,
        "share_p2p_top_payee_365d": 0.4,
        # Payees in order A, A, B, C, D: 3 of the 4 payments after the first switch payee.
        "share_p2p_payee_switch_365d": 0.75,
    }


def test_night_payments_use_the_local_hour(frames):
    assert _row(payments.night_payments(frames[0])) == {
        "share_p2p_night_30d": 1.0,
        "share_p2p_night_90d": 0.75,
    }


def test_round_amounts_in_sending_currency_or_landing_on_php(frames):
    # GBP 25.00 and 40.00 are round; GBP 31.37 lands on PHP 2,000; GBP 47.11 is neither.
    assert _row(payments.round_amounts(frames[0])) == {"share_p2p_round_90d": 0.75}


def test_references_match_keywords_and_handles(frames):
    assert _row(payments.references(frames[0])) == {"share_p2p_keyword_90d": 0.75}


def test_channels_share_each_channel(frames):
    assert _row(payments.channels(frames[0])) == {
        "share_p2p_remittance_90d": 0.5,
        "share_p2p_wallet_90d": 0.25,
        "share_p2p_crypto_90d": 0.25,
        "share_p2p_cash_90d": 0.0,
    }


def test_family_ties_nationality_and_surname(frames):
    assert _row(payments.family_ties(frames[0])) == {
        "share_p2p_to_nationality_90d": 0.0,
        "share_payees_same_surname_365d": 0.25,
    }


def test_bursts_count_payments_within_two_hours(frames):
    assert _row(payments.bursts(frames[0])) == {"n_p2p_burst_90d": 2.0, "share_p2p_burst_90d": 0.5}


def test_related_spending_by_mcc_and_merchant_name(frames):
    assert _row(spending.related_spending(frames[1])) == {
        "n_related_card_30d": 1.0,
        "n_related_card_90d": 2.0,
        "related_card_usd_90d": 25.0,
        # Two kinds: adult content (MCC 5967) and a VPN (by name).
        "n_related_groups_90d": 2.0,
    }


def test_travel_airline_lodging_and_cash_abroad(frames):
    assert _row(spending.travel(frames[1])) == {
        "n_airline_90d": 1.0,
        "n_lodging_abroad_90d": 1.0,
        "cash_in_destination_usd_90d": 200.0,
    }


def test_baseline_activity_totals_and_salary_like_inflows(frames):
    values = _row(spending.baseline_activity(frames[1]))
    # Outbound in 90 days: 4 p2p + domestic transfer + 2 related card + airline + hotel + ATM = 10.
    assert values == {
        "share_out_night_90d": pytest.approx(3 / 10),
        "n_out_90d": 10.0,
        "out_usd_90d": 180.0 + 70 + 25 + 500 + 300 + 200,
        "n_in_90d": 2.0,
        "in_usd_90d": 3100.0,
        "salary_like_in_usd_90d": 3000.0,
        "n_card_90d": 5.0,
        # Days: 01-05, 01-10, 02-01, 02-15, 03-01, 03-05, 03-10, 03-20, 03-25, 03-26, 03-27; plus 2024-12-01.
        "n_active_days_90d": 11.0,
        "n_active_days_365d": 12.0,
        "share_out_p2p_90d": pytest.approx(4 / 10),
        "p2p_usd_to_in_usd_90d": pytest.approx(180 / 3101),
    }


def test_kyc_profile_age_gender_tenure(spark, frames):
    spine = spark.createDataFrame([("c1", AS_OF)], "customer_id string, as_of date")
    # Born 1970-06-15: 54 at 2025-04-01; onboarded 2020-01-01: 1917 days.
    assert _row(kyc_profile(spine, frames[2])) == {"age_years": 54.0, "is_male": 1.0, "tenure_days": 1917.0}


def test_feature_table_one_row_in_catalogue_order(frames):
    p2p, daily, kyc = frames
    table = feature_table(p2p, spending.activity_features(daily), kyc)
    from bantay.features import catalogue

    assert table.columns == ["customer_id", "as_of", *catalogue.model_columns()]
    assert dict(table.dtypes)["n_p2p_90d"] == "double"
    values = _row(table)
    assert (values["n_p2p_90d"], values["n_airline_90d"], values["age_years"]) == (4.0, 1.0, 54.0)
