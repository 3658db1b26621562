"""Learning from few labels: the typology as a prior, positive-unlabelled weighting, and training variants
compared across worlds (benchmarks/quality.py --variants; results in docs/experiments.md).

`prior_logit(frame)` is an indicator score with hand-set weights from the published indicators
(docs: /work/shared/domain/typology.md, O1-O12 and F5), on the feature table's columns: each indicator is a
ramp from 0 (at or below `low`) to 1 (at or above `high`), times its weight; a missing value counts 0.
Innocent signatures (payees sharing the sender's surname, payments to the sender's own nationality, one
stable payee) carry negative weights, as the typology's look-alikes section describes. Sex and age are not
in it: grounds are activity, never who the customer is. The weights were set from the guidance before any
world was scored, and not tuned on any.

`VARIANTS` names each way of training measured; `compare` fits each on one training set and ranks every
scored world's customers by it (top `budget` share = alerts). Nothing here is used by `bantay train` unless
docs/experiments.md says it was kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from bantay.models import evaluate, fit, ranks
from bantay.models.recipe import RECIPE, Recipe


@dataclass(frozen=True)
class Indicator:
    """`weight` x a ramp of `column` from `low` (0) to `high` (1)."""

    typology_id: str
    column: str
    low: float
    high: float
    weight: float
    why: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("O1", "n_p2p_90d", 1, 6, 1.0, "small repeated payments abroad: several in a quarter"),
    Indicator("O1", "share_p2p_small_90d", 0.5, 0.9, 0.8, "most of them under USD 200"),
    Indicator("O1", "n_p2p_ph_90d", 0, 4, 0.6, "PH is about 75% of the corridor"),
    Indicator("O1", "n_p2p_source_90d", 0, 4, 0.6, "the other source countries (TH, CO, DO, MX, GH, RO)"),
    Indicator("O3", "escalation_amount_ratio_365d", 1.2, 2.5, 0.5, "amounts rise 1.5-3x as gaps shrink"),
    Indicator("O4", "share_p2p_new_payee_90d", 0.2, 0.6, 1.0, "30-60% to a payee first seen in 30 days"),
    Indicator("O4", "n_payees_90d", 2, 6, 0.6, "3-15 payees a year"),
    Indicator("O4", "share_p2p_unrelated_surname_90d", 0.5, 1.0, 0.6, "no shared surname with the sender"),
    Indicator("O5", "share_p2p_night_90d", 0.15, 0.5, 0.8, "40-60% at night, baseline about 10%"),
    Indicator("O6", "share_p2p_round_90d", 0.4, 0.8, 0.4, "60-80% round amounts"),
    Indicator("O7", "share_p2p_keyword_90d", 0.15, 0.5, 0.3, "30-50% innocent-sounding references"),
    Indicator("O8", "n_related_card_90d", 0, 3, 0.6, "1-4 related card payments a month (weak alone)"),
    Indicator("O9", "share_p2p_cash_90d", 0.1, 0.5, 0.3, "cash pick-up through money-transfer operators"),
    Indicator("O9", "share_p2p_crypto_90d", 0, 0.2, 0.2, "crypto or gift cards 5%+"),
    Indicator("O12", "share_p2p_burst_90d", 0, 0.25, 0.5, "2-4 payments within 2 hours"),
    Indicator("F5", "n_pay_confirmed_cluster_365d", 0, 1, 2.0, "pays a cluster paid by confirmed cases"),
    # The look-alikes' signatures (typology.md, "Innocent look-alikes"): family remittances.
    Indicator("O10", "share_payees_same_surname_365d", 0.2, 0.8, -1.2, "payees share the sender's surname"),
    Indicator("O10", "share_p2p_to_nationality_90d", 0.3, 0.9, -0.8, "payments home to own nationality"),
    Indicator("O4", "share_p2p_top_payee_365d", 0.6, 0.95, -0.6, "one stable payee"),
)
# The score of a customer with no indicator: about 1 in 150 customers pays (0.6-1.2% by world).
INTERCEPT = -5.0
SEX_AGE = ("age_years", "is_male")
AGE_BANDS = (0, 30, 45, 60, 200)
AGE_BAND_NAMES = ("<30", "30-44", "45-59", "60+")


# Indicators that count payments: they need several payments to rise, so they hold a short payer down.
COUNTING = frozenset({"n_p2p_90d", "n_p2p_ph_90d", "n_p2p_source_90d", "n_payees_90d", "n_related_card_90d"})
# `gated_margin`: the prior is the margin only with at least this many payments abroad in 365 days.
GATE_PAYMENTS = 3
GATE_COLUMN = "n_p2p_365d"


def prior_logit(frame: pd.DataFrame, indicators: Sequence[Indicator] = INDICATORS) -> np.ndarray:
    """The typology prior of each row of `frame` (a feature table), on the log-odds scale."""
    total = np.full(len(frame), INTERCEPT)
    for ind in indicators:
        if ind.column not in frame.columns:
            continue
        values = pd.to_numeric(frame[ind.column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        ramp = np.clip((values - ind.low) / (ind.high - ind.low), 0.0, 1.0)
        total += ind.weight * np.nan_to_num(ramp, nan=0.0)
    return total


def gated_margin(frame: pd.DataFrame, payments: int = GATE_PAYMENTS) -> np.ndarray:
    """The prior where the customer made at least `payments` payments abroad in 365 days (enough to judge a
    pattern); 0 (no push either way: the trees alone decide) below."""
    count = pd.to_numeric(frame.get(GATE_COLUMN, pd.Series(np.nan, index=frame.index)), errors="coerce")
    enough = count.fillna(0).to_numpy() >= payments
    return np.where(enough, prior_logit(frame), 0.0)


def shares_logit(frame: pd.DataFrame) -> np.ndarray:
    """The prior without the indicators that count payments (`COUNTING`): shares, ratios and F5 only, so a
    customer with two payments is judged on their shape, not held down for their number."""
    return prior_logit(frame, [ind for ind in INDICATORS if ind.column not in COUNTING])


# `book_relative`: the columns whose scale is the bank's own (amounts, and counts of payments and payees), and
# the column that says a customer pays abroad (the book the ranks are taken in).
BOOK_UNITS = {"usd": ("USD", "USD (median)"), "all": ("USD", "USD (median)", "count")}
BOOK_COLUMN = ranks.REFERENCE_COLUMN


def book_columns(specs: Sequence[Any], units: Sequence[str]) -> list[str]:
    """The model inputs among `specs` whose unit is one of `units` (the reference column itself stays
    absolute: it says who is in the book)."""
    return [s.name for s in specs if getattr(s, "unit", None) in units and s.name != BOOK_COLUMN]


def book_relative(frame: pd.DataFrame, columns: Sequence[str], reference: np.ndarray) -> pd.DataFrame:
    """`frame` with each of `columns` replaced by its rank among the `reference` rows (`ranks.ranked`, no raw
    values kept)."""
    return ranks.ranked(frame, columns, reference, keep_raw=False)


in_book = ranks.in_book

# `night_gated` (benchmark variant book_usd_night_gated, measured 2026-12-07 and not kept): the night shares
# (O5) count only for a customer with a breadth signal (O4 payees, O12 bursts or F5 a confirmed cluster).
NIGHT_COLUMNS = ("share_p2p_night_30d", "share_p2p_night_90d", "share_p2p_night_365d", "share_out_night_90d")
NIGHT_GATE_PAYEES = 3
NIGHT_GATE_COLUMNS = ("n_payees_90d", "share_p2p_burst_90d", "n_pay_confirmed_cluster_365d")


def night_gated(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each night share set to 0 where the customer paid fewer than `NIGHT_GATE_PAYEES` payees in
    90 days, made no burst payment and paid no cluster of a confirmed case (missing values stay missing; the
    input is not changed). Raises KeyError when a breadth column is absent (a renamed feature would otherwise
    gate every night share silently)."""
    missing = [c for c in NIGHT_GATE_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"night_gated needs the breadth columns {', '.join(missing)}")

    def column(name: str) -> np.ndarray:
        return np.asarray(pd.to_numeric(frame[name], errors="coerce").fillna(0), dtype="float64")

    broad = ((column("n_payees_90d") >= NIGHT_GATE_PAYEES) | (column("share_p2p_burst_90d") > 0)
             | (column("n_pay_confirmed_cluster_365d") > 0))
    present = [c for c in NIGHT_COLUMNS if c in frame.columns]
    return frame.assign(**{c: frame[c].where(broad | frame[c].isna(), 0.0) for c in present})


