"""Payee-cluster table and the customers' network features (F1-F5), on a small hand-worked example."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from bantay.features.catalogue import FEATURES, model_columns
from bantay.features.network import NETWORK_FEATURES, cluster_table, customer_network_features

AS_OF = date(2025, 4, 1)  # the 90-day window starts 2025-01-01, the 365-day window 2024-04-01

P2P = ("customer_id string, txn_id string, booking_date date, booked_at timestamp, amount_usd double, "
       "channel string, counterparty_id string, counterparty_name string, counterparty_country string, "
       "counterparty_city string, counterparty_phone string, counterparty_account string, "
       "residence_country string")
LABELS = "customer_id string, label int, decided_at timestamp, typology string"


def _p2p(spark: SparkSession) -> DataFrame:
    # (customer, residence, day, USD, channel, payee, city, country, account)
    payments = [
        # Cash pick-up (remittance, no account) in Metro Manila.
        ("c1", "GB", date(2025, 3, 10), 50.0, "remittance", "pa", "Quezon City", "PH", None),
        ("c2", "US", date(2025, 3, 12), 30.0, "cash", "pb", "quezon city", "PH", "X1"),  # cash channel, NCR
        ("c3", "AU", date(2025, 2, 1), 20.0, "wallet", "pa", "Quezon City", "PH", "W1"),  # NCR
        # Only in the year window, in Central Luzon.
        ("c1", "GB", date(2024, 6, 1), 100.0, "bank_transfer", "pa", "Angeles", "PH", "A1"),
        ("c1", "GB", date(2025, 3, 20), 40.0, "remittance", "pc", "Cebu City", "PH", "A2"),  # Central Visayas
        ("c4", "GB", date(2025, 3, 25), 25.0, "remittance", "pc", "Cebu City", "PH", None),  # cash pick-up
        ("c4", "GB", date(2025, 4, 1), 999.0, "cash", "pc", "Cebu City", "PH", None),  # the as-of day: never
        ("c5", "US", date(2024, 3, 1), 10.0, "cash", "pd", "Davao", "PH", None),  # older than a year: never
        ("c2", "US", date(2025, 1, 15), 60.0, "remittance", "pe", "Bangkok", "TH", None),  # cash pick-up, TH
        # Only in the year window, in a PH city outside the F4 regions.
        ("c6", "CA", date(2024, 12, 1), 35.0, "bank_transfer", "pd", "Davao", "PH", "A3"),
    ]
    rows = [
        (customer, f"t{n}", day, datetime(day.year, day.month, day.day, 9), usd, channel, payee, "Name",
         country, city, None, account, residence)
        for n, (customer, residence, day, usd, channel, payee, city, country, account) in enumerate(payments)
    ]
    return spark.createDataFrame(rows, P2P)


def _clusters(spark: SparkSession) -> DataFrame:
    # pa and pb are one cluster; pf is a known payee nobody paid in the year.
    return spark.createDataFrame(
        [("pa", "pa"), ("pb", "pa"), ("pc", "pc"), ("pd", "pd"), ("pe", "pe"), ("pf", "pf")],
        "counterparty_id string, cluster_id string",
    )


def _labels(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("c2", 1, datetime(2025, 2, 1), "ocse_payer"),  # confirmed before the as-of date
            ("c3", 1, datetime(2025, 4, 1), "ocse_payer"),  # decided on the as-of date: not known yet
            ("c1", 0, datetime(2025, 1, 10), "cleared"),
            ("c4", 1, datetime(2024, 12, 1), "ocse_payer"),  # later reversed: the latest decision counts
            ("c4", 0, datetime(2025, 3, 1), "cleared"),
        ],
        LABELS,
    )


@pytest.fixture()
def frames(spark: SparkSession) -> tuple[DataFrame, DataFrame, DataFrame]:
    return _p2p(spark), _clusters(spark), _labels(spark)


CLUSTER_COLUMNS = (
    "cluster_id string, n_members long, n_senders_90d long, n_sender_countries_90d long, "
    "n_payments_90d long, amount_usd_90d double, n_senders_365d long, n_payments_365d long, "
    "share_cash_pickup_365d double, region string, n_confirmed_payers_365d long, confirmed_risk_365d double"
)
EXPECTED_CLUSTERS = [
    # pa+pb: 90d senders c1 c2 c3 from GB US AU paying 50+30+20; a year: 4 payments, 2 cash pick-ups,
    # 3 NCR and 1 Central Luzon; c2 confirmed (c3 only on the as-of day): risk 1 / (3 + 2).
    ("pa", 2, 3, 3, 3, 100.0, 3, 4, 0.5, "PH-NCR", 1, 0.2),
    # pc: c1 and c4 (both GB); c4's 999 on the as-of day is left out; c4's label was reversed.
    ("pc", 1, 2, 1, 2, 65.0, 2, 2, 0.5, "PH-Central Visayas", 0, 0.0),
    # pd: only c6 in the year (c5 paid it more than a year ago), in a PH city outside the F4 regions.
    ("pd", 1, 0, 0, 0, 0.0, 1, 1, 0.0, "PH-other", 0, 0.0),
    # pe: one cash pick-up in Thailand by confirmed c2: risk 1 / (1 + 2).
    ("pe", 1, 1, 1, 1, 60.0, 1, 1, 1.0, "TH", 1, 1 / 3),
    # pf: a known payee nobody paid: zero counts, no cash share or region.
    ("pf", 1, 0, 0, 0, 0.0, 0, 0, None, None, 0, 0.0),
]


def test_cluster_table_counts_senders_countries_cash_and_region(spark, frames):
    p2p, clusters, labels = frames
    expected = spark.createDataFrame(EXPECTED_CLUSTERS, CLUSTER_COLUMNS)
    assertDataFrameEqual(cluster_table(p2p, clusters, labels, AS_OF), expected)


# In NETWORK_FEATURES order: share to shared clusters 90d / 365d, max and sum of other senders 90d, max sender
# countries 90d, max members, share to multi-member clusters, cash pick-up share, share to F4 regions,
# payments to clusters with other confirmed payers, max confirmed-risk, payment-weighted confirmed-risk.
EXPECTED_FEATURES = [
    # c1 pays pa (2 of its 3 payments; 2 other senders, c2 confirmed) and pc (1 other sender, not confirmed).
    ("c1", 1.0, 1.0, 2.0, 3.0, 3.0, 2.0, 2 / 3, 0.5, 1.0, 2.0, 0.2, (2 * 0.2 + 1 * 0.0) / 3),
    # c2 is confirmed itself: its own label must not make pa or pe look confirmed to it.
    ("c2", 0.5, 0.5, 2.0, 2.0, 3.0, 2.0, 0.5, 0.75, 0.5, 0.0, 0.0, 0.0),
    # c3 (its own label not known yet) pays pa, which confirmed c2 also pays: 1 / (3 + 2).
    ("c3", 1.0, 1.0, 2.0, 2.0, 3.0, 2.0, 1.0, 0.5, 1.0, 1.0, 0.2, 0.2),
    ("c4", 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0),
    # c6 paid only before the 90-day window: 90-day shares are undefined, 90-day counts 0.
    ("c6", None, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
]


FEATURE_COLUMNS = "customer_id string, " + ", ".join(f"{spec.name} double" for spec in NETWORK_FEATURES)


def _features(p2p: DataFrame, clusters: DataFrame, labels: DataFrame) -> DataFrame:
    table = cluster_table(p2p, clusters, labels, AS_OF)
    return customer_network_features(p2p, clusters, table, labels, AS_OF)


def test_customer_network_features_excludes_own_label(spark, frames):
    p2p, clusters, labels = frames
    expected = spark.createDataFrame(EXPECTED_FEATURES, FEATURE_COLUMNS)
    assertDataFrameEqual(_features(p2p, clusters, labels), expected)


def test_customer_network_features_ignores_labels_decided_on_or_after_as_of(spark, frames):
    p2p, clusters, labels = frames
    late = spark.createDataFrame(
        [
            ("c1", 1, datetime(2025, 4, 1, 0, 0), "ocse_payer"),  # the as-of day itself
            ("c4", 1, datetime(2025, 6, 1), "ocse_payer"),
            ("c2", 0, datetime(2025, 4, 2), "cleared"),  # a later reversal is not known yet either
        ],
        LABELS,
    )
    labels = labels.unionByName(late)
    # The same values as without the late labels (the two tests above).
    expected = spark.createDataFrame(EXPECTED_FEATURES, FEATURE_COLUMNS)
    assertDataFrameEqual(_features(p2p, clusters, labels), expected)
    assertDataFrameEqual(cluster_table(p2p, clusters, labels, AS_OF),
                         spark.createDataFrame(EXPECTED_CLUSTERS, CLUSTER_COLUMNS))


def test_network_features_are_in_the_catalogue():
    names = [spec.name for spec in NETWORK_FEATURES]
    assert len(set(names)) == len(names)
    assert all(spec in FEATURES for spec in NETWORK_FEATURES)
    assert model_columns()[-len(names):] == names
    assert {spec.typology_id for spec in NETWORK_FEATURES} == {"F1", "F2", "F3", "F4", "F5"}
