"""The fit: sample weights, the time split, the holdout model and the refit, where the trees grow."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from model_worlds import training_frame

from bantay.errors import ModelError
from bantay.models import distributed, evaluate, fit, training_set
from bantay.models.recipe import RECIPE


def test_weights_favour_cleared_customers_over_the_unlabelled_sample(spark):
    frame = pd.DataFrame({"label": [1, 0, 0, 0, 1, 1],
                          "typology": ["ocse_payer", "cleared", "sextortion_victim", evaluate.UNLABELLED,
                                       "ocse_payer", "ocse_payer"],
                          "lead_days": [0, 0, 0, 0, 0, 28]})
    expected = [1.0, 2.0, 2.0, 0.5, 1.0, 0.5]  # RECIPE: cleared 2, unlabelled 0.5, lead points 0.5
    assert fit.weights(frame).tolist() == expected
    # The Spark path weighs the same rows the same way.
    table = spark.createDataFrame(frame.assign(as_of=date(2025, 1, 1), decided_on=date(2025, 1, 29)))
    parted = distributed.with_parts(table, date(2025, 2, 1), date(2025, 3, 1), evaluate.UNLABELLED,
                                    RECIPE.unlabelled_weight, RECIPE.cleared_weight, RECIPE.lead_weight)
    assert [row["weight"] for row in parted.collect()] == expected
    # Another recipe, other weights.
    flat = replace(RECIPE, cleared_weight=1.0, unlabelled_weight=0.25, lead_weight=1.0)
    assert fit.weights(frame, flat).tolist() == [1.0, 1.0, 1.0, 0.25, 1.0, 1.0]


def test_time_split_evaluates_on_the_latest_decisions(spark):
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(20)]
    frame = pd.DataFrame({"as_of": days * 2, "label": [1, 0] * 20, "typology": ["x"] * 40})
    frame = frame.assign(decided_on=frame["as_of"], lead_days=0, customer_id=[f"c{n}" for n in range(40)])
    # Lead points of a payer decided on day 0 and of one decided on day 19 (evaluation): 28 days earlier.
    leads = frame[frame["label"] == 1].iloc[[0, -1]].assign(lead_days=28)
    leads["as_of"] = leads["decided_on"] - timedelta(days=28)
    frame = pd.concat([frame, leads], ignore_index=True)
    fit_mask, stop, evaluation = fit.time_split(frame)
    assert frame.loc[evaluation, "decided_on"].min() > frame.loc[stop, "decided_on"].max()
    assert frame.loc[stop, "decided_on"].min() > frame.loc[fit_mask, "decided_on"].max()
    # 40 labelled decisions: the cut is the date of row floor(0.75 x 39) = 29 in date order, i.e. day 14.
    assert frame.loc[evaluation, "as_of"].min() == date(2025, 1, 15)
    # A lead point goes with its decision: the day-0 payer's is fitted; the evaluated payer's is in no part
    # (its features date is the earliest of all, yet fitting it would show the holdout model an evaluated
    # customer).
    assert fit_mask.tolist()[-2:] == [True, False] and not (stop | evaluation).tolist()[-1]
    assert set(frame.loc[evaluation, "lead_days"]) == {0}
    # The Spark path cuts the same way (parts "fit", "stop", "eval", and "lead" for the unused lead point).
    stop_cut, eval_cut = frame.loc[stop, "decided_on"].min(), frame.loc[evaluation, "decided_on"].min()
    parted = distributed.with_parts(spark.createDataFrame(frame), stop_cut, eval_cut, evaluate.UNLABELLED,
                                    RECIPE.unlabelled_weight)
    parts = {row["customer_id"] + f"/{row['lead_days']}": row["part"] for row in parted.collect()}
    expected = np.select([fit_mask, stop, evaluation], ["fit", "stop", "eval"], "lead")
    assert [parts[f"{c}/{n}"] for c, n in zip(frame["customer_id"], frame["lead_days"], strict=True)] == \
        expected.tolist()
    # Half the decisions evaluated: the cut is the date of row floor(0.5 x 39) = 19, i.e. day 9.
    _, _, half = fit.time_split(frame, replace(RECIPE, eval_share=0.5))
    assert frame.loc[half, "as_of"].min() == date(2025, 1, 10)


def test_time_split_refuses_labels_decided_on_too_few_days():
    frame = pd.DataFrame({"as_of": [date(2025, 1, 1), date(2025, 1, 2)] * 4, "label": [1, 0] * 4,
                          "typology": ["x"] * 8, "lead_days": 0})
    frame["decided_on"] = frame["as_of"]
    with pytest.raises(ModelError, match="fewer than 3 days"):
        fit.time_split(frame)


def test_fit_stops_within_the_recipe_rounds_and_the_refit_grows_as_many(store, fast_training):
    frame = training_frame(store["labels"])
    specs = training_set.catalogue()
    fitted = fit.fit_frame(frame, specs, fast_training)
    params = fitted.params
    assert params["max_rounds"] == 40 and params["num_parallel_tree"] == 5
    assert fitted.booster.num_boosted_rounds() == params["best_iteration"] + 1 <= 40
    assert fitted.production.num_boosted_rounds() == params["best_iteration"] + 1
    # sqrt(weighted negatives / positives) of the fitted rows, with the recipe's weights.
    fitted_rows = frame[frame["decided_on"] < date.fromisoformat(fitted.counts["stop_from"])]
    row_weights = fit.weights(fitted_rows, fast_training)
    labels = fitted_rows["label"].to_numpy()
    ratio = row_weights[labels == 0].sum() / row_weights[labels == 1].sum()
    assert params["scale_pos_weight"] == pytest.approx(np.sqrt(ratio))
    assert fitted.counts["rows_fit"] == len(fitted_rows)
    assert fitted.counts["unlabelled_sample"] == 120 and fitted.engine == "driver"
    assert len(fitted.evaluation) == fitted.counts["rows_eval"] > 0
    # The same data and recipe give the same model.
    again = fit.fit_frame(frame, specs, fast_training)
    assert again.production.save_raw("json") == fitted.production.save_raw("json")


def test_engine_for_takes_the_cluster_above_the_driver_rows_limit():
    small = replace(RECIPE, driver_rows_limit=100)
    assert fit.engine_for("auto", 100, small) == "driver"
    assert fit.engine_for("auto", 101, small) == "spark"
    assert fit.engine_for("driver", 10**9, small) == "driver"
    assert fit.engine_for("spark", 1, small) == "spark"
    with pytest.raises(ModelError, match="expected auto, driver or spark"):
        fit.engine_for("gpu", 1, small)
