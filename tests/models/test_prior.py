"""The typology prior, positive-unlabelled weighting and the variants' helpers, on hand-made rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from bantay.models import evaluate, prior
from bantay.models.recipe import RECIPE


def test_prior_logit_adds_each_indicator_ramp_times_its_weight():
    frame = pd.DataFrame({
        # Row 0: nothing abroad (every column missing or 0): the intercept alone.
        # Row 1: 6 payments abroad (ramp 1 x 1.0), 70% small (ramp 0.5 x 0.8), night share 0.325 (0.5 x 0.8).
        # Row 2: as row 1, but every payee shares the sender's surname (ramp 1 x -1.2).
        "n_p2p_90d": [0, 6, 6],
        "share_p2p_small_90d": [np.nan, 0.7, 0.7],
        "share_p2p_night_90d": [np.nan, 0.325, 0.325],
        "share_payees_same_surname_365d": [np.nan, 0.0, 1.0],
        "age_years": [60, 60, 60],  # never part of the prior
    })
    logit = prior.prior_logit(frame)
    assert logit[0] == pytest.approx(prior.INTERCEPT)
    assert logit[1] == pytest.approx(prior.INTERCEPT + 1.0 + 0.4 + 0.4)
    assert logit[2] == pytest.approx(logit[1] - 1.2)
    assert not any(ind.column in prior.SEX_AGE for ind in prior.INDICATORS)


def test_top_share_alerts_the_highest_scores_within_the_budget():
    scores = np.array([0.1, 0.9, 0.5, 0.8] + [0.0] * 196)
    alert = prior.top_share(scores, 0.01)  # 1% of 200 = 2
    assert np.flatnonzero(alert).tolist() == [1, 3]
    assert prior.top_share(np.array([0.3, 0.2]), 0.01).tolist() == [True, False]  # at least one


def test_pu_weights_split_each_unlabelled_row_by_its_chance_of_being_a_payer():
    day = date(2025, 3, 1)
    frame = pd.DataFrame({
        "customer_id": ["p", "u1", "u2", "k"],
        "label": [1, 0, 0, 0],
        "typology": ["ocse_payer", evaluate.UNLABELLED, evaluate.UNLABELLED, "cleared"],
        "lead_days": [0, 0, 0, 0],
        "decided_on": [day, day - timedelta(days=2), day + timedelta(days=1), day],
    })
    # c = 0.5 (mean holdout score of unseen confirmed); u1 scored 0.2 -> p = 1 x 0.25 = 0.25; u2 scored 0.5
    # -> p = 1 (clipped). Unlabelled weight 0.5: u1 -> 0.375 negative + 0.125 positive; u2 -> 0 + 0.5.
    both, weights, c = prior.pu_weights(frame, np.array([0.4, 0.6]), np.array([0.9, 0.2, 0.5, 0.1]))
    assert c == pytest.approx(0.5)
    got = sorted(zip(both["customer_id"], both["label"], weights.round(4), strict=True))
    assert got == [("k", 0, 2.0), ("p", 1, 1.0), ("u1", 0, 0.375), ("u1", 1, 0.125), ("u2", 0, 0.0),
                   ("u2", 1, 0.5)]
    assert both["decided_on"].is_monotonic_increasing
    # Another recipe's unlabelled weight scales both halves.
    _, half, _ = prior.pu_weights(frame, np.array([0.5]), np.array([0.9, 0.2, 0.5, 0.1]),
                                  replace(RECIPE, unlabelled_weight=0.25))
    assert sorted(half.round(4).tolist()) == [0.0, 0.0625, 0.1875, 0.25, 1.0, 2.0]


def test_innocent_alert_rates_by_sex_and_age_band_leave_payers_out():
    frame = pd.DataFrame({
        "kind": ["retail", "retail", "online_dater", "ocse_payer", "retail"],
        "is_male": [1.0, 0.0, 1.0, 1.0, np.nan],
        "age_years": [25, 50, 62, 55, 40],
    })
    alert = np.array([False, False, True, True, True])
    rates = prior.innocent_alert_rates(frame, alert)
    # Innocent men: the retail 25-year-old (not alerted) and the dater (alerted); the payer is left out.
    assert rates["sex"] == {"F/X": {"customers": 1, "alert_rate": 0.0},
                            "M": {"customers": 2, "alert_rate": 0.5},
                            "unknown": {"customers": 1, "alert_rate": 1.0}}
    assert rates["age"]["60+"] == {"customers": 1, "alert_rate": 1.0}
    assert rates["age"]["45-59"] == {"customers": 1, "alert_rate": 0.0}


def test_gated_margin_is_the_prior_only_with_enough_payments_abroad():
    frame = pd.DataFrame({
        "n_p2p_365d": [2, 3, np.nan],
        "n_p2p_90d": [2, 3, np.nan],
        "share_p2p_small_90d": [1.0, 1.0, np.nan],
    })
    full = prior.prior_logit(frame)
    margin = prior.gated_margin(frame)
    # Two payments: no margin (0); three: the prior (intercept + 0.4 x 1.0 + 1 x 0.8); nothing known: 0.
    assert margin.tolist() == [0.0, pytest.approx(full[1]), 0.0]
    assert full[1] == pytest.approx(prior.INTERCEPT + 0.4 + 0.8)


def test_shares_logit_leaves_out_the_indicators_that_count_payments():
    frame = pd.DataFrame({"n_p2p_90d": [6, 1], "n_payees_90d": [6, 1], "share_p2p_small_90d": [0.9, 0.9]})
    # The counts (1.0 and 0.6 at 6) are gone: both rows score the intercept + the small share's 0.8.
    assert prior.shares_logit(frame).tolist() == [pytest.approx(prior.INTERCEPT + 0.8)] * 2
    assert prior.prior_logit(frame)[0] == pytest.approx(prior.INTERCEPT + 0.8 + 1.0 + 0.6)


def test_with_sex_age_fits_the_old_recipe_on_top_of_the_model_inputs(store, fast_training):
    from model_worlds import training_frame

    from bantay.models import training_set

    frame = training_frame(store["labels"])
    specs = training_set.catalogue()
    assert "is_male" not in [s.name for s in specs] and "is_male" in frame.columns
    scorer, _ = prior._variant("with_sex_age", frame, specs, fast_training)
    scores = scorer(frame)
    assert len(scores) == len(frame) and np.all((scores > 0) & (scores < 1))
    with pytest.raises(KeyError, match="is_male"):  # the variant's model reads KYC sex
        scorer(frame.drop(columns=["is_male"]))


def test_book_relative_ranks_each_amount_among_the_customers_paying_abroad():
    frame = pd.DataFrame({
        "p2p_usd_90d": [100.0, 300.0, 200.0, 50.0, np.nan],
        "n_p2p_365d": [2, 5, 1, 0, 3],
    })
    book = prior.in_book(frame)
    assert book.tolist() == [True, True, True, False, True]
    ranked = prior.book_relative(frame, ["p2p_usd_90d"], book)
    # Book values 100, 200, 300 (the missing one is no reference): at or below 100 is 1 of 3, 300 is 3 of 3,
    # 50 (a customer outside the book) is below all of them; missing stays missing.
    assert ranked["p2p_usd_90d"].tolist()[:4] == pytest.approx([1 / 3, 1.0, 2 / 3, 0.0])
    assert np.isnan(ranked["p2p_usd_90d"].iloc[4])
    assert frame["p2p_usd_90d"].iloc[1] == 300.0  # the input is not changed
    # A bank whose amounts are ten times higher gets the same ranks.
    scaled = frame.assign(p2p_usd_90d=frame["p2p_usd_90d"] * 10)
    assert prior.book_relative(scaled, ["p2p_usd_90d"], book)["p2p_usd_90d"].tolist()[:4] == pytest.approx(
        ranked["p2p_usd_90d"].tolist()[:4])
    # No reference value: the column is missing everywhere.
    assert prior.book_relative(frame, ["p2p_usd_90d"], np.zeros(5, dtype=bool))["p2p_usd_90d"].isna().all()


def test_book_columns_are_the_amounts_and_counts_but_not_the_book_column():
    from bantay.models import training_set

    specs = training_set.catalogue()
    usd = prior.book_columns(specs, prior.BOOK_UNITS["usd"])
    every = prior.book_columns(specs, prior.BOOK_UNITS["all"])
    assert "p2p_usd_90d" in usd and "median_p2p_usd_90d" in usd and "n_p2p_90d" not in usd
    assert set(usd) < set(every) and "n_p2p_90d" in every and prior.BOOK_COLUMN not in every
    assert not {"share_p2p_small_90d", "age_years"} & set(every)


def test_book_variant_scores_a_world_whose_amounts_are_scaled_as_the_world_itself(store, fast_training):
    from model_worlds import training_frame

    from bantay.models import training_set

    frame = training_frame(store["labels"])
    specs = training_set.catalogue()
    scorer, about = prior._variant("book_usd", frame, specs, fast_training)
    assert about["book_columns"] == len(prior.book_columns(specs, prior.BOOK_UNITS["usd"]))
    usd = prior.book_columns(specs, prior.BOOK_UNITS["usd"])
    scaled = frame.assign(**{c: frame[c] * 7.5 for c in usd})
    np.testing.assert_allclose(scorer(scaled), scorer(frame))
    base, _ = prior._variant("base", frame, specs, fast_training)
    assert not np.allclose(base(scaled), base(frame))  # the absolute model moves with the amounts


def test_night_gated_keeps_night_shares_only_with_breadth_by_hand():
    frame = pd.DataFrame({
        "share_p2p_night_90d": [0.5, 0.5, 0.5, 0.5, np.nan, 0.4],
        "share_p2p_night_365d": [0.3, 0.3, 0.3, 0.3, 0.2, 0.1],
        "n_payees_90d": [2, 3, 1, 1, 1, np.nan],
        "share_p2p_burst_90d": [0.0, 0.0, 0.2, 0.0, 0.0, np.nan],
        "n_pay_confirmed_cluster_365d": [0, 0, 0, 2, 0, np.nan],
    })
    gated = prior.night_gated(frame)
    # Row 0: two payees, no burst, no confirmed cluster: no night signal. Rows 1-3: three payees, a burst, a
    # confirmed cluster. Row 4: a missing night share stays missing. Row 5: nothing known: gated.
    assert gated["share_p2p_night_90d"].tolist()[:4] == [0.0, 0.5, 0.5, 0.5]
    assert np.isnan(gated["share_p2p_night_90d"].iloc[4]) and gated["share_p2p_night_90d"].iloc[5] == 0.0
    assert gated["share_p2p_night_365d"].tolist() == [0.0, 0.3, 0.3, 0.3, 0.0, 0.0]
    assert frame["share_p2p_night_90d"].iloc[0] == 0.5  # the input is not changed
    assert "share_out_night_90d" not in gated.columns  # absent columns are not added
    with pytest.raises(KeyError, match="share_p2p_burst_90d"):
        prior.night_gated(frame.drop(columns="share_p2p_burst_90d"))


@pytest.mark.parametrize(
    "name", ["book_usd_dated", "book_usd_spread", "book_usd_night_gated", "book_usd_lead1"]
)
def test_book_variants_measured_on_2026_12_07_score_amounts_in_the_book(store, fast_training, name):
    from model_worlds import training_frame

    from bantay.models import training_set

    frame = training_frame(store["labels"])
    if name == "book_usd_lead1":  # every other payer row a lead point, which the variant weighs as 1, not 0.5
        payer_rows = frame.index[frame["label"] == 1][::2]
        frame.loc[payer_rows, "lead_days"] = 14
    specs = training_set.catalogue()
    scorer, about = prior._variant(name, frame, specs, fast_training)
    usd = prior.book_columns(specs, prior.BOOK_UNITS["usd"])
    assert about["book_columns"] == len(usd)
    scores = scorer(frame)
    assert len(scores) == len(frame) and np.all((scores > 0) & (scores < 1))
    np.testing.assert_allclose(scorer(frame.assign(**{c: frame[c] * 7.5 for c in usd})), scores)
    if name in ("book_usd_spread", "book_usd_lead1"):  # fewer features per split, or weights: another model
        book, _ = prior._variant("book_usd", frame, specs, fast_training)
        assert not np.allclose(book(frame), scores)


def test_night_gated_variant_learns_no_night_share_without_breadth(store, fast_training):
    from model_worlds import SEPARATOR, training_frame

    from bantay.models import training_set

    # The night share tells payers from look-alikes here (the separator moved into it), and nobody has a
    # breadth signal: book_usd learns the night share, the gated variant cannot see it.
    frame = training_frame(store["labels"])
    noise = np.random.default_rng(3).uniform(0, 1, len(frame))
    night = frame.assign(share_p2p_night_90d=frame[SEPARATOR], **{SEPARATOR: noise}, n_payees_90d=1,
                         share_p2p_burst_90d=0.0, n_pay_confirmed_cluster_365d=0)
    specs = training_set.catalogue()
    gated, _ = prior._variant("book_usd_night_gated", night, specs, fast_training)
    plain, _ = prior._variant("book_usd", night, specs, fast_training)
    flipped = night.assign(share_p2p_night_90d=1 - night["share_p2p_night_90d"])
    assert not np.allclose(plain(flipped), plain(night))
    np.testing.assert_allclose(gated(flipped), gated(night))  # it never saw a night share
    # Trained where everybody has breadth, it learns the night share; scoring gates too: the night share of a
    # customer without breadth does not move its score.
    broad = night.assign(n_payees_90d=5)
    learned, _ = prior._variant("book_usd_night_gated", broad, specs, fast_training)
    assert not np.allclose(learned(broad.assign(share_p2p_night_90d=flipped["share_p2p_night_90d"])),
                           learned(broad))
    np.testing.assert_allclose(learned(flipped), learned(night))
