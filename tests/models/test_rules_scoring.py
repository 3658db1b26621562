"""The documented rules as the cold-start scorer: Spark's score equals the baseline's, reasons name the rules
met, and the score job falls back to them (and says so) while no version holds the champion alias."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from bantay import settings as settings_module
from bantay.errors import ModelError
from bantay.jobs import monitor_model, score_customers
from bantay.models import baseline

AS_OF = date(2025, 6, 1)
COLUMNS = ("n_p2p_ph_90d", "share_p2p_small_90d", "share_p2p_new_payee_90d", "n_payees_90d",
           "share_p2p_night_90d", "share_p2p_round_90d", "n_related_card_90d", "n_pay_confirmed_cluster_365d")
# Points: O1 2, O4 1, O5 1, O6 1, O8 1, F5 2: 8 in all.
ROWS = [
    # O1 (5 payments, 90% small) and O5 (50% at night): 3 of 8 points.
    ("a", 5, 0.9, 0.1, 1, 0.5, 0.0, 0, 0),
    # Every rule, O1, O4, O5 and O6 exactly at their thresholds: 8 of 8; reasons O1, F5 (2 points), O4.
    ("b", 4, 0.8, 0.3, 3, 0.35, 0.6, 1, 2),
    # Nulls meet no condition; one related card payment (O8): 1 of 8.
    ("c", None, None, None, None, None, None, 2, None),
    # Just under every threshold: 0.
    ("d", 3, 0.95, 0.29, 2, 0.34, 0.59, 0, 0),
    # O1's count without its share: no O1; F5: 2 of 8.
    ("e", 9, 0.5, 0.0, 0, 0.0, 0.0, 0, 1),
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["customer_id", *COLUMNS])


def _spark_frame(spark, frame: pd.DataFrame, nan: bool = False):
    """`frame` in Spark, its missing values as nulls (as the feature tables hold them) or, with `nan`, NaN."""
    schema = "customer_id string, " + ", ".join(f"{c} double" for c in frame.columns[1:])
    values = [[r[0], *(None if pd.isna(v) and not nan else float(v) for v in r[1:])]
              for r in frame.values.tolist()]
    return spark.createDataFrame(values, schema)


def test_spark_score_equals_the_baseline_and_names_the_rules_met(spark):
    frame = _frame()
    scored = {r["customer_id"]: r for r in baseline.spark_score(_spark_frame(spark, frame)).collect()}
    assert {c: r["score"] for c, r in scored.items()} == {"a": 0.375, "b": 1.0, "c": 0.125, "d": 0.0,
                                                         "e": 0.25}
    assert [scored[c]["score"] for c in frame["customer_id"]] == baseline.score(frame).tolist()
    assert [x["code"] for x in scored["a"]["reasons"]] == ["RULE_O1", "RULE_O5"]
    # At most 3, most points first.
    assert [x["code"] for x in scored["b"]["reasons"]] == ["RULE_O1", "RULE_F5", "RULE_O4"]
    assert scored["d"]["reasons"] == [] and [x["code"] for x in scored["e"]["reasons"]] == ["RULE_F5"]
    first = scored["a"]["reasons"][0].asDict()
    assert first == {"code": "RULE_O1", "feature": "n_p2p_ph_90d", "contribution": 0.25, "value": 5.0,
                     "text": "4+ payments to individuals in PH in 90 days, and 80%+ of payments abroad under "
                             "USD 200"}
    assert scored["a"]["reasons"][1]["contribution"] == 0.125


def test_spark_score_meets_no_condition_on_nan_as_the_baseline(spark):
    # NaN sorts above every number in Spark: a rule must not hold on it (the baseline reads NaN as missing).
    frame = _frame().assign(share_p2p_night_90d=[float("nan")] * 5, n_related_card_90d=[float("nan")] * 5)
    rows = baseline.spark_score(_spark_frame(spark, frame, nan=True)).collect()
    assert [r["score"] for r in rows] == baseline.score(frame).tolist() == [0.25, 0.75, 0.0, 0.0, 0.25]


def test_spark_score_leaves_out_rules_whose_columns_are_missing(spark):
    frame = _frame().drop(columns="n_pay_confirmed_cluster_365d")  # F5 out: 6 points available
    rows = baseline.spark_score(_spark_frame(spark, frame)).collect()
    scored = {r["customer_id"]: r["score"] for r in rows}
    assert scored == {"a": 0.5, "b": 1.0, "c": pytest.approx(1 / 6), "d": 0.0, "e": 0.0}
    assert list(scored.values()) == baseline.score(frame).tolist()
    with pytest.raises(ModelError, match="none of its rules"):
        baseline.spark_score(_spark_frame(spark, frame[["customer_id", "share_p2p_small_90d"]]))


def test_score_job_uses_the_rules_while_there_is_no_champion(spark, tmp_path, mlflow_uri):
    out = tmp_path / "out"
    # 20 customers: the five rows above, four times; copy n has made n payments abroad in 90 days.
    frame = pd.concat([
        _frame().assign(customer_id=lambda f, n=n: f["customer_id"] + str(n), n_p2p_90d=float(n))
        for n in range(4)
    ], ignore_index=True)
    _spark_frame(spark, frame).write.parquet(str(out / "features" / f"as_of={AS_OF}"))
    settings = settings_module.load(output_root=out, ledger_root=tmp_path / "ledger", alert_budget=0.1,
                                    min_alert_score=0.2)
    path = score_customers.run(settings, AS_OF)
    rows = {r["customer_id"]: r for r in spark.read.parquet(str(path)).collect()}
    assert {r["model_version"] for r in rows.values()} == {baseline.RULES_VERSION}
    # floor(0.1 x 20) = 2 alerts among the four 1.0 rows: equal scores rank by payments abroad, most first.
    assert [rows[c]["rank"] for c in ("b3", "b2", "b1", "b0")] == [1, 2, 3, 4]
    assert sorted(c for c, r in rows.items() if r["alert"]) == ["b2", "b3"]
    assert rows["b3"]["reasons"][0]["feature"] == "n_p2p_ph_90d"
    # `--model rules` asks for the same explicitly.
    again = score_customers.run(settings, AS_OF, model_uri=score_customers.RULES)
    assert {r["customer_id"]: r for r in spark.read.parquet(str(again)).collect()} == rows
    # Monitoring has no training reference for the rules: a warning that says so, nothing written.
    summary = monitor_model.run(settings, AS_OF)
    assert (summary["status"], summary["model_version"]) == ("warning", baseline.RULES_VERSION)
    assert "scored by the documented rules" in summary["reason"]
    assert not (out / "monitoring").exists()
    # Without a floor and with room for everyone, the rules still alert only who meets a rule (no d row).
    wide = settings.model_copy(update={"min_alert_score": 0.0, "alert_budget": 1.0})
    alerted = {r["customer_id"] for r in spark.read.parquet(str(score_customers.run(wide, AS_OF)))
               .where("alert").collect()}
    assert alerted == {f"{c}{n}" for c in "abce" for n in range(4)}


def test_a_lost_champion_is_an_error_not_a_cold_start(spark, tmp_path, mlflow_uri):
    out = tmp_path / "out"
    _spark_frame(spark, _frame()).write.parquet(str(out / "features" / f"as_of={AS_OF}"))
    # The day before was scored by version 3 of the model; today the registry has no champion.
    schema = "customer_id string, score double, model_version string"
    spark.createDataFrame([("a", 0.5, "bantay-ocse/3")], schema) \
        .write.parquet(str(out / "scores" / "as_of=2025-05-31"))
    settings = settings_module.load(output_root=out, ledger_root=tmp_path / "ledger")
    lost = "no champion in the configured registry, yet the latest earlier day was scored by bantay-ocse/3"
    with pytest.raises(ModelError, match=lost):
        score_customers.run(settings, AS_OF)
    assert not (out / "scores" / f"as_of={AS_OF}").exists()
