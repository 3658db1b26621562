"""Book-relative amounts: ranks by hand, Spark's ranks equal to the driver's, boosters marked at training, and
scoring and the gate giving each version its own terms."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from model_worlds import training_frame

from bantay.errors import ModelError
from bantay.models import explain, fit, ranks, registry, score, training_set

AMOUNTS = ["p2p_usd_90d", "median_p2p_usd_90d"]
# Customers 1-4 and 6-7 paid abroad (n_p2p_365d > 0); 5 and 8 did not. p2p_usd_90d has a tie (200, 200), a
# missing value and a NaN; median_p2p_usd_90d has no value in the book at all.
FRAME = pd.DataFrame({
    "customer_id": [f"c{n}" for n in range(1, 9)],
    "n_p2p_365d": [2.0, 5.0, 1.0, 3.0, 0.0, 4.0, 6.0, np.nan],
    "p2p_usd_90d": [100.0, 300.0, 200.0, 200.0, 50.0, np.nan, float("nan"), 250.0],
    "median_p2p_usd_90d": [np.nan, np.nan, np.nan, np.nan, 20.0, np.nan, np.nan, 30.0],
})


def test_ranks_by_hand():
    out = ranks.ranked(FRAME, AMOUNTS, ranks.in_book(FRAME))
    # Book values 100, 200, 200, 300: at or below 100 is 1 of 4; 200 is 3 of 4 (the tie counts together);
    # 50 (outside the book) ranks below all; 250 (outside the book) above 3 of 4; missing stays missing.
    assert out["p2p_usd_90d"].tolist()[:5] == [0.25, 1.0, 0.75, 0.75, 0.0]
    assert out["p2p_usd_90d"].iloc[7] == 0.75 and out["p2p_usd_90d"].iloc[5:7].isna().all()
    assert out["median_p2p_usd_90d"].isna().all()  # no value in the book: missing everywhere
    assert out[ranks.RAW_PREFIX + "p2p_usd_90d"].tolist()[:5] == [100.0, 300.0, 200.0, 200.0, 50.0]
    assert ranks.raw(out)[FRAME.columns].equals(FRAME[FRAME.columns].astype(out[FRAME.columns].dtypes))


def test_ranks_near_dates_by_hand():
    from datetime import date

    # Reference rows (all in the book) on 1, 2 and 10 March; rows outside the reference on 20, 2 and 19 March.
    frame = pd.DataFrame({
        "as_of": [date(2025, 3, d) for d in (1, 2, 10, 20, 2, 19)],
        "n_p2p_365d": [1.0] * 6,
        "p2p_usd_90d": [10.0, 20.0, 30.0, 40.0, 25.0, 25.0],
    })
    reference = np.array([True, True, True, False, False, False])
    near = ranks.nearest_dates(frame["as_of"].to_numpy(), frame["as_of"].to_numpy()[reference], 2)
    # 2 March: the reference rows of 1 and 2 March (distances 1, 0); 19 March: 10 March (9) and 2 March (17).
    assert near[date(2025, 3, 2)].tolist() == [True, True, False]
    assert near[date(2025, 3, 19)].tolist() == [False, True, True]
    out = ranks.ranked_near_dates(frame, ["p2p_usd_90d"], reference, 2)
    # 2 March ranks among 10, 20; 19 March among 20, 30 (25 is half way: 0.5, where all three reference rows
    # would give 2/3 and the two earliest 1.0); 1 March among 10, 20; 10 and 20 March among 20, 30.
    assert out["p2p_usd_90d"].tolist() == [0.5, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert ranks.ranked_near_dates(frame, ["p2p_usd_90d"], reference, 3)["p2p_usd_90d"].tolist() == \
        pytest.approx([1 / 3, 2 / 3, 1.0, 1.0, 2 / 3, 2 / 3])
    # Ties in distance are all taken: 6 March is 4 days from both 2 and 10 March, so size 1 takes both.
    tied = ranks.nearest_dates(np.array([date(2025, 3, 6)]), np.array([date(2025, 3, 2), date(2025, 3, 10),
                                                                         date(2025, 3, 20)]), 1)
    assert tied[date(2025, 3, 6)].tolist() == [True, True, False]


def test_spark_ranks_equal_the_driver_ranks(spark):
    # In Spark, c6's amount is null and c7's NaN (pandas holds both as NaN): both count as missing.
    rows = [[r["customer_id"], *(None if pd.isna(r[c]) else r[c] for c in FRAME.columns[1:])]
            for r in FRAME.to_dict("records")]
    rows[6][2] = float("nan")
    schema = "customer_id string, n_p2p_365d double, p2p_usd_90d double, median_p2p_usd_90d double"
    table = spark.createDataFrame(rows, schema).repartition(3)
    got = ranks.spark_ranked(table, AMOUNTS, "customer_id").toPandas().sort_values("customer_id")
    want = ranks.ranked(FRAME, AMOUNTS, ranks.in_book(FRAME))
    raws = [ranks.RAW_PREFIX + c for c in AMOUNTS]
    assert list(got.columns) == ["customer_id", "n_p2p_365d", *AMOUNTS, *raws]
    for column in [*AMOUNTS, *raws]:
        np.testing.assert_array_equal(got[column].to_numpy(dtype="float64"),
                                      want[column].to_numpy(dtype="float64"))
    with pytest.raises(ModelError, match="cannot be a ranked column"):
        ranks.spark_ranked(table, ["customer_id"], "customer_id")


def test_spark_ranks_equal_the_driver_ranks_on_edge_values(spark):
    # -0.0 ties 0.0; an integer column; NaN in the reference column counts as outside the book.
    frame = pd.DataFrame({
        "customer_id": ["x1", "x2", "x3", "x4", "x5"],
        "n_p2p_365d": [1.0, float("nan"), 2.0, 3.0, 1.0],
        "p2p_usd_90d": [0.0, 5.0, -0.0, 7.0, 7.0],
        "n_payees_90d": [3, 1, 2, 2, 9],
    })
    table = spark.createDataFrame(
        [[r["customer_id"], float(r["n_p2p_365d"]), float(r["p2p_usd_90d"]), int(r["n_payees_90d"])]
         for r in frame.to_dict("records")],
        "customer_id string, n_p2p_365d double, p2p_usd_90d double, n_payees_90d int",
    )
    columns = ["p2p_usd_90d", "n_payees_90d"]
    got = ranks.spark_ranked(table, columns, "customer_id").toPandas().sort_values("customer_id")
    want = ranks.ranked(frame, columns, ranks.in_book(frame))
    # Book: x1, x3, x4, x5 (x2's count is NaN). Amounts 0, -0, 7, 7: 0 and -0 are 2 of 4, 7 is 4 of 4, and
    # x2's 5 (outside the book) is 2 of 4; payees 3, 2, 2, 9: 3 is 3 of 4, 1 is 0 of 4.
    assert want["p2p_usd_90d"].tolist() == [0.5, 0.5, 0.5, 1.0, 1.0]
    assert want["n_payees_90d"].tolist() == [0.75, 0.0, 0.5, 0.5, 1.0]
    for column in columns:
        assert got[column].tolist() == want[column].tolist()


def test_standing_is_rounded_down_and_says_which_way():
    assert explain.standing_text(0.996) == "as high as or higher than 99% of customers paying abroad"
    assert explain.standing_text(0.5) == "as high as or higher than 50% of customers paying abroad"
    assert explain.standing_text(0.125) == "lower than 87% of customers paying abroad"
    assert explain.standing_text(0.0) == "lower than 100% of customers paying abroad"


def _booster(frame: pd.DataFrame, columns: list[str]) -> xgb.Booster:
    """A small model that splits on the amount (its label: above the middle of the amounts)."""
    rows = pd.concat([frame] * 10, ignore_index=True)
    label = (ranks.raw(rows)["p2p_usd_90d"].fillna(0) > 150).astype(int)
    matrix = xgb.DMatrix(rows[columns].astype("float64"), label=label, feature_names=columns)
    params = {"objective": "binary:logistic", "max_depth": 2, "min_child_weight": 0, "base_score": 0.5,
              "seed": 0, "nthread": 1}
    return xgb.train(params, matrix, 4)


def test_each_booster_is_scored_in_its_own_terms():
    columns = ["n_p2p_365d", *AMOUNTS]
    ranked = ranks.ranked(FRAME, AMOUNTS, ranks.in_book(FRAME))
    relative, absolute = _booster(ranked, columns), _booster(FRAME, columns)
    ranks.mark(relative, AMOUNTS)
    assert ranks.columns_of(relative) == AMOUNTS and ranks.columns_of(absolute) == []
    # The gate hands both the same logged rows (ranks with raw values beside): each reads its own.
    np.testing.assert_array_equal(registry.booster_scores(relative, ranked),
                                  fit.predict(relative, ranked, columns))
    np.testing.assert_array_equal(registry.booster_scores(absolute, ranked),
                                  fit.predict(absolute, FRAME, columns))
    with pytest.raises(ModelError, match="no book ranks of 2 column"):  # rows logged before ranks existed
        registry.booster_scores(relative, FRAME)


def test_score_features_ranks_the_day_and_states_amounts(spark):
    columns = ["n_p2p_365d", *AMOUNTS]
    ranked = ranks.ranked(FRAME, AMOUNTS, ranks.in_book(FRAME))
    booster = _booster(ranked, columns)
    ranks.mark(booster, AMOUNTS)
    rows = [[r["customer_id"], *(None if pd.isna(r[c]) else float(r[c]) for c in columns)]
            for r in FRAME.to_dict("records")]
    table = spark.createDataFrame(rows, "customer_id string, " + ", ".join(f"{c} double" for c in columns))
    raw = bytes(booster.save_raw("ubj"))
    on_driver = score.score_features(table, raw, columns, rows=8, ranked=AMOUNTS).toPandas()
    on_executors = score.score_features(table, raw, columns, ranked=AMOUNTS).toPandas()
    key = on_driver.sort_values("customer_id").reset_index(drop=True)
    assert key["score"].tolist() == on_executors.sort_values("customer_id")["score"].tolist()
    assert key["score"].tolist() == pytest.approx(fit.predict(booster, ranked, columns).tolist())
    # c2 sent USD 300, the book's highest: the reason states the amount and where it stands.
    c2 = [r for r in key.loc[key["customer_id"] == "c2", "reasons"].iloc[0] if r["feature"] == "p2p_usd_90d"]
    assert c2 and c2[0]["value"] == 300.0
    assert c2[0]["text"].endswith("(as high as or higher than 100% of customers paying abroad)")
    # Explaining the 3 riskiest only (the executors rank the day once for the cut-off pass and the scores):
    # the same scores, and the same reasons for those rows, on both engines.
    top_driver = score.score_features(table, raw, columns, rows=8, ranked=AMOUNTS, explained=3).toPandas()
    top_executors = score.score_features(table, raw, columns, ranked=AMOUNTS, explained=3).toPandas()
    for top in (top_driver, top_executors):
        top = top.sort_values("customer_id").reset_index(drop=True)
        assert top["score"].tolist() == key["score"].tolist()
        third = sorted(key["score"], reverse=True)[2]
        explained = top["score"] >= third
        assert explained.sum() >= 3 and explained.sum() < len(top)
        assert top.loc[explained, "reasons"].tolist() == key.loc[explained, "reasons"].tolist()
        assert all(len(r) == 0 for r in top.loc[~explained, "reasons"])


def test_training_ranks_amounts_among_the_unlabelled_book_and_marks_every_booster(store, fast_training):
    frame = training_frame(store["labels"])
    specs = training_set.catalogue()
    fitted = fit.fit_frame(frame, specs, fast_training)
    wanted = ranks.columns(specs)
    assert "p2p_usd_90d" in wanted and "n_p2p_90d" not in wanted and ranks.REFERENCE_COLUMN not in wanted
    for model in (fitted.booster, fitted.production, fitted.variant):
        assert ranks.columns_of(model) == wanted
    reference = (frame["typology"] == "unlabelled").to_numpy() & ranks.in_book(frame)
    expected = ranks.rank_values(frame["p2p_usd_90d"].to_numpy(dtype="float64"),
                                 frame.loc[reference, "p2p_usd_90d"].to_numpy(dtype="float64"))
    np.testing.assert_array_equal(fitted.frame["p2p_usd_90d"].to_numpy(), expected)
    assert fitted.frame[ranks.RAW_PREFIX + "p2p_usd_90d"].tolist() == frame["p2p_usd_90d"].tolist()
    off = fit.fit_frame(frame, specs, replace(fast_training, book_relative=False))
    assert ranks.columns_of(off.production) == []
    assert ranks.RAW_PREFIX + "p2p_usd_90d" not in off.frame.columns
