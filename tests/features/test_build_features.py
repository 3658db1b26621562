"""The feature job end to end on a tiny validated layer: incremental = full, point in time, points."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from _sender_rows import customer, customers, fx_rates, labels, transactions, txn, write_validated
from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from bantay import ledger, settings
from bantay.features import catalogue, store
from bantay.jobs import build_features

FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2025, 3, 9)  # validated days 03-01 .. 03-09
AS_OF = date(2025, 3, 10)  # a Monday: on the weekly grid of training points


def _history() -> list[tuple]:
    rows = []
    for n in range((LAST_DAY - FIRST_DAY).days + 1):
        day = FIRST_DAY + timedelta(days=n)
        # c1 (London) pays the shared payee P every day at 22:00 UTC (night) and payee Q every third day.
        rows.append(
            txn("c1", f"{day}T22:00:00", 40.0 + n, payee="P", payee_name="Ana Reyes", phone="+639170000001")
        )
        if n % 3 == 0:
            rows.append(
                txn("c1", f"{day}T10:00:00", 25.0, payee="Q", payee_name="Rosa Lim", reference="gift")
            )
        # c2 (Sydney) pays P every other day at 11:30 UTC = 22:30 in Sydney (AEDT, UTC+11).
        if n % 2 == 0:
            rows.append(
                txn(
                    "c2",
                    f"{day}T11:30:00",
                    50.0,
                    currency="AUD",
                    payee="P",
                    payee_name="Ana Reyes",
                    phone="+639170000001",
                )
            )
        # c3 only shops at home.
        rows.append(
            txn(
                "c3",
                f"{day}T12:00:00",
                12.5,
                channel="card",
                mcc="5411",
                payee="shop",
                payee_name="Grocer",
                country="GB",
            )
        )
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


def _copy_out(source: Path, target: Path) -> Path:
    """A copy of an output root's validated layer and feature state (files only, no Spark)."""
    for folder in ("validated", "state"):
        shutil.copytree(source / folder, target / folder)
    return target


def _revalidate_day(spark: SparkSession, out: Path, day: date, extra: list[tuple]) -> None:
    """Replace one validated day the way a validator rerun does: a new folder with the day's rows."""
    folder = ledger.validated_path(out, "transactions") / f"booking_date={day.isoformat()}"
    rows = [row for row in _history() if row[18] == day] + extra
    shutil.rmtree(folder)
    transactions(spark, rows).drop("booking_date").coalesce(1).write.parquet(str(folder))


@pytest.fixture(scope="module")
def built(spark: SparkSession, tmp_path_factory) -> dict:
    """Incremental runs 03-08 (full), 03-09, then day 03-09 is re-validated with one more payment by c3 and
    03-10 runs incrementally; beside it, a full rebuild as of 03-10 on the same validated layer."""
    root = tmp_path_factory.mktemp("features")
    incremental = _make_out(spark, root / "incremental")
    paths = [
        build_features.run(_settings(incremental), date(2025, 3, 8), full=True),
        build_features.run(_settings(incremental), date(2025, 3, 9)),
    ]
    _revalidate_day(
        spark,
        incremental,
        date(2025, 3, 9),
        [txn("c3", "2025-03-09T20:00:00", 30.0, payee="P", payee_name="Ana Reyes")],
    )
    paths.append(build_features.run(_settings(incremental), AS_OF))
    full = root / "full" / "out"
    shutil.copytree(incremental / "validated", full / "validated")
    return {
        "incremental": incremental,
        "paths": paths,
        "full": full,
        "full_table": build_features.run(_settings(full), AS_OF, full=True),
    }


def test_run_incremental_equals_full_and_replays_a_revalidated_day(spark, built):
    assert [p.name for p in built["paths"]] == ["as_of=2025-03-08", "as_of=2025-03-09", "as_of=2025-03-10"]
    assertDataFrameEqual(_table(spark, built["paths"][2]), _table(spark, built["full_table"]), rtol=1e-9)
    # c3's p2p payment arrived with the re-validated day 03-09: only the run as of 03-10 sees it.
    c3 = [_table(spark, p).where("customer_id = 'c3'").first()["n_p2p_30d"] for p in built["paths"]]
    assert c3 == [0.0, 0.0, 1.0]


def test_run_writes_contract_columns_and_clusters(spark, built):
    table = _table(spark, built["paths"][2])
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
    clusters = _table(spark, built["incremental"] / "clusters" / "as_of=2025-03-10")
    assert {"counterparty_id", "cluster_id"} <= set(clusters.columns)
    assert sorted(r["counterparty_id"] for r in clusters.collect()) == ["P", "Q"]