@dataclass(frozen=True)
class _Spec:
    name: str
    monotone: int = 0


Scorer = Callable[[pd.DataFrame], np.ndarray]


def _columns(specs: Sequence[Any]) -> tuple[list[str], list[int]]:
    return [s.name for s in specs], [int(s.monotone) for s in specs]


def fit_custom(
    frame: pd.DataFrame,
    specs: Sequence[Any],
    row_weights: np.ndarray,
    margin: np.ndarray | None = None,
    recipe: Recipe = RECIPE,
) -> xgb.Booster:
    """`fit.fit_frame`'s holdout-then-refit with given row weights and an optional base margin (log-odds
    every tree adds to): early stopping on the stop part picks the rounds, then every row is refitted."""
    columns, monotone = _columns(specs)
    fit_mask, stop_mask, _ = fit.time_split(frame, recipe)
    labels = frame["label"].to_numpy()
    fit_idx, stop_idx = fit_mask.to_numpy(), stop_mask.to_numpy()

    def matrix(rows: np.ndarray) -> xgb.DMatrix:
        part = frame[rows]
        return xgb.DMatrix(part[columns].astype("float64"), label=labels[rows], weight=row_weights[rows],
                           base_margin=None if margin is None else margin[rows], feature_names=columns)

    def ratio(rows: np.ndarray) -> float:
        w, y = row_weights[rows], labels[rows]
        return float(np.sqrt(w[y == 0].sum() / w[y == 1].sum()))

    params = {**recipe.params(), "scale_pos_weight": ratio(fit_idx),
              "monotone_constraints": "(" + ",".join(str(m) for m in monotone) + ")"}
    holdout = xgb.train(params, matrix(fit_idx), num_boost_round=recipe.max_rounds,
                        evals=[(matrix(stop_idx), "stop")],
                        early_stopping_rounds=recipe.early_stopping_rounds, verbose_eval=False)
    everything = np.ones(len(frame), dtype=bool)
    return xgb.train({**params, "scale_pos_weight": ratio(everything)}, matrix(everything),
                     num_boost_round=int(holdout.best_iteration) + 1)


