"""The recipe: one frozen object holds every knob; XGBoost's parameters come from it."""

from __future__ import annotations

import dataclasses

import pytest

from bantay.models.recipe import RECIPE, Recipe


def test_recipe_is_frozen_and_replaced_field_by_field():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECIPE.max_rounds = 10  # type: ignore[misc]
    small = dataclasses.replace(RECIPE, max_rounds=40, early_stopping_rounds=10)
    assert (small.max_rounds, small.early_stopping_rounds) == (40, 10)
    assert (RECIPE.max_rounds, RECIPE.early_stopping_rounds) == (800, 40)
    assert dataclasses.replace(small, max_rounds=800, early_stopping_rounds=40) == RECIPE == Recipe()


def test_recipe_weights_rank_labels_above_guesses():
    # Cleared customers are the hard negatives; the sample and the lead points are less certain than a
    # decision (weight 1).
    assert RECIPE.unlabelled_weight == 0.5 and RECIPE.lead_weight == 0.5 and RECIPE.cleared_weight == 2.0
    # Lead points every 14 days up to 24 weeks before the decision.
    assert RECIPE.lead_days == (14, 28, 42, 56, 70, 84, 98, 112, 126, 140, 154, 168)


def test_params_are_xgboost_native_parameters():
    assert RECIPE.params() == {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "eval_metric": "logloss",
        "max_depth": 4,
        "learning_rate": 0.08,
        "min_child_weight": 2.0,
        "num_parallel_tree": 5,
        "subsample": 0.8,
        "colsample_bytree": 0.9,
        "colsample_bynode": 0.7,
        "reg_lambda": 1.0,
        "seed": 0,
        "nthread": 2,
    }
    assert dataclasses.replace(RECIPE, max_depth=6).params()["max_depth"] == 6
    # A copy: changing it leaves the recipe as it was.
    params = RECIPE.params()
    params["max_depth"] = 9
    assert RECIPE.params()["max_depth"] == 4
