"""The feature job end to end on a tiny validated layer: incremental = full, point in time, training points."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from _sender_rows import customer, customers, fx_rates, labels, transactions, txn, write_validated
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from bantay import ledger, settings
from bantay.features import catalog
from bantay.jobs import build_features

FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2025, 3, 9)  # validated days 03-01 .. 03-09
AS_OF = date(2025, 3, 10)  # a Monday: on the weekly grid of training points


def _history() -> list[tuple]:
    rows = []
    for n in range((LAST_DAY - FIRST_DAY).days + 1):
        day = FIRST_DAY + timedelta(days=n)
        # c1 (London) pays the shared payee P every day at 22:00 UTC (night) and payee Q every third day.
        rows.append(txn("c1", f"{day}T22:00:00", 40.0 + n, payee="P", payee_name="Ana Reyes", phone="+639170000001"))
        if n % 3 == 0:
            rows.append(txn("c1", f"{day}T10:00:00", 25.0, payee="Q", payee_name="Rosa Lim", reference="gift"))
        # c2 (Sydney) pays P every other day at 11:30 UTC = 22:30 in Sydney (AEDT, UTC+11).
        if n % 2 == 0:
            rows.append(txn("c2", f"{day}T11:30:00", 50.0, currency="AUD", payee="P", payee_name="Ana Reyes",
                            phone="+639170000001"))
        # c3 only shops at home.
        rows.append(txn("c3", f"{day}T12:00:00", 12.5, channel="card", mcc="5411", payee="shop",
                        payee_name="Grocer", country="GB"))
    return rows


KYC = [
    customer("c1"),
    customer("c2", "Peter Brown", nationality="AU", residence="AU", timezone="Australia/Sydney"),
    customer("c3", "Jane Doe", gender="F"),
]
LABELS = [("c2", 1, "2025-03-04T09:00:00", "ocse_payer"), ("c1", 1, "2025-03-05T09:00:00", "ocse_payer")]


def _make_out(spark: SparkSession, root: Path, extra_txns: list[tuple] = (), extra_labels: list = ()) -> Path:
    out = root / "out"
    write_validated(out, "transactions", transactions(spark, _history() + list(extra_txns)))
    write_validated(out, "customers", customers(spark, KYC))
    days = [FIRST_DAY + timedelta(days=n) for n in range(20)]
    write_validated(out, "fx_rates", fx_rates(spark, [(d, "PHP", 0.0175) for d in days]))
    write_validated(out, "labels", labels(spark, LABELS + list(extra_labels)))
    return out


def _settings(out: Path) -> settings.Settings:
    return settings.load(output_root=out, spark_master="local[2]", spark_shuffle_partitions=2)


def _table(spark: SparkSession, path: Path) -> DataFrame:
    return spark.read.parquet(str(path))


@pytest.fixture(scope="module")
def built(spark: SparkSession, tmp_path_factory) -> dict:
    """One incremental backfill 03-07..03-10 and, beside it, full rebuilds as of 03-08 and 03-10."""
    root = tmp_path_factory.mktemp("features")
    incremental = _make_out(spark, root / "incremental")
    full = root / "full" / "out"
    shutil.copytree(incremental / "validated", full / "validated")
    paths = build_features.backfill(_settings(incremental), date(2025, 3, 7), AS_OF, full=True)
    return {
        "incremental": incremental,
        "paths": paths,
        "full_0308": build_features.run(_settings(full), date(2025, 3, 8), full=True),
        "full_0310": build_features.run(_settings(full), AS_OF, full=True),
    }


def test_backfill_incremental_equals_full(spark, built):
    assert [p.name for p in built["paths"]] == [f"as_of=2025-03-{d:02d}" for d in (7, 8, 9, 10)]
    for incremental, full in ((built["paths"][1], built["full_0308"]), (built["paths"][3], built["full_0310"])):
        assertDataFrameEqual(_table(spark, incremental), _table(spark, full), rtol=1e-9)


def test_run_writes_contract_columns_and_clusters(spark, built):
    table = _table(spark, built["paths"][3])
    assert table.columns == ["customer_id", "as_of", *catalog.model_columns()]
    rows = {row["customer_id"]: row for row in table.collect()}
    assert sorted(rows) == ["c1", "c2", "c3"]
    c1, c2, c3 = rows["c1"], rows["c2"], rows["c3"]
    # c1: 9 daily payments to P (03-01..03-09) and 3 to Q (03-01, 03-04, 03-07).
    assert (c1["n_p2p_30d"], c1["n_payees_30d"], c1["as_of"]) == (12.0, 2.0, AS_OF)
    # 22:00 in London (GMT) and 22:30 in Sydney (AEDT) are both night; c1's 10:00 payments are not.
    assert (c1["share_p2p_night_30d"], c2["share_p2p_night_30d"]) == (0.75, 1.0)
    # c3 made no p2p payment: counts are 0, shares undefined.
    assert (c3["n_p2p_90d"], c3["share_p2p_night_90d"], c3["n_out_90d"]) == (0.0, None, 9.0)
    clusters = _table(spark, built["incremental"] / "clusters" / "as_of=2025-03-10")
    assert {"counterparty_id", "cluster_id"} <= set(clusters.columns)
    assert sorted(r["counterparty_id"] for r in clusters.collect()) == ["P", "Q"]


def test_run_ignores_transactions_and_labels_on_or_after_as_of(spark, built, tmp_path):
    later = [
        txn("c1", "2025-03-10T00:30:00", 999.0, payee="Z", payee_name="New Payee"),  # on the as-of day
        txn("c3", "2025-03-11T22:00:00", 80.0, payee="P", payee_name="Ana Reyes"),  # after it
        txn("c9", "2025-03-10T08:00:00", 80.0, payee="P", payee_name="Ana Reyes"),  # a customer new on D
    ]
    later_labels = [("c1", 0, "2025-03-10T00:00:00", "cleared"), ("c3", 1, "2025-03-12T00:00:00", "ocse_payer")]
    out = _make_out(spark, tmp_path, later, later_labels)
    path = build_features.run(_settings(out), AS_OF, full=True)
    assertDataFrameEqual(_table(spark, path), _table(spark, built["paths"][3]), rtol=1e-9)


def test_run_recomputes_a_revalidated_day(spark, tmp_path):
    out = _make_out(spark, tmp_path)
    before = {r["customer_id"]: r["n_p2p_30d"] for r in _table(spark, build_features.run(_settings(out), AS_OF,
                                                                                         full=True)).collect()}
    # The validator re-runs 03-09 and now accepts one more payment by c3 (rerun semantics: the day is replaced).
    day = ledger.validated_path(out, "transactions") / "booking_date=2025-03-09"
    rows = [r for r in _history() if r[18] == date(2025, 3, 9)]
    rows.append(txn("c3", "2025-03-09T20:00:00", 30.0, payee="P", payee_name="Ana Reyes"))
    shutil.rmtree(day)
    transactions(spark, rows).drop("booking_date").coalesce(1).write.parquet(str(day))
    after = {r["customer_id"]: r["n_p2p_30d"] for r in _table(spark, build_features.run(_settings(out), AS_OF))
             .collect()}
    assert after == {**before, "c3": before["c3"] + 1}


def test_features_for_points_match_the_daily_table(spark, built):
    points = spark.createDataFrame(
        [("c1", AS_OF), ("c2", date(2025, 3, 8)), ("c4", AS_OF)], "customer_id string, as_of date"
    )
    result = {(r["customer_id"], r["as_of"]): r.asDict()
              for r in build_features.features_for_points(spark, _settings(built["incremental"]), points).collect()}
    assert sorted(result) == [("c1", AS_OF), ("c2", date(2025, 3, 8)), ("c4", AS_OF)]
    daily_0310 = {r["customer_id"]: r.asDict() for r in _table(spark, built["paths"][3]).collect()}
    daily_0308 = {r["customer_id"]: r.asDict() for r in _table(spark, built["paths"][1]).collect()}
    # AS_OF is on the weekly grid: the whole row equals the daily table's.
    assert result[("c1", AS_OF)] == pytest.approx(daily_0310["c1"])
    # 03-08 is not: sender features are exact, network features are as of the grid date 03-03 (older).
    network = {spec.name for spec in catalog.FEATURES if spec.typology_id.startswith("F")}
    sender = {k: v for k, v in result[("c2", date(2025, 3, 8))].items() if k not in network}
    assert sender == pytest.approx({k: v for k, v in daily_0308["c2"].items() if k not in network})
    # A point without any transaction still gets its row: zero counts.
    assert result[("c4", AS_OF)]["n_p2p_90d"] == 0.0


def test_features_for_points_never_use_the_customers_own_label(spark, built, tmp_path):
    points = spark.createDataFrame([("c1", AS_OF)], "customer_id string, as_of date")
    with_own = build_features.features_for_points(spark, _settings(built["incremental"]), points).collect()
    out = tmp_path / "out"
    shutil.copytree(built["incremental"] / "validated", out / "validated")
    write_validated(out, "labels", labels(spark, [row for row in LABELS if row[0] != "c1"]))
    without_own = build_features.features_for_points(spark, _settings(out), points).collect()
    assert with_own[0].asDict() == pytest.approx(without_own[0].asDict())


def test_catalog_docs_are_up_to_date():
    docs = Path(__file__).resolve().parents[2] / "docs" / "features.md"
    assert docs.read_text(encoding="utf-8") == catalog.markdown(), "run: python -m bantay.features.catalog"