def predict_custom(booster: xgb.Booster, frame: pd.DataFrame, specs: Sequence[Any],
                   margin: np.ndarray | None = None) -> np.ndarray:
    columns, _ = _columns(specs)
    data = xgb.DMatrix(frame[columns].astype("float64"), base_margin=margin, feature_names=columns)
    return booster.predict(data).astype("float64")


def pu_weights(frame: pd.DataFrame, holdout_scores: np.ndarray, production_scores: np.ndarray,
               recipe: Recipe = RECIPE) -> tuple[pd.DataFrame, np.ndarray, float]:
    """Positive-unlabelled weighting (Elkan and Noto 2008): c = P(labelled | payer), estimated as the mean
    score the holdout model gives confirmed decisions it never saw (`holdout_scores` of the evaluation
    part's confirmed rows); each unlabelled row with score g is a payer with probability
    p = (1 - c) / c x g / (1 - g) (clipped to [0, 1]) and enters twice: as a negative weighted 1 - p and as a
    positive weighted p (both times `recipe.unlabelled_weight`). Returns the frame, its weights and c."""
    c = float(np.clip(np.mean(holdout_scores), 0.05, 0.99))
    unlabelled = (frame["typology"] == evaluate.UNLABELLED).to_numpy()
    g = np.clip(production_scores, 1e-6, 1 - 1e-6)
    p = np.clip((1 - c) / c * g / (1 - g), 0.0, 1.0)
    base = fit.weights(frame, recipe)
    hidden = frame[unlabelled].assign(label=1)
    both = pd.concat([frame, hidden], ignore_index=True)
    weights = np.concatenate([np.where(unlabelled, base * (1 - p), base), base[unlabelled] * p[unlabelled]])
    order = np.argsort(both["decided_on"].to_numpy(), kind="stable")
    return both.iloc[order].reset_index(drop=True), weights[order], c


