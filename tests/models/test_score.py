"""Scoring: budget, re-alert rule, deterministic scores with reasons, and the score job end to end."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import mlflow
import pytest
import xgboost as xgb
from model_worlds import COLUMNS, customer_id, feature_frame, to_spark, write_features
from pyspark.sql import functions as F

from bantay import settings as settings_module
from bantay.features import reasons
from bantay.jobs import score_customers
from bantay.models import score

AS_OF = date(2025, 6, 1)


def test_alert_count_takes_the_lower_of_budget_and_capacity():
    assert score.alert_count(20_000, 0.01, None) == 200
    assert score.alert_count(20_000, 0.01, 150) == 150
    assert score.alert_count(199, 0.01, None) == 1      # floor(1.99): never above the budget share
    assert score.alert_count(99, 0.01, None) == 0


def _scored(spark, rows):
    reason = [("R_X", "x", "text", 0.5, 1.0)]
    return spark.createDataFrame([(c, s, reason) for c, s in rows], score.SCORED_SCHEMA)


def test_rank_and_alert_fills_the_budget_and_skips_held_back_customers(spark):
    scored = _scored(spark, [("c01", 0.95), ("c02", 0.90), ("c03", 0.85), ("c04", 0.60), ("c05", 0.50),
                             ("c06", 0.30), ("c07", 0.30), ("c08", 0.19), ("c09", 0.10), ("c10", 0.05)])
    bars = spark.createDataFrame([("c02", 0.99)], "customer_id string, required_score double")
    three = {r["customer_id"]: (r["rank"], r["alert"]) for r in
             score.rank_and_alert(scored, 3, 0.2, bars, "bantay-ocse/7").collect()}
    # c02 is cleared and its score did not rise to 0.99: it keeps its rank but gives its place to c04.
    assert three == {"c01": (1, True), "c02": (2, False), "c03": (3, True), "c04": (4, True),
                     "c05": (5, False), "c06": (6, False), "c07": (7, False), "c08": (8, False),
                     "c09": (9, False), "c10": (10, False)}
    wide = score.rank_and_alert(scored, 10, 0.2, bars, "bantay-ocse/7")
    # A budget of 10: every customer at or above min_alert_score 0.2 except the held-back c02; ties by id.
    alerted = sorted(r["customer_id"] for r in wide.where("alert").collect())
    assert alerted == ["c01", "c03", "c04", "c05", "c06", "c07"]
    assert wide.columns == list(score.OUTPUT_COLUMNS)
    assert {r["model_version"] for r in wide.collect()} == {"bantay-ocse/7"}


def test_realert_bars_use_the_last_score_before_the_clearance(spark):
    labels = spark.createDataFrame(
        [
            ("x1", 0, datetime(2025, 5, 10, 15), "cleared"),   # scored 0.4 (05-03), 0.5 (05-10): bar 0.65
            ("x2", 0, datetime(2025, 5, 20, 9), "cleared"),    # never scored before: bar 0.2 + 0.15
            ("x3", 0, datetime(2024, 10, 1, 9), "cleared"),    # cleared 243 days ago: the cooldown is over
            ("x4", 0, datetime(2025, 3, 1, 9), "cleared"),
            ("x4", 1, datetime(2025, 4, 1, 9), "ocse_payer"),  # latest label is a confirmation: no bar
            ("x5", 0, datetime(2025, 6, 1, 10), "cleared"),    # decided on the as-of day: not known yet
        ],
        "customer_id string, label int, decided_at timestamp, typology string",
    )
    prior = spark.createDataFrame(
        [("x1", 0.4, date(2025, 5, 3)), ("x1", 0.5, date(2025, 5, 10)), ("x1", 0.9, date(2025, 5, 17)),
         ("x5", 0.3, date(2025, 5, 3))],
        "customer_id string, score double, as_of date",
    )
    bars = {r["customer_id"]: r["required_score"] for r in
            score.realert_bars(labels, prior, AS_OF, 180, 0.15, 0.2).collect()}
    assert bars == pytest.approx({"x1": 0.65, "x2": 0.35})
    no_history = score.realert_bars(labels, None, AS_OF, 180, 0.15, 0.2).collect()
    bare = {r["customer_id"]: r["required_score"] for r in no_history}
    assert bare == pytest.approx({"x1": 0.35, "x2": 0.35})
    # x1's last score before the clearance (05-10) came from the rules, today's scorer is version 2: scales
    # differ, so the bar is the floor's (0.35), not 0.65; a 05-10 score by version 2 itself keeps 0.65.
    versions = prior.withColumn(
        "model_version",
        F.when(F.col("as_of") == F.lit(date(2025, 5, 10)), "bantay-rules/1").otherwise("bantay-ocse/2"))
    crossed = score.realert_bars(labels, versions, AS_OF, 180, 0.15, 0.2, "bantay-ocse/2").collect()
    assert {r["customer_id"]: r["required_score"] for r in crossed} == pytest.approx({"x1": 0.35, "x2": 0.35})
    kept = score.realert_bars(labels, versions, AS_OF, 180, 0.15, 0.2, "bantay-rules/1").collect()
    assert {r["customer_id"]: r["required_score"] for r in kept} == pytest.approx({"x1": 0.65, "x2": 0.35})


def _booster(customers):
    frame = feature_frame((c, AS_OF) for c in customers)
    label = [1 if "payer" in c else 0 for c in frame["customer_id"]]
    matrix = xgb.DMatrix(frame[COLUMNS].astype("float64"), label=label, feature_names=COLUMNS)
    return xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 2, "seed": 0,
                      "nthread": 1}, matrix, num_boost_round=8)


def _customers(payers=20, lookalikes=20, ordinary=60):
    return ([customer_id("payer", n) for n in range(payers)]
            + [customer_id("lookalike", n) for n in range(lookalikes)]
            + [customer_id("ordinary", n) for n in range(ordinary)])


def test_score_features_is_deterministic_and_explains_every_row(spark):
    customers = _customers()
    booster = _booster(customers)
    features = to_spark(spark, feature_frame((c, AS_OF) for c in customers)).repartition(3)
    raw = bytes(booster.save_raw("ubj"))
    first = sorted(tuple(r) for r in score.score_features(features, raw, COLUMNS).collect())
    second = sorted(tuple(r) for r in score.score_features(features.repartition(2), raw, COLUMNS).collect())
    assert first == second
    direct = feature_frame((c, AS_OF) for c in customers)[COLUMNS].astype("float64")
    expected = booster.predict(xgb.DMatrix(direct, feature_names=COLUMNS))
    by_customer = sorted(zip(customers, expected, strict=True))
    assert [row[1] for row in sorted(first)] == pytest.approx([float(s) for _, s in by_customer])
    assert all(1 <= len(row[2]) <= 3 for row in first)
    payer = dict((row[0], row[2]) for row in first)[customer_id("payer", 0)]
    # The separating column explains the payers first, in the investigators' wording with its value.
    top = payer[0]
    assert top["code"] == "R_UNRELATED_PAYEES"
    assert top["feature"] == "share_p2p_unrelated_surname_90d"  # the column it explains, carried along
    assert top["contribution"] > 0
    assert top["text"] == reasons.render(reasons.REASONS["R_UNRELATED_PAYEES"],
                                         {"share_p2p_unrelated_surname_90d": top["value"]})
    assert top["text"].endswith("of payments abroad went to payees with a surname other than the customer's")


def test_score_features_on_the_driver_equals_the_executors(spark):
    # A table small enough for the driver is scored there; every row's score and reasons must be the ones
    # the executors give (rows are scored one by one, whatever the batches).
    customers = _customers()
    booster = _booster(customers)
    features = to_spark(spark, feature_frame((c, AS_OF) for c in customers)).repartition(3)
    raw = bytes(booster.save_raw("ubj"))
    on_executors = sorted(tuple(r) for r in score.score_features(features, raw, COLUMNS).collect())
    scored = score.score_features(features, raw, COLUMNS, rows=len(customers))
    assert scored.schema == score.score_features(features, raw, COLUMNS).schema
    assert sorted(tuple(r) for r in scored.collect()) == on_executors
    assert len(on_executors) == len(customers)


def test_reasons_for_the_riskiest_rows_only_are_the_same_on_both_engines(spark):
    customers = _customers()
    booster = _booster(customers)
    features = to_spark(spark, feature_frame((c, AS_OF) for c in customers)).repartition(3)
    raw = bytes(booster.save_raw("ubj"))
    every = {r["customer_id"]: r for r in score.score_features(features, raw, COLUMNS, rows=100).collect()}
    on_driver = {r["customer_id"]: r for r in
                 score.score_features(features, raw, COLUMNS, rows=100, explained=15).collect()}
    on_executors = {r["customer_id"]: r for r in
                    score.score_features(features, raw, COLUMNS, explained=15).collect()}
    assert on_driver == on_executors
    fifteenth = sorted((r["score"] for r in every.values()), reverse=True)[14]
    top = {c for c, r in every.items() if r["score"] >= fifteenth}  # the 15 riskiest and any tied with them
    assert len(top) >= 15 and len(top) < 100
    # They keep the reasons a full run gives them; the others have none; scores are unchanged.
    assert {c for c, r in on_driver.items() if r["reasons"]} == top
    assert all(on_driver[c]["reasons"] == every[c]["reasons"] for c in top)
    assert {c: r["score"] for c, r in on_driver.items()} == {c: r["score"] for c, r in every.items()}


def test_run_writes_ranked_scores_with_reasons_and_holds_back_a_cleared_customer(spark, tmp_path, mlflow_uri):
    out = tmp_path / "out"
    customers = _customers()
    write_features(spark, out, AS_OF, customers)
    model_path = tmp_path / "model"
    mlflow.xgboost.save_model(_booster(customers), str(model_path), pip_requirements=["xgboost"])
    held = customer_id("payer", 3)
    # Cleared on 05-26, scored 0.97 on 05-25: re-alerting needs 1.12, out of reach.
    spark.createDataFrame([(held, 0, datetime(2025, 5, 26, 12), "cleared")],
                          "customer_id string, label int, decided_at timestamp, typology string") \
        .write.parquet(str(out / "validated" / "labels"))
    schema = "customer_id string, score double, model_version string"
    spark.createDataFrame([(held, 0.97, str(model_path))], schema) \
        .write.parquet(str(out / "scores" / "as_of=2025-05-25"))
    settings = settings_module.load(output_root=out, ledger_root=tmp_path / "ledger", alert_budget=0.1,
                                    min_alert_score=0.2)
    path = score_customers.run(settings, AS_OF, model_uri=str(model_path))
    assert path == out / "scores" / "as_of=2025-06-01"
    rows = {r["customer_id"]: r for r in spark.read.parquet(str(path)).collect()}
    assert len(rows) == 100
    alerts = [c for c, r in rows.items() if r["alert"]]
    assert len(alerts) == 10                                   # floor(0.1 x 100)
    assert held not in alerts and rows[held]["rank"] <= 10     # ranked high, still held back
    assert all(c.startswith("zq-payer-") for c in alerts)
    assert sorted(r["rank"] for r in rows.values()) == list(range(1, 101))
    assert all(r["reasons"] and all(x["text"] for x in r["reasons"]) for c, r in rows.items() if r["alert"])
    assert {r["model_version"] for r in rows.values()} == {str(model_path)}
    again = score_customers.run(settings, AS_OF, model_uri=str(model_path))
    assert {r["customer_id"]: r for r in spark.read.parquet(str(again)).collect()} == rows


def test_prior_scores_reads_only_the_tables_the_cooldown_can_reach(spark, tmp_path):
    out = tmp_path / "out"
    schema = "customer_id string, score double, model_version string"
    days_before = (300, 200, 185, 179, 10, 1)
    for n, days in enumerate(days_before):
        dormant = [("dormant", 0.95, "bantay-ocse/1")] if days == 300 else []
        rows = [("c1", n / 10, "bantay-ocse/1"), *dormant]
        spark.createDataFrame(rows, schema) \
            .write.parquet(str(out / "scores" / f"as_of={AS_OF - timedelta(days=days)}"))
    spark.createDataFrame([("c1", 0.9, "bantay-ocse/1")], schema) \
        .write.parquet(str(out / "scores" / f"as_of={AS_OF}"))          # today's: never an earlier score
    settings = settings_module.load(output_root=out, realert_cooldown_days=180)

    def read(as_of, settings=settings):
        rows = score_customers.prior_scores(spark, settings, as_of).collect()
        return sorted((r["as_of"], r["score"]) for r in rows if r["customer_id"] == "c1")

    # A decision on the cooldown's first day (180 days back) needs the last table before it (185 days
    # back); the two older tables are not read.
    assert read(AS_OF) == [(AS_OF - timedelta(days=185), 0.2), (AS_OF - timedelta(days=179), 0.3),
                           (AS_OF - timedelta(days=10), 0.4), (AS_OF - timedelta(days=1), 0.5)]
    # A table on the cooldown's first day is the first one needed: nothing before it.
    tomorrow = AS_OF + timedelta(days=1)
    assert [day for day, _ in read(tomorrow)] == [AS_OF - timedelta(days=d) for d in (179, 10, 1, 0)]
    # A customer scored only before the tables read (no activity in the year before them) and cleared
    # within the cooldown takes the bar of a customer never scored (the floor plus the margin), not 0.95 +
    # the margin; c1 takes its last score on or before its decision (0.4, 10 days back).
    labels = spark.createDataFrame(
        [(c, 0, datetime(2025, 5, 25, 12), "cleared") for c in ("dormant", "c1")],
        "customer_id string, label int, decided_at timestamp, typology string")
    earlier = score_customers.prior_scores(spark, settings, AS_OF)
    bars = score.realert_bars(labels, earlier, AS_OF, 180, 0.1, 0.2, "bantay-ocse/1")
    assert {r["customer_id"]: round(r["required_score"], 9) for r in bars.collect()} == {"dormant": 0.3,
                                                                                           "c1": 0.5}
    # A cooldown longer than the history reads every earlier table; none before the first scoring: None.
    longer = settings_module.load(output_root=out, realert_cooldown_days=400)
    assert [day for day, _ in read(AS_OF, longer)] == [AS_OF - timedelta(days=d) for d in days_before]
    assert score_customers.prior_scores(spark, settings, AS_OF - timedelta(days=300)) is None
