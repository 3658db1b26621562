"""Payee normalisation, the payee registry and payee clusters: hand-built rows, the real Spark engine."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from bantay.features import payees
from bantay.features.payees import (
    link_edges,
    normalise_payees,
    payee_registry,
    resolve_clusters,
    resolve_clusters_at,
    update_clusters,
)

RAW = ("counterparty_name string, counterparty_phone string, counterparty_account string, "
       "counterparty_city string, counterparty_country string")
CLUSTERS = "counterparty_id string, cluster_id string"
REGISTRY = ("counterparty_id string, counterparty_country string, surname_norm string, phone_e164 string, "
            "account_norm string, city_norm string, address_norm string")


@pytest.fixture()
def checkpoint_dir(spark: SparkSession, tmp_path) -> str:
    path = str(tmp_path / "checkpoints")
    spark.sparkContext.setCheckpointDir(path)
    return path


@pytest.fixture(params=["driver", "spark"])
def clustering(request, monkeypatch) -> str:
    """Both ways of finding the components: SciPy on the driver (edge lists up to `DRIVER_EDGES_LIMIT`,
    every test graph here) and min-label propagation in Spark (forced by a limit no edge list is under)."""
    if request.param == "spark":
        monkeypatch.setattr(payees, "DRIVER_EDGES_LIMIT", -1)
    return request.param


def _normalised(spark: SparkSession, rows: list[tuple], columns: str) -> list[tuple]:
    frame = normalise_payees(spark.createDataFrame(rows, RAW))
    return [tuple(row) for row in frame.select(*columns.split()).collect()]


def test_normalise_payees_folds_names(spark):
    rows = [
        ("  María  DE LA Cruz-Santos ", None, None, None, "PH"),  # accents, case, spacing, hyphenated surname
        ("José O'Neil Jr.", None, None, None, "PH"),  # apostrophe dropped; a suffix is not a surname
        ("Jose\u0301 Nin\u0303o", None, None, None, "PH"),  # decomposed accents (NFD) lose their marks
        ("ŞTEFAN Ţepeş", None, None, None, "RO"),  # Romanian cedilla letters, upper case
        ("Groß", None, None, None, "DE"),  # a letter that folds to two
        (" ... ", None, None, None, "PH"),  # nothing left: null, never an empty key
    ]
    assert _normalised(spark, rows, "name_norm surname_norm") == [
        ("maria de la cruz santos", "santos"),
        ("jose oneil jr", "oneil"),
        ("jose nino", "nino"),
        ("stefan tepes", "tepes"),
        ("gross", "gross"),
        (None, None),
    ]


def test_normalise_payees_writes_phones_in_e164(spark):
    rows = [
        (None, "0917 123 4567", None, None, "PH"),  # national with trunk 0
        (None, "+63-917-1234567", None, None, "PH"),  # international with dashes
        (None, "0063 917 123 4567", None, None, "PH"),  # 00 international prefix
        (None, "639171234567", None, None, "PH"),  # international without the plus
        (None, "9171234567", None, None, "PH"),  # national without the trunk 0
        (None, "+44 (0)20 7946 0958", None, None, "GB"),  # trunk 0 in brackets after the calling code
        (None, "(555) 123-4567", None, None, "US"),  # NANP national
        (None, "1-555-123-4567", None, None, "US"),  # NANP with the leading 1
        (None, "081 234 5678", None, None, "TH"),
        (None, "0917 123 4567", None, None, "XX"),  # national number, unknown calling code: no key
        (None, "0000000", None, None, "PH"),  # placeholder
        (None, "  ", None, None, "PH"),
        (None, None, None, None, "PH"),
    ]
    assert [row[0] for row in _normalised(spark, rows, "phone_e164")] == [
        "+639171234567", "+639171234567", "+639171234567", "+639171234567", "+639171234567",
        "+442079460958", "+15551234567", "+15551234567", "+66812345678", None, None, None, None,
    ]


def test_normalise_payees_cleans_accounts_and_cities(spark):
    rows = [
        (None, None, "ph-12 34 5678", "  Quezon   City ", "PH"),
        (None, None, "n/a", "Lapu-Lapu", "PH"),  # placeholder account: no key
        (None, None, "   ", "Parañaque", "PH"),
    ]
    assert _normalised(spark, rows, "account_norm city_norm address_norm") == [
        ("PH12345678", "quezon city", None),
        (None, "lapu lapu", None),
        (None, "paranaque", None),
    ]


def test_payee_registry_keeps_latest_attributes_of_cross_border_p2p(spark):
    schema = ("txn_id string, customer_id string, booking_date date, booked_at timestamp, direction string, "
              "channel string, mcc string, residence_country string, counterparty_id string, "
              "counterparty_name string, counterparty_country string, counterparty_city string, "
              "counterparty_phone string, counterparty_account string")
    rows = [
        # First payment: old phone and city.
        ("t1", "c1", date(2025, 1, 5), datetime(2025, 1, 5, 10), "out", "remittance", None, "GB", "p1",
         "Ana Reyes", "PH", "Cebu", "0917 000 1111", None),
        # Later payment: new phone, no city captured: the city stays the latest non-null one.
        ("t2", "c2", date(2025, 2, 5), datetime(2025, 2, 5, 10), "out", "wallet", None, "US", "p1",
         "Ana Reyes", "PH", None, "+63 917 000 2222", "w-77"),
        # Not cross-border p2p: a card purchase, a domestic transfer and an inbound payment.
        ("t3", "c1", date(2025, 3, 1), datetime(2025, 3, 1, 10), "out", "card", "5967", "GB", "p1",
         "Other", "PH", "Manila", "0917 999 9999", None),
        ("t4", "c1", date(2025, 3, 2), datetime(2025, 3, 2, 10), "out", "bank_transfer", None, "GB", "p2",
         "Domestic", "GB", "London", None, None),
        ("t5", "c1", date(2025, 3, 3), datetime(2025, 3, 3, 10), "in", "bank_transfer", None, "GB", "p3",
         "Sender", "PH", "Manila", None, None),
    ]
    registry = payee_registry(spark.createDataFrame(rows, schema))
    expected = spark.createDataFrame(
        [("p1", "PH", "ana reyes", "reyes", "+639170002222", "W77", "cebu", None, date(2025, 1, 5),
          date(2025, 2, 5))],
        "counterparty_id string, counterparty_country string, name_norm string, surname_norm string, "
        "phone_e164 string, account_norm string, city_norm string, address_norm string, "
        "first_seen_date date, last_seen_date date",
    )
    assertDataFrameEqual(registry, expected)


def test_resolve_clusters_links_transitively_and_not_by_surname_across_towns(
    spark, checkpoint_dir, clustering, caplog
):
    rows = [
        ("pa", "PH", "cruz", "+639170000001", None, "manila", None),
        ("pb", "PH", "lim", "+639170000001", "W1", "cebu", None),  # A's phone ...
        ("pc", "PH", "tan", None, "W1", "davao", None),  # ... and B's wallet: A, B, C are one cluster
        ("pd", "PH", "go", "+639170000002", None, "manila", None),  # shares nothing
        ("pe", "PH", "santos", None, None, "cebu", None),  # same surname, different towns: unrelated
        ("pf", "PH", "santos", None, None, "manila", None),
        ("pg", "PH", "reyes", None, None, "iloilo", None),  # same surname, same town: a family
        ("ph", "PH", "reyes", None, None, "iloilo", None),
        ("pi", "TH", "reyes", None, "W1", "iloilo", None),  # the same wallet number in another country
    ]
    expected = [("pa", "pa"), ("pb", "pa"), ("pc", "pa"), ("pd", "pd"), ("pe", "pe"), ("pf", "pf"),
                ("pg", "pg"), ("ph", "pg"), ("pi", "pi")]
    # A path of 16 payees: node i shares a phone with node i+1 when i is even, a wallet when i is odd, and
    # the smallest id is at one end, so its label must travel the whole path (several rounds, checkpoints).
    for i in range(16):
        rows.append((f"q{i:02d}", "PH", None, f"+63918000{i - i % 2:04d}", f"W{i + i % 2:02d}", None, None))
        expected.append((f"q{i:02d}", "q00"))
    with caplog.at_level(logging.INFO, logger=payees.__name__):
        clusters = resolve_clusters(spark.createDataFrame(rows, REGISTRY), checkpoint_dir)
    assertDataFrameEqual(clusters, spark.createDataFrame(expected, CLUSTERS))
    # Each path was the one taken: the driver's says so, the propagation counts its rounds.
    assert ("solved on the driver" in caplog.text) == (clustering == "driver")
    assert ("converged after" in caplog.text) == (clustering == "spark")
    # The result no longer needs the checkpoint files, and they are gone.
    assert not list(Path(checkpoint_dir).rglob("rdd-*"))
    assert clusters.count() == len(expected)


def test_resolve_clusters_popular_key_makes_one_star_not_all_pairs(spark, checkpoint_dir, clustering):
    # 200 payees share one wallet (a popular seller): 199 links to the hub, each both ways, not 200 x 199.
    popular = [(f"w{i:03d}", "PH", None, None, "POPULAR1", None, None) for i in range(200)]
    # 10 payees named Santos in one town share nothing else: a common name, not a family, so no links.
    common = [(f"s{i:02d}", "PH", "santos", None, None, "quezon city", None) for i in range(10)]
    registry = spark.createDataFrame(popular + common, REGISTRY)
    assert link_edges(registry).count() == 2 * 199
    clusters = resolve_clusters(registry, checkpoint_dir)
    counts = {tuple(r) for r in clusters.groupBy("cluster_id").count().collect()}
    assert counts == {("w000", 200), *{(f"s{i:02d}", 1) for i in range(10)}}


def test_resolve_clusters_without_any_link_leaves_every_payee_alone(spark, checkpoint_dir, clustering):
    # Same surname in two towns, different phones and wallets: no edge at all, on either path.
    rows = [("pb", "PH", "cruz", "+639170000001", "W1", "manila", None),
            ("pa", "PH", "cruz", "+639170000002", "W2", "cebu", None)]
    registry = spark.createDataFrame(rows, REGISTRY)
    assert link_edges(registry).count() == 0
    clusters = resolve_clusters(registry, checkpoint_dir)
    assertDataFrameEqual(clusters, spark.createDataFrame([("pa", "pa"), ("pb", "pb")], CLUSTERS))


def test_update_clusters_from_an_earlier_day_equals_resolving_from_scratch(spark, checkpoint_dir, clustering):
    before = [
        ("pa", "PH", "cruz", "+639170000001", None, "manila", None),
        ("pb", "PH", "lim", "+639170000001", "W1", "cebu", None),  # {pa, pb} by phone
        ("pc", "PH", "tan", None, "W2", "davao", None),  # {pc, pd} by wallet
        ("pd", "PH", "go", None, "W2", "davao", None),
        ("pe", "PH", "uy", None, "W3", "davao", None),  # {pe, pf} by wallet
        ("pf", "PH", "ong", None, "W3", "davao", None),
        ("pg", "PH", "sy", None, "W4", "iloilo", None),  # {pg, ph} by wallet
        ("ph", "PH", "co", None, "W4", "iloilo", None),
        *[(f"s{i}", "PH", "santos", None, None, "quezon city", None) for i in range(8)],  # a family of 8
    ]
    after = [
        *[row for row in before if row[0] not in ("pf", "pg")],  # pf left the look-back: {pe} alone
        ("pg", "PH", "sy", None, "W9", "iloilo", None),  # pg's wallet changed: {pg} and {ph} split
        ("pi", "PH", "yu", None, "W1", "cebu", "1 rizal st"),  # new: joins {pa, pb} by B's wallet ...
        ("pj", "PH", "li", None, "W2", "cebu", "1 rizal st"),  # ... and {pc, pd} through pi's address
        ("s8", "PH", "santos", None, None, "quezon city", None),  # a ninth Santos: a common name now
    ]
    previous = update_clusters(spark.createDataFrame(before, REGISTRY), None, checkpoint_dir)
    assertDataFrameEqual(
        previous.select("counterparty_id", "cluster_id"),
        resolve_clusters(spark.createDataFrame(before, REGISTRY), checkpoint_dir),
    )
    updated = update_clusters(spark.createDataFrame(after, REGISTRY), previous, checkpoint_dir)
    expected = resolve_clusters(spark.createDataFrame(after, REGISTRY), checkpoint_dir)
    assertDataFrameEqual(updated.select("counterparty_id", "cluster_id"), expected)
    clusters = {row["counterparty_id"]: row["cluster_id"] for row in expected.collect()}
    assert [clusters[p] for p in ("pb", "pc", "pd", "pi", "pj", "pe", "pg", "ph", "s0", "s8")] == [
        "pa", "pa", "pa", "pa", "pa", "pe", "pg", "ph", "s0", "s8"
    ]


P2P = ("txn_id string, customer_id string, booking_date date, booked_at timestamp, direction string, "
       "channel string, mcc string, residence_country string, counterparty_id string, "
       "counterparty_name string, counterparty_country string, counterparty_city string, "
       "counterparty_phone string, counterparty_account string")


def _payment(n: int, day: date, payee: str, name: str, phone: str | None, city: str = "cebu") -> tuple:
    return (f"t{n}", f"c{n}", day, datetime(day.year, day.month, day.day, 10), "out", "remittance", None,
            "GB", payee, name, "PH", city, phone, None)


def test_resolve_clusters_at_many_dates_equals_one_resolve_per_date(spark, checkpoint_dir, clustering):
    march, june = date(2025, 3, 1), date(2025, 6, 1)
    rows = [
        # Window of 1 March (60 days): p1 and p2 share a phone.
        _payment(1, date(2025, 2, 10), "p1", "Ana Cruz", "0917 000 0001"),
        _payment(2, date(2025, 2, 20), "p2", "Bea Lim", "0917 000 0001"),
        # Window of 1 June: p2 has a new phone, shared with p3; p4 has p1's old phone, but p1 was last paid
        # in February: no link across dates.
        _payment(3, date(2025, 5, 1), "p2", "Bea Lim", "0917 000 0002"),
        _payment(4, date(2025, 5, 2), "p3", "Cora Tan", "0917 000 0002"),
        _payment(5, date(2025, 5, 5), "p4", "Dina Go", "0917 000 0001"),
        # Nine Santos in Manila before March (a common name: no links); only two of them again in May (a
        # family: linked). The common-name rule counts holders per date.
        *[_payment(10 + i, date(2025, 2, 1), f"s{i}", "Rosa Santos", None, "manila") for i in range(9)],
        *[_payment(20 + i, date(2025, 5, 10), f"s{i}", "Rosa Santos", None, "manila") for i in range(2)],
    ]
    p2p = spark.createDataFrame(rows, P2P)
    every = resolve_clusters_at(p2p, [june, march], 60, checkpoint_dir)
    for day in (march, june):
        window = p2p.where(f"booking_date >= '{day - timedelta(days=60)}' and booking_date < '{day}'")
        assertDataFrameEqual(
            every.where(f"as_of = '{day}'").select("counterparty_id", "cluster_id"),
            resolve_clusters(payee_registry(window), checkpoint_dir),
        )
    clusters = {(r["as_of"], r["counterparty_id"]): r["cluster_id"] for r in every.collect()}
    assert [clusters[(march, p)] for p in ("p1", "p2", "s0", "s1", "s8")] == ["p1", "p1", "s0", "s1", "s8"]
    assert [clusters[(june, p)] for p in ("p2", "p3", "p4", "s0", "s1")] == ["p2", "p2", "p4", "s0", "s0"]
    assert len(clusters) == 11 + 5