def _variant(
    name: str, frame: pd.DataFrame, specs: Sequence[Any], recipe: Recipe
) -> tuple[Scorer, dict[str, Any]]:
    """Fit variant `name` on the training `frame`; return its scorer and what it reports about itself.

    Every variant trains on raw amounts (`book_relative` off), as when they were measured: `base` is the
    recipe before book-relative amounts, `book_usd` the choice that `bantay train` now makes itself."""
    recipe = replace(recipe, book_relative=False)
    columns, _ = _columns(specs)
    if name == "base":
        fitted = fit.fit_frame(frame, specs, recipe)
        return (lambda w: fit.predict(fitted.production, w, columns)), {}
    if name == "with_sex_age":  # the recipe before 2026-12-06: KYC sex (monotone +1) and age as inputs
        from bantay.features.catalogue import FEATURES

        extended = [*specs, *(replace(s, model_input=True, monotone=1 if s.name == "is_male" else 0)
                              for s in FEATURES if s.name in SEX_AGE)]
        fitted = fit.fit_frame(frame, extended, recipe)
        return (lambda w: fit.predict(fitted.production, w, _columns(extended)[0])), {}
    if name == "prior_only":
        return prior_logit, {}
    if name == "prior_feature":
        extended = [*specs, _Spec("typology_prior", 1)]
        fitted = fit.fit_frame(frame.assign(typology_prior=prior_logit(frame)), extended, recipe)
        return (lambda w: fit.predict(fitted.production, w.assign(typology_prior=prior_logit(w)),
                                      _columns(extended)[0])), {}
    if name == "prior_margin":
        booster = fit_custom(frame, specs, fit.weights(frame, recipe), prior_logit(frame), recipe)
        return (lambda w: predict_custom(booster, w, specs, prior_logit(w))), {}
    if name in MARGINS:
        margin = MARGINS[name]
        booster = fit_custom(frame, specs, fit.weights(frame, recipe), margin(frame), recipe)
        return (lambda w: predict_custom(booster, w, specs, margin(w))), {}
    if name in BOOK_VARIANTS or name in BOOK_USD_VARIANTS:
        # Training's reference is the unlabelled sample (a random sample of the book over the training
        # period); a scored world's is its own feature table (the whole book on its date).
        book = book_columns(specs, BOOK_UNITS[BOOK_VARIANTS.get(name, "usd")])
        reference = (frame["typology"] == evaluate.UNLABELLED).to_numpy() & in_book(frame)
        if name == "book_usd_spread":
            # Fewer features offered to each tree and each split (`SPREAD`), so that no single indicator of
            # the training world carries the score alone (the daters' diagnostic, 2026-12-07).
            recipe = replace(recipe, colsample_bytree=SPREAD[0], colsample_bynode=SPREAD[1])
        if name == "book_usd_lead1":
            # The payers' lead points (their earlier, shorter states) weigh as much as their decisions
            # (measured on worlds 52-56, 2026-12-07, not kept).
            recipe = replace(recipe, lead_weight=1.0)
        # book_usd_dated: each training row ranked among the unlabelled book rows nearest its own date
        # (`DATED_REFERENCE` of them), the book of about that day, as a scored day is ranked among its own.
        training = (ranks.ranked_near_dates(frame, book, reference, DATED_REFERENCE, keep_raw=False)
                    if name == "book_usd_dated" else book_relative(frame, book, reference))
        gate: Callable[[pd.DataFrame], pd.DataFrame] = (
            night_gated if name == "book_usd_night_gated" else (lambda w: w))
        fitted = fit.fit_frame(gate(training), specs, recipe)
        return (lambda w: fit.predict(fitted.production, gate(book_relative(w, book, in_book(w))),
                                      columns)), {"book_columns": len(book)}
    if name == "pu_weight":
        fitted = fit.fit_frame(frame, specs, recipe)
        confirmed = fitted.evaluation["label"].to_numpy() == 1
        holdout = fit.predict(fitted.booster, fitted.evaluation, columns)[confirmed]
        relabelled, weights, c = pu_weights(frame, holdout, fit.predict(fitted.production, frame, columns),
                                            recipe)
        booster = fit_custom(relabelled, specs, weights, None, recipe)
        return (lambda w: predict_custom(booster, w, specs)), {"pu_c": round(c, 4)}
    raise ValueError(f"unknown variant {name!r}; expected one of {', '.join(VARIANTS)}")


