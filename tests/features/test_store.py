"""The feature store: the state's layout, features of many points each as of its own date, p2p counts."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from _sender_rows import labels, transactions, txn, write_validated
from _store_world import AS_OF, LABELS, copy_out, features_settings, make_out, read_table, revalidate_day
from pyspark.sql import functions as F

from bantay import ledger
from bantay.cases import labels as case_labels
from bantay.features import catalogue, network, payees, state, store
from bantay.jobs import build_features
from bantay.models import training_set
from bantay.models.recipe import RECIPE


def test_state_from_an_older_layout_is_rebuilt_not_read(spark, built, tmp_path):
    out = copy_out(built["full"], tmp_path / "out")
    related = txn("c3", "2025-03-04T12:00:00", 12.0, channel="card", mcc="5967", payee="m9", payee_name="Cam")
    transactions(spark, [related]).write.mode("append").partitionBy("booking_date").parquet(
        str(ledger.validated_path(out, "transactions"))
    )
    build_features.run(features_settings(out), AS_OF, full=True)
    # The state as code before `related_groups` wrote it: same days, newer than validated, no such column.
    daily = store.state_path(features_settings(out), "daily")
    old = spark.read.parquet(str(daily)).drop("related_groups")
    old.write.partitionBy("booking_date").parquet(str(tmp_path / "old_daily"))
    shutil.rmtree(daily)
    shutil.move(tmp_path / "old_daily", daily)
    (out / "state" / "_layout.json").unlink()

    path = build_features.run(features_settings(out), AS_OF)
    c3 = read_table(spark, path).where("customer_id = 'c3'").first()
    assert (c3["n_related_card_90d"], c3["n_related_groups_90d"]) == (1.0, 1.0)
    assert "related_groups" in spark.read.parquet(str(daily)).columns
    layout = out / "state" / "_layout.json"
    assert json.loads(layout.read_text())["layout"] == store.state_layout(spark)
    assert layout.stat().st_mode & 0o777 == 0o600


def test_a_full_rebuild_killed_between_its_two_swaps_is_rebuilt_whole_next_time(
    spark, built, tmp_path, monkeypatch
):
    out = copy_out(built["full"], tmp_path / "out")
    settings = features_settings(out)
    assert not store._layout_changed(spark, settings)
    swap = store.files.atomic_dir

    def killed_at_daily(target):
        if target == store.state_path(settings, "daily"):
            raise KeyboardInterrupt("killed")  # after the p2p table was swapped in
        return swap(target)

    monkeypatch.setattr(store.files, "atomic_dir", killed_at_daily)
    with pytest.raises(KeyboardInterrupt):
        store.update_state(spark, settings, AS_OF - timedelta(days=365), AS_OF, full=True)
    monkeypatch.undo()
    assert store._layout_changed(spark, settings)  # so the next update rebuilds both tables whole
    days = store.update_state(spark, settings, AS_OF - timedelta(days=365), AS_OF)
    assert days == sorted(store._validated_days(settings, AS_OF - timedelta(days=365), AS_OF))
    assert not store._layout_changed(spark, settings)


def test_p2p_rows_for_read_the_state_where_it_is_current_and_derive_the_other_days(spark, built, tmp_path):
    out = copy_out(built["full"], tmp_path / "out")
    settings = features_settings(out)
    start = AS_OF - timedelta(days=365)

    def rows(frame) -> list[tuple]:
        return sorted(tuple(r) for r in frame.select(*sorted(frame.columns)).collect())

    def sources(frame) -> set[str]:
        return {"state" if "/state/p2p/" in f else f.split("/")[-2] for f in frame.inputFiles()}

    # Current: the state alone, and its rows are what the validated rows give by the same code.
    current = store.p2p_rows_for(spark, settings, start, AS_OF)
    validated = ledger.read_validated(spark, out, "transactions", start=start, before=AS_OF)
    fx_rates = ledger.read_validated(spark, out, "fx_rates")
    recomputed = state.p2p_rows(validated.withColumn("booking_date", F.col("booking_date").cast("date")),
                                store.read_customers(spark, settings), fx_rates)
    assert sources(current) == {"state"} and len(rows(current)) > 3
    assert rows(current) == rows(recomputed)
    # A day validated again after the state was written: that day derived from its validated rows (with the
    # new payment), the others from the state; equal to the state the next features run writes.
    day = AS_OF - timedelta(days=2)
    revalidate_day(spark, out, day, [txn("c3", f"{day}T20:00:00", 30.0, payee="P", payee_name="Ana Reyes")])
    derived = store.p2p_rows_for(spark, settings, start, AS_OF)
    assert "state" in sources(derived) and f"booking_date={day}" in sources(derived)
    assert len(rows(derived)) == len(rows(current)) + 1
    build_features.run(settings, AS_OF)
    assert rows(store.read_state(spark, settings, "p2p", start, AS_OF)) == rows(derived)
    assert sources(store.p2p_rows_for(spark, settings, start, AS_OF)) == {"state"}


@pytest.fixture(scope="module")
def points_result(spark, built) -> dict:
    points = spark.createDataFrame(
        [("c1", AS_OF), ("c2", date(2025, 3, 8)), ("c4", AS_OF)], "customer_id string, as_of date"
    )
    frame = store.features_for_points(spark, features_settings(built["incremental"]), points)
    assert frame.columns == ["customer_id", "as_of", *catalogue.model_columns()]
    return {(r["customer_id"], r["as_of"]): r.asDict() for r in frame.collect()}


def test_features_for_points_match_the_daily_table(spark, built, points_result):
    assert sorted(points_result) == [("c1", AS_OF), ("c2", date(2025, 3, 8)), ("c4", AS_OF)]
    daily_0308 = {r["customer_id"]: r.asDict() for r in read_table(spark, built["paths"][0]).collect()}
    daily_0310 = {r["customer_id"]: r.asDict() for r in read_table(spark, built["paths"][2]).collect()}
    # AS_OF is on the weekly grid: the whole row equals the daily table's.
    assert points_result[("c1", AS_OF)] == pytest.approx(daily_0310["c1"])
    # 03-08 is not: sender features are exact, network features are as of the grid date 03-03 (older).
    network = {spec.name for spec in catalogue.FEATURES if spec.typology_id.startswith("F")}
    sender = {k: v for k, v in points_result[("c2", date(2025, 3, 8))].items() if k not in network}
    assert sender == pytest.approx({k: v for k, v in daily_0308["c2"].items() if k not in network})
    # A point without any transaction still gets its row: zero counts.
    assert points_result[("c4", AS_OF)]["n_p2p_90d"] == 0.0


def test_p2p_counts_at_equal_the_features_counts(spark, built, points_result):
    points = spark.createDataFrame(list(points_result), "customer_id string, as_of date")
    settings = features_settings(built["incremental"])
    for days in (30, 90):
        counts = {(r["customer_id"], r["as_of"]): r["n_p2p"]
                  for r in store.p2p_counts_at(spark, settings, points, days).collect()}
        # Points without a payment in the window are absent (c4 has no transaction at all).
        wanted = {key: row[f"n_p2p_{days}d"] for key, row in points_result.items() if row[f"n_p2p_{days}d"]}
        assert counts == wanted
        assert counts[("c1", AS_OF)] > 0


def test_features_for_points_never_use_the_customers_own_label(spark, built, points_result, tmp_path):
    out = copy_out(built["full"], tmp_path / "out")
    write_validated(out, "labels", labels(spark, [row for row in LABELS if row[0] != "c1"]))
    points = spark.createDataFrame([("c1", AS_OF)], "customer_id string, as_of date")
    without_own = store.features_for_points(spark, features_settings(out), points).first().asDict()
    assert without_own == pytest.approx(points_result[("c1", AS_OF)])


def test_features_for_points_network_columns_equal_one_run_per_grid_date(spark, built):
    # Points on two grid dates (03-03: nobody confirmed yet; 03-10: c1 and c2 confirmed) computed in one pass
    # must equal the network features of each grid date computed on its own, as the daily table does.
    settings = features_settings(built["incremental"])
    points = spark.createDataFrame(
        [("c1", date(2025, 3, 5)), ("c2", date(2025, 3, 4)), ("c1", AS_OF), ("c2", AS_OF), ("c3", AS_OF)],
        "customer_id string, as_of date",
    )
    one_pass = {(r["customer_id"], r["as_of"]): r.asDict()
                for r in store.features_for_points(spark, settings, points).collect()}
    names = [spec.name for spec in network.NETWORK_FEATURES]
    labels = store.read_labels(spark, settings)
    for grid_day, customers in ((date(2025, 3, 3), {"c1": date(2025, 3, 5), "c2": date(2025, 3, 4)}),
                                (AS_OF, {"c1": AS_OF, "c2": AS_OF, "c3": AS_OF})):
        p2p = store.read_state(spark, settings, "p2p", grid_day - timedelta(days=365), grid_day)
        clusters = payees.resolve_clusters(payees.payee_registry(p2p), str(store.checkpoint_dir(settings)))
        alone, _ = store.network_features(settings, p2p, labels, grid_day, clusters)
        by_customer = {r["customer_id"]: r.asDict() for r in alone.collect()}
        for customer_id, point_day in customers.items():
            # A customer without a p2p payment before the grid date has no network row: its columns stay
            # as the feature table fills them (counts 0, shares null).
            expected = by_customer.get(customer_id)
            got = {name: one_pass[(customer_id, point_day)][name] for name in names}
            if expected is None:
                assert got["n_pay_confirmed_cluster_365d"] == 0.0
                assert got["share_pay_shared_cluster_365d"] is None
            else:
                assert got == pytest.approx({name: expected[name] for name in names}, nan_ok=True)
    # The 03-10 grid date sees both confirmed payers through the shared payee P (not their own label).
    assert one_pass[("c1", AS_OF)]["n_pay_confirmed_cluster_365d"] > 0
    assert one_pass[("c1", date(2025, 3, 5))]["n_pay_confirmed_cluster_365d"] == 0.0


def test_grid_date_snaps_down_to_monday():
    assert [store.grid_date(date(2025, 3, d)) for d in (8, 9, 10, 11, 16, 17)] == [
        date(2025, 3, 3),
        date(2025, 3, 3),
        date(2025, 3, 10),
        date(2025, 3, 10),
        date(2025, 3, 10),
        date(2025, 3, 17),
    ]


def test_training_reads_its_features_from_the_store(spark, tmp_path):
    # A fresh validated layer (no feature state yet) with a cleared customer beside the two confirmed ones:
    # the training set of the default store builds the state and joins each label to its own date's features.
    out = make_out(spark, tmp_path, extra_labels=[("c3", 0, "2025-03-06T09:00:00", "cleared")])
    settings, recipe = features_settings(out), replace(RECIPE, min_positives=1)
    frame = training_set.training_table(spark, settings, AS_OF, catalogue.model_columns(), recipe)
    rows = {r.customer_id: r for r in frame.itertuples()}
    assert sorted((c, r.as_of, r.label, r.lead_days) for c, r in rows.items()) == [
        ("c1", date(2025, 3, 5), 1, 0),
        ("c2", date(2025, 3, 4), 1, 0),
        ("c3", date(2025, 3, 6), 0, 0),
    ]
    # Payments before each decision date only: c1 paid P each night and Q on 03-01 and 03-04; c2 paid P on
    # 03-01 and 03-03; c3 only shops at home. No lead point: nobody paid abroad 14 days before a decision.
    assert [rows[c].n_p2p_90d for c in ("c1", "c2", "c3")] == [6.0, 2.0, 0.0]
    assert store.state_path(settings, "daily").is_dir()


def test_network_features_read_the_workbenchs_approved_decisions(spark, tmp_path):
    # c1 and c2 both pay P. Only c1's label is in the bank's feed: c1's own label never counts for itself, so
    # no cluster of c1's is "paid by a confirmed case". The workbench then confirms c2 (approved 03-06, before
    # D = 03-10): as of D, P is a cluster paid by a confirmed case for c1. An approval on D itself does not
    # count yet (decided before D only).
    out = make_out(spark, tmp_path)
    write_validated(out, "labels", labels(spark, [LABELS[1]]))  # c1 only
    settings = features_settings(out)

    def c1_confirmed_payees() -> float:  # n_pay_confirmed_cluster_365d: payments to such clusters
        build_features.run(settings, AS_OF, full=True)
        table = read_table(spark, out / "features" / f"as_of={AS_OF}")
        return table.where("customer_id = 'c1'").first()["n_pay_confirmed_cluster_365d"]

    assert c1_confirmed_payees() == 0.0
    case_labels.write_decision(out, case_id="C-20250310-0000000002", customer_id="c2", label=1,
                               decided_at=datetime(2025, 3, 10, 8, 0, tzinfo=UTC), typology="confirmed")
    assert c1_confirmed_payees() == 0.0  # approved on D: not before D
    case_labels.write_decision(out, case_id="C-20250306-0000000001", customer_id="c2", label=1,
                               decided_at=datetime(2025, 3, 6, 15, 0, tzinfo=UTC), typology="confirmed")
    assert c1_confirmed_payees() == 9.0  # c1's payments to P, one each night of 03-01..03-09
    read = store.decided_before(store.read_labels(spark, settings), AS_OF).collect()
    assert sorted((r.customer_id, r.label, r.decided_at.date()) for r in read) == [
        ("c1", 1, date(2025, 3, 5)), ("c2", 1, date(2025, 3, 6))]
