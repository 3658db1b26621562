"""The reason table: templates name catalogue columns, render with values, fall back to definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from bantay.features import reasons
from bantay.features.catalogue import FEATURES, model_columns
from bantay.models import baseline, explain


def test_reasons_refer_only_to_catalogue_columns():
    columns = set(model_columns())
    for reason in reasons.REASONS.values():
        assert reason.feature in columns, reason.code
        assert set(reasons.template_columns(reason.template)) <= columns, reason.code
    assert len({r.feature for r in reasons.REASONS.values()}) == len(reasons.REASONS)
    assert all(set(rule.columns) <= columns for rule in baseline.RULES)


def test_render_writes_the_values_in_investigators_words():
    reason = reasons.REASONS["R_SMALL_REPEAT_PH"]
    text = reasons.render(reason, {"n_p2p_ph_90d": 31.0, "n_payees_90d": 9.0, "median_p2p_usd_90d": 42.4})
    assert text == "31 payments to individuals in the Philippines in 90 days (9 payees abroad), median USD 42"
    night = reasons.render(reasons.REASONS["R_NIGHT"], {"share_p2p_night_90d": 0.583})
    assert night == "58% of payments abroad made between 21:00 and 03:00 local time (90 days)"
    missing = {"n_p2p_ph_90d": 31.0, "n_payees_90d": None, "median_p2p_usd_90d": 42.0}
    assert reasons.render(reason, missing) is None


def test_explain_feature_falls_back_to_the_catalogue_definition():
    # The median is undefined: the template cannot be filled, so the definition and the count are shown.
    values = {"n_p2p_ph_90d": 12.0, "n_payees_90d": 3.0, "median_p2p_usd_90d": float("nan")}
    code, text = reasons.explain_feature("n_p2p_ph_90d", values, "number of p2p payments to the Philippines",
                                         "count", 90)
    assert (code, text) == ("R_SMALL_REPEAT_PH", "number of p2p payments to the Philippines (90 days): 12")
    code, text = reasons.explain_feature("in_usd_90d", {"in_usd_90d": 5230.4}, "total inbound", "USD", 90)
    assert (code, text) == ("R_IN_USD_90D", "total inbound (90 days): USD 5,230")


def test_top_reasons_keeps_positive_contributions_largest_first():
    columns = ["share_p2p_night_90d", "n_p2p_ph_90d", "in_usd_90d"]
    frame = pd.DataFrame({"share_p2p_night_90d": [0.5, 0.1], "n_p2p_ph_90d": [20.0, 1.0],
                          "in_usd_90d": [900.0, 10.0]})
    contribs = np.array([[0.8, 1.5, -0.2],      # two positive contributions, the count first
                         [-0.3, -0.1, -0.9]])   # none positive: the largest one still explains the row
    info = explain.feature_info(columns)
    out = explain.top_reasons(contribs, frame, columns, info, k=3)
    assert [r["code"] for r in out[0]] == ["R_SMALL_REPEAT_PH", "R_NIGHT"]
    assert [r["contribution"] for r in out[0]] == [1.5, 0.8]
    assert [r["feature"] for r in out[0]] == ["n_p2p_ph_90d", "share_p2p_night_90d"]
    assert out[0][1]["text"] == "50% of payments abroad made between 21:00 and 03:00 local time (90 days)"
    assert [(r["code"], r["value"]) for r in out[1]] == [("R_SMALL_REPEAT_PH", 1.0)]
    assert {spec.name for spec in FEATURES} >= set(info)


def test_reasons_are_measured_against_the_stored_baseline():
    columns = ["share_p2p_night_90d", "n_p2p_ph_90d", "in_usd_90d"]
    frame = pd.DataFrame({"share_p2p_night_90d": [0.5], "n_p2p_ph_90d": [20.0], "in_usd_90d": [900.0]})
    contribs = np.array([[0.8, 1.5, 0.1]])
    # A typical customer paying abroad gets +1.4 from the count: this one stands out by its night share.
    reference = np.array([0.1, 1.4, 0.3])
    info = explain.feature_info(columns)
    out = explain.top_reasons(contribs, frame, columns, info, k=3, reference=reference)
    assert [r["code"] for r in out[0]] == ["R_NIGHT", "R_SMALL_REPEAT_PH"]
    assert [r["contribution"] for r in out[0]] == [0.8, 1.5]  # raw TreeSHAP values, as reported


def test_baseline_travels_with_the_model_file():
    rng = np.random.default_rng(3)
    columns = ["n_p2p_365d", "share_p2p_night_90d"]
    frame = pd.DataFrame({"n_p2p_365d": rng.integers(0, 5, 400).astype(float),
                          "share_p2p_night_90d": rng.uniform(0, 1, 400)})
    label = ((frame["share_p2p_night_90d"] > 0.6) & (frame["n_p2p_365d"] > 1)).astype(int)
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(frame, label=label), 20)
    stored = explain.set_baseline(booster, frame, columns)
    paying = frame[frame["n_p2p_365d"] > 0]
    expected = explain.contributions(booster, paying, columns).mean(axis=0)
    assert np.allclose([stored[c] for c in columns], expected, atol=1e-6)
    loaded = xgb.Booster()
    loaded.load_model(bytearray(booster.save_raw("ubj")))
    assert np.allclose(explain.baseline(loaded, columns), expected, atol=1e-6)
    assert not explain.baseline(xgb.Booster(), columns).any()  # a model without one: zeros
    # Above the cap, a fixed sample of the customers paying abroad: same answer run after run, close to all.
    first = explain.set_baseline(booster, frame, columns, max_rows=100)
    assert explain.set_baseline(booster, frame, columns, max_rows=100) == first
    assert np.allclose([first[c] for c in columns], expected, atol=0.1)