MARGINS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "prior_margin_gated": gated_margin, "prior_margin_shares": shares_logit,
}
BOOK_VARIANTS = {"book_usd": "usd", "book_all": "all"}
# book_usd changed in one respect each (all measured on fresh worlds and not kept: docs/experiments.md)
BOOK_USD_VARIANTS = ("book_usd_dated", "book_usd_spread", "book_usd_night_gated", "book_usd_lead1")
DATED_REFERENCE = 500  # book_usd_dated: how many unlabelled book rows nearest its date a row is ranked in
SPREAD = (0.6, 0.5)  # book_usd_spread's colsample_bytree and colsample_bynode (the recipe: 0.9 and 0.7)
VARIANTS = ("base", "with_sex_age", "prior_only", "prior_feature", "prior_margin", "pu_weight", *MARGINS,
            *BOOK_VARIANTS, *BOOK_USD_VARIANTS)


def top_share(scores: np.ndarray, budget: float) -> np.ndarray:
    """Alerts: the `budget` share of customers with the highest scores (at least one; ties by position)."""
    k = max(1, int(np.floor(budget * len(scores))))
    alert = np.zeros(len(scores), dtype=bool)
    alert[np.argsort(-scores, kind="stable")[:k]] = True
    return alert


def innocent_alert_rates(frame: pd.DataFrame, alert: np.ndarray) -> dict[str, Any]:
    """Alert rate among innocent customers (every kind but payers) by KYC sex and age band."""
    innocent = (frame["kind"] != "ocse_payer").to_numpy()
    male = pd.to_numeric(frame["is_male"], errors="coerce").to_numpy()
    sex = np.where(male == 1, "M", np.where(male == 0, "F/X", "unknown"))
    band = pd.cut(pd.to_numeric(frame["age_years"], errors="coerce"), AGE_BANDS, right=False,
                  labels=AGE_BAND_NAMES).astype(str).to_numpy()
    out: dict[str, Any] = {}
    for name, groups in (("sex", sex), ("age", band)):
        out[name] = {g: {"customers": int((innocent & (groups == g)).sum()),
                         "alert_rate": round(float(alert[innocent & (groups == g)].mean()), 5)}
                     for g in sorted(set(groups[innocent].tolist())) if (innocent & (groups == g)).any()}
    return out


def compare(
    spark: Any,
    settings: Any,
    as_of: date,
    worlds: dict[str, pd.DataFrame],
    variants: Sequence[str],
    metrics: Callable[..., dict[str, Any]],
    recipe: Recipe = RECIPE,
) -> dict[str, dict[str, Any]]:
    """Each variant fitted on the training set as of `as_of` (`settings`' ledger), scored on every world's
    feature frame (`worlds`: frames with the features, `kind`, `ocse_payments`, `investigated`); returns
    `metrics(frame, alert, score)` per variant and world, with the innocent alert rates by sex and age."""
    from bantay.features.catalogue import model_columns
    from bantay.models import training_set

    specs = training_set.catalogue()
    # Every column of the feature table, so a variant may add one the model does not use (sex and age).
    table = training_set.training_rows(spark, settings, as_of, model_columns(), recipe)
    frame = training_set.to_frame(table)
    table.unpersist()
    return compare_frame(frame, specs, worlds, variants, metrics, settings.alert_budget, recipe)


def compare_frame(
    frame: pd.DataFrame,
    specs: Sequence[Any],
    worlds: dict[str, pd.DataFrame],
    variants: Sequence[str],
    metrics: Callable[..., dict[str, Any]],
    budget: float,
    recipe: Recipe = RECIPE,
) -> dict[str, dict[str, Any]]:
    """`compare` on a training table already on the driver (`training_set.to_frame`'s output)."""
    out: dict[str, dict[str, Any]] = {}
    for name in variants:
        scorer, about = _variant(name, frame, specs, recipe)
        out[name] = {}
        for world, data in worlds.items():
            scores = scorer(data)
            alert = top_share(scores, budget)
            out[name][world] = {**metrics(data, alert, scores), **about,
                                "innocent_alert_rate": innocent_alert_rates(data, alert)}
    return out