def test_run_ignores_transactions_and_labels_on_or_after_as_of(spark, built, tmp_path):
    out = _copy_out(built["full"], tmp_path / "out")
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
    path = build_features.run(_settings(out), AS_OF, full=True)
    assertDataFrameEqual(_table(spark, path), _table(spark, built["full_table"]), rtol=1e-9)


def test_state_from_an_older_layout_is_rebuilt_not_read(spark, built, tmp_path):
    out = _copy_out(built["full"], tmp_path / "out")
    related = txn("c3", "2025-03-04T12:00:00", 12.0, channel="card", mcc="5967", payee="m9", payee_name="Cam")
    transactions(spark, [related]).write.mode("append").partitionBy("booking_date").parquet(
        str(ledger.validated_path(out, "transactions"))
    )
    build_features.run(_settings(out), AS_OF, full=True)
    # The state as code before `related_groups` wrote it: same days, newer than validated, no such column.
    daily = store.state_path(_settings(out), "daily")
    old = spark.read.parquet(str(daily)).drop("related_groups")
    old.write.partitionBy("booking_date").parquet(str(tmp_path / "old_daily"))
    shutil.rmtree(daily)
    shutil.move(tmp_path / "old_daily", daily)
    (out / "state" / "_layout.json").unlink()

    path = build_features.run(_settings(out), AS_OF)
    c3 = _table(spark, path).where("customer_id = 'c3'").first()
    assert (c3["n_related_card_90d"], c3["n_related_groups_90d"]) == (1.0, 1.0)
    assert "related_groups" in spark.read.parquet(str(daily)).columns
    layout = out / "state" / "_layout.json"
    assert json.loads(layout.read_text())["layout"] == store.state_layout(spark)
    assert layout.stat().st_mode & 0o777 == 0o600


@pytest.fixture(scope="module")
def points_result(spark, built) -> dict:
    points = spark.createDataFrame(
        [("c1", AS_OF), ("c2", date(2025, 3, 8)), ("c4", AS_OF)], "customer_id string, as_of date"
    )
    frame = store.features_for_points(spark, _settings(built["incremental"]), points)
    assert frame.columns == ["customer_id", "as_of", *catalogue.model_columns()]
    return {(r["customer_id"], r["as_of"]): r.asDict() for r in frame.collect()}


def test_features_for_points_match_the_daily_table(spark, built, points_result):
    assert sorted(points_result) == [("c1", AS_OF), ("c2", date(2025, 3, 8)), ("c4", AS_OF)]
    daily_0308 = {r["customer_id"]: r.asDict() for r in _table(spark, built["paths"][0]).collect()}
    daily_0310 = {r["customer_id"]: r.asDict() for r in _table(spark, built["paths"][2]).collect()}
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
    settings = _settings(built["incremental"])
    for days in (30, 90):
        counts = {(r["customer_id"], r["as_of"]): r["n_p2p"]
                  for r in store.p2p_counts_at(spark, settings, points, days).collect()}
        # Points without a payment in the window are absent (c4 has no transaction at all).
        wanted = {key: row[f"n_p2p_{days}d"] for key, row in points_result.items() if row[f"n_p2p_{days}d"]}
        assert counts == wanted
        assert counts[("c1", AS_OF)] > 0


def test_features_for_points_never_use_the_customers_own_label(spark, built, points_result, tmp_path):
    out = _copy_out(built["full"], tmp_path / "out")
    write_validated(out, "labels", labels(spark, [row for row in LABELS if row[0] != "c1"]))
    points = spark.createDataFrame([("c1", AS_OF)], "customer_id string, as_of date")
    without_own = store.features_for_points(spark, _settings(out), points).first().asDict()
    assert without_own == pytest.approx(points_result[("c1", AS_OF)])


def test_grid_date_snaps_down_to_monday():
    assert [store.grid_date(date(2025, 3, d)) for d in (8, 9, 10, 11, 16, 17)] == [
        date(2025, 3, 3),
        date(2025, 3, 3),
        date(2025, 3, 10),
        date(2025, 3, 10),
        date(2025, 3, 10),
        date(2025, 3, 17),
    ]


def test_catalogue_docs_are_up_to_date():
    docs = Path(__file__).resolve().parents[2] / "docs" / "features.md"
    hint = "run: python -m bantay.features.catalogue"
    assert docs.read_text(encoding="utf-8") == catalogue.markdown(), hint
