"""The feature job end to end on a tiny validated layer: incremental = full, contract columns, as of D."""

from __future__ import annotations

from _sender_rows import labels, transactions, txn, write_validated
from _store_world import AS_OF, LABELS, copy_out, features_settings, read_table
from pyspark.testing import assertDataFrameEqual

from bantay import ledger
from bantay.features import catalogue
from bantay.jobs import build_features


def test_run_incremental_equals_full_and_replays_a_revalidated_day(spark, built):
    assert [p.name for p in built["paths"]] == ["as_of=2025-03-08", "as_of=2025-03-09", "as_of=2025-03-10"]
    full = read_table(spark, built["full_table"])
    assertDataFrameEqual(read_table(spark, built["paths"][2]), full, rtol=1e-9)
    # c3's p2p payment arrived with the re-validated day 03-09: only the run as of 03-10 sees it.
    c3 = [read_table(spark, p).where("customer_id = 'c3'").first()["n_p2p_30d"] for p in built["paths"]]
    assert c3 == [0.0, 0.0, 1.0]


def test_run_writes_contract_columns_and_clusters(spark, built):
    table = read_table(spark, built["paths"][2])
    assert table.columns == ["customer_id", "as_of", *catalogue.model_columns()]
    rows = {row["customer_id"]: row for row in table.collect()}
    assert sorted(rows) == ["c1", "c2", "c3"]
    c1, c2, c3 = rows["c1"], rows["c2"], rows["c3"]
    # c1: 9 daily payments to P (03-01..03-09) and 3 to Q (03-01, 03-04, 03-07).
    assert (c1["n_p2p_30d"], c1["n_payees_30d"], c1["as_of"]) == (12.0, 2.0, AS_OF)
    # 22:00 in London (GMT) and 22:30 in Sydney (AEDT) are both night; c1's 10:00 payments are not.
    assert (c1["share_p2p_night_30d"], c2["share_p2p_night_30d"]) == (0.75, 1.0)
    # c3: 9 card payments and one p2p payment at 20:00 (not night).
    assert (c3["n_out_90d"], c3["share_p2p_night_90d"], c3["age_years"], c3["is_male"]) == (
        10.0,
        0.0,
        54.0,
        0.0,
    )
    clusters = read_table(spark, built["incremental"] / "clusters" / "as_of=2025-03-10")
    assert {"counterparty_id", "cluster_id"} <= set(clusters.columns)
    assert sorted(r["counterparty_id"] for r in clusters.collect()) == ["P", "Q"]


def test_run_ignores_transactions_and_labels_on_or_after_as_of(spark, built, tmp_path):
    out = copy_out(built["full"], tmp_path / "out")
    later = [
        txn("c1", "2025-03-10T00:30:00", 999.0, payee="Z", payee_name="New Payee"),  # on the as-of day
        txn("c3", "2025-03-11T22:00:00", 80.0, payee="P", payee_name="Ana Reyes"),  # after it
    ]
    transactions(spark, later).write.mode("append").partitionBy("booking_date").parquet(
        str(ledger.validated_path(out, "transactions"))
    )
    later_labels = [
        ("c1", 0, "2025-03-10T00:00:00", "cleared"),
        ("c3", 1, "2025-03-12T00:00:00", "ocse_payer"),
    ]
    write_validated(out, "labels", labels(spark, LABELS + later_labels))
    path = build_features.run(features_settings(out), AS_OF, full=True)
    assertDataFrameEqual(read_table(spark, path), read_table(spark, built["full_table"]), rtol=1e-9)
