"""Payee-cluster table and the customers' network features (F1-F5), on a small hand-worked example."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
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
    "share_cash_pickup_365d double, region string, n_confirmed_payers_365d long, confirmed_risk_365d double, "
    "is_hub boolean"
)
EXPECTED_CLUSTERS = [
    # No cluster is a hub: 3 senders at most, far below the floor of HUB_MIN_SENDERS.
    # pa+pb: 90d senders c1 c2 c3 from GB US AU paying 50+30+20; a year: 4 payments, 2 cash pick-ups,
    # 3 NCR and 1 Central Luzon; c2 confirmed (c3 only on the as-of day): risk 1 / (3 + 2).
    ("pa", 2, 3, 3, 3, 100.0, 3, 4, 0.5, "PH-NCR", 1, 0.2, False),
    # pc: c1 and c4 (both GB); c4's 999 on the as-of day is left out; c4's label was reversed.
    ("pc", 1, 2, 1, 2, 65.0, 2, 2, 0.5, "PH-Central Visayas", 0, 0.0, False),
    # pd: only c6 in the year (c5 paid it more than a year ago), in a PH city outside the F4 regions.
    ("pd", 1, 0, 0, 0, 0.0, 1, 1, 0.0, "PH-other", 0, 0.0, False),
    # pe: one cash pick-up in Thailand by confirmed c2: risk 1 / (1 + 2).
    ("pe", 1, 1, 1, 1, 60.0, 1, 1, 1.0, "TH", 1, 1 / 3, False),
    # pf: a known payee nobody paid: zero counts, no cash share or region.
    ("pf", 1, 0, 0, 0, 0.0, 0, 0, None, None, 0, 0.0, False),
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


# --- hubs: a payee paid by a large share of the book's senders is no facilitator cluster ---

HUB_AS_OF = date(2025, 4, 1)


def _hub_world(spark: SparkSession) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Ten senders s0-s9 in the year (the book). The exchange EX (one record, US) is paid by s0-s6, two of
    them confirmed (s5, s6); the facilitator cluster FA (records fa, fb, PH) by s6 (confirmed) and s7; s8
    pays a payee of its own (pz). On the as-of day s8, s9 and three customers outside the book pay FB: those
    payments are not known yet, so FB is no hub (one sender before as_of, s9)."""
    payments = [(f"s{n}", date(2025, 3, 1 + n), "ex", "US") for n in range(7)]
    payments += [("s6", date(2025, 3, 10), "fa", "PH"), ("s7", date(2025, 3, 11), "fb", "PH"),
                 ("s8", date(2025, 3, 12), "pz", "PH"), ("s9", date(2025, 3, 13), "fc", "PH")]
    payments += [(c, HUB_AS_OF, "fc", "PH") for c in ("s8", "s9", "x1", "x2", "x3")]
    rows = [
        (customer, f"t{n}", day, datetime(day.year, day.month, day.day, 9), 50.0, "bank_transfer", payee,
         "Name", country, "Quezon City" if country == "PH" else "Miami", None, "A1", "GB")
        for n, (customer, day, payee, country) in enumerate(payments)
    ]
    clusters = spark.createDataFrame(
        [("ex", "ex"), ("fa", "fa"), ("fb", "fa"), ("pz", "pz"), ("fc", "fc")],
        "counterparty_id string, cluster_id string",
    )
    labels = spark.createDataFrame(
        [("s5", 1, datetime(2025, 1, 5), "ocse_payer"), ("s6", 1, datetime(2025, 1, 6), "ocse_payer")], LABELS
    )
    return spark.createDataFrame(rows, P2P), clusters, labels


def test_cluster_table_marks_a_cluster_paid_by_a_large_share_of_the_senders_as_a_hub(spark):
    p2p, clusters, labels = _hub_world(spark)
    # 10 senders in the year: share 0.3 allows 3 senders, the floor 2; EX has 7, FA 2, FC 1 (as-of day out).
    table = cluster_table(p2p, clusters, labels, HUB_AS_OF, hub_share=0.3, hub_floor=2)
    hubs = {r["cluster_id"]: (r["n_senders_365d"], r["is_hub"]) for r in table.collect()}
    assert hubs == {"ex": (7, True), "fa": (2, False), "pz": (1, False), "fc": (1, False)}
    # The floor wins over the share: with a floor of 7, seven senders are not more than it.
    floored = cluster_table(p2p, clusters, labels, HUB_AS_OF, hub_share=0.3, hub_floor=7)
    assert floored.where("is_hub").count() == 0


def test_customer_network_features_leave_hubs_out(spark):
    p2p, clusters, labels = _hub_world(spark)
    table = cluster_table(p2p, clusters, labels, HUB_AS_OF, hub_share=0.3, hub_floor=2)
    features = {r["customer_id"]: r for r in customer_network_features(p2p, clusters, table, labels,
                                                                        HUB_AS_OF).collect()}
    # s0-s4 paid only the exchange, which confirmed s5 and s6 also paid: no network row at all.
    assert not {"s0", "s1", "s2", "s3", "s4", "s5"} & set(features)
    # s7 paid the facilitator cluster FA that confirmed s6 paid: F5 as before, from FA alone.
    s7 = features["s7"]
    assert s7["n_pay_confirmed_cluster_365d"] == 1.0
    assert s7["max_confirmed_risk_cluster_365d"] == 1 / (2 + 2)
    assert s7["max_other_senders_cluster_90d"] == 1.0 and s7["max_members_cluster_365d"] == 2.0
    # s6 paid both: its exchange payment is left out of every share (1 of 1 payment to FA, shared with s7).
    s6 = features["s6"]
    assert s6["share_pay_shared_cluster_365d"] == 1.0 and s6["share_pay_multi_member_cluster_365d"] == 1.0
    assert s6["n_pay_confirmed_cluster_365d"] == 0.0  # its own label never counts
    # Without the hub rule (the default floor of 50 senders), the exchange makes s0 a confirmed-cluster payer.
    plain = cluster_table(p2p, clusters, labels, HUB_AS_OF)
    s0 = (customer_network_features(p2p, clusters, plain, labels, HUB_AS_OF)
          .where(F.col("customer_id") == "s0").first())
    assert s0 is not None and s0["n_pay_confirmed_cluster_365d"] == 1.0
    assert s0["max_confirmed_risk_cluster_365d"] == 2 / (7 + 2)
