"""The validation pack's numbers, from a version's holdout predictions: confidence intervals, thresholds,
segments, label lineage, and the reference bins that daily monitoring compares against.

Everything here is pure (numpy and pandas in, numbers out); `bantay.models.tracking` logs what training
computes with it, `bantay.models.card` reads it back. Inputs never hold customer ids: the holdout predictions
are `score, rules_score, label, typology, decided_on` and the segment columns (`SEGMENTS`).

- Confidence intervals: a stratified, paired bootstrap (confirmed and other rows resampled separately, the
  same resamples for every model compared), percentile intervals at 95%.
- Thresholds: the alert line at each budget of `BUDGETS` (share of the unlabelled sample alerted, as in
  `bantay.models.evaluate`, never below `min_alert_score`), with recall and precision there.
- Segments: recall and the cleared customers' alert rate at the configured budget's line, per payer activity
  level, corridor, residence country and label typology (the look-alike kinds).
- Population stability index (PSI): `sum((actual - expected) * ln(actual / expected))` over the reference
  bins (deciles of the reference, plus one bin for missing values); shares are floored at `PSI_FLOOR` so an
  empty bin never divides by zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from bantay.models import evaluate

BUDGETS = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02)
BOOTSTRAP_ROUNDS = 400
BOOTSTRAP_SEED = 20_261_206
CI_LEVEL = 0.95
REFERENCE_BINS = 10
PSI_FLOOR = 1e-4
# Segment columns of the holdout predictions and what each groups by.
SEGMENTS = {
    "activity": "payer activity level (cross-border p2p payments in the 90 days before the decision)",
    "corridor": "main corridor of those payments",
    "residence_country": "residence country (KYC)",
    "typology": "label typology (the look-alike kinds among cleared customers)",
}
PREDICTION_COLUMNS = ("score", "rules_score", "label", "typology", "decided_on", *list(SEGMENTS)[:3])


def activity_level(n_p2p_90d: pd.Series) -> pd.Series:
    """'0-2', '3-9' or '10+' cross-border p2p payments in 90 days (the typology's 1-2 vs prolific payers)."""
    values = pd.to_numeric(n_p2p_90d, errors="coerce").fillna(0).to_numpy()
    return pd.Series(np.select([values <= 2, values <= 9], ["0-2", "3-9"], "10+"), index=n_p2p_90d.index)


def corridor(frame: pd.DataFrame) -> pd.Series:
    """Where most cross-border p2p payments of the 90 days went: 'PH', 'other source countries',
    'elsewhere', or 'none' (from `share_p2p_ph_90d`, `n_p2p_source_90d`, `n_p2p_elsewhere_90d`)."""
    ph = pd.to_numeric(frame["share_p2p_ph_90d"], errors="coerce").fillna(0).to_numpy()
    source = pd.to_numeric(frame["n_p2p_source_90d"], errors="coerce").fillna(0).to_numpy()
    elsewhere = pd.to_numeric(frame["n_p2p_elsewhere_90d"], errors="coerce").fillna(0).to_numpy()
    total = pd.to_numeric(frame["n_p2p_90d"], errors="coerce").fillna(0).to_numpy()
    labels = np.select(
        [total <= 0, ph >= 0.5, source >= elsewhere],
        ["none", "PH", "other source countries"],
        "elsewhere",
    )
    return pd.Series(labels, index=frame.index)


def holdout_predictions(
    evaluation: pd.DataFrame, model_scores: np.ndarray, rules_scores: np.ndarray
) -> pd.DataFrame:
    """`PREDICTION_COLUMNS` of the evaluation set: the holdout model's and the rules' scores, the label, its
    typology and decision date, and the segments (no customer id, no feature value)."""
    residence = (
        evaluation["residence_country"].fillna("unknown").astype(str)
        if "residence_country" in evaluation.columns
        else pd.Series("unknown", index=evaluation.index)
    )
    return pd.DataFrame({
        "score": np.asarray(model_scores, dtype="float64"),
        "rules_score": np.asarray(rules_scores, dtype="float64"),
        "label": evaluation["label"].to_numpy(dtype="int64"),
        "typology": evaluation["typology"].fillna("none").astype(str).to_numpy(),
        "decided_on": pd.to_datetime(evaluation["as_of"]).dt.date.astype(str).to_numpy(),
        "activity": activity_level(evaluation["n_p2p_90d"]).to_numpy(),
        "corridor": corridor(evaluation).to_numpy(),
        "residence_country": residence.to_numpy(),
    })


# --- metrics ---


def pr_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision; NaN when `labels` hold one class only."""
    if labels.size == 0 or labels.min() == labels.max():
        return float("nan")
    return float(average_precision_score(labels, scores))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """`pr_auc` in plain numpy (sklearn's step formula, ties as one threshold), for the bootstrap's many
    resamples; NaN when `labels` hold one class only."""
    if labels.size == 0 or labels.min() == labels.max():
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    ranked, hits = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    true_positives = np.cumsum(hits)[last]
    precision = true_positives / (last + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def recall_at_budget(
    labels: np.ndarray, scores: np.ndarray, typology: np.ndarray, budget: float, min_score: float
) -> float:
    """Share of confirmed rows at or over the budget's line (`evaluate.budget_threshold`)."""
    positives = labels == 1
    if not positives.any():
        return float("nan")
    threshold = evaluate.budget_threshold(scores, typology, budget, min_score)
    return float((scores[positives] >= threshold).mean())


def bootstrap(
    labels: np.ndarray,
    statistic: Callable[[np.ndarray], Mapping[str, float]],
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = BOOTSTRAP_SEED,
    level: float = CI_LEVEL,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each value `statistic(indices)` returns, over stratified resamples.

    Confirmed and other rows are resampled separately (each keeps its count), and every value is computed on
    the same resamples, so that differences between models are paired.
    """
    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels != 1)
    draws: dict[str, list[float]] = {}
    for _ in range(rounds):
        rows = np.concatenate([rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)])
        for name, value in statistic(rows).items():
            draws.setdefault(name, []).append(value)
    tail = (1 - level) / 2
    intervals = {}
    for name, values in draws.items():
        finite = np.asarray([v for v in values if np.isfinite(v)])
        intervals[name] = (
            (float(np.quantile(finite, tail)), float(np.quantile(finite, 1 - tail)))
            if finite.size else (float("nan"), float("nan"))
        )
    return intervals


def holdout_intervals(predictions: pd.DataFrame, budget: float, min_score: float) -> dict[str, float]:
    """95% bootstrap intervals of the holdout PR-AUC and recall at the budget, for the model and the rules,
    and of the model's PR-AUC gain over the rules: metric names `<metric>_ci_low` / `_ci_high`."""
    labels = predictions["label"].to_numpy(dtype="int64")
    model = predictions["score"].to_numpy(dtype="float64")
    rules = predictions["rules_score"].to_numpy(dtype="float64")
    typology = predictions["typology"].astype(str).to_numpy()

    def statistic(rows: np.ndarray) -> dict[str, float]:
        y, kinds = labels[rows], typology[rows]
        model_auc, rules_auc = average_precision(y, model[rows]), average_precision(y, rules[rows])
        return {
            "pr_auc": model_auc,
            "rules_pr_auc": rules_auc,
            "pr_auc_gain_vs_rules": model_auc - rules_auc,
            "recall_at_budget": recall_at_budget(y, model[rows], kinds, budget, min_score),
            "rules_recall_at_budget": recall_at_budget(y, rules[rows], kinds, budget, 0.0),
        }

    out = {}
    for name, (low, high) in bootstrap(labels, statistic).items():
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = low, high
    return out


def paired_comparison(
    labels: np.ndarray, challenger: np.ndarray, champion: np.ndarray
) -> dict[str, float]:
    """PR-AUC of two models on the same rows, their difference, and 95% bootstrap intervals of all three."""
    def statistic(rows: np.ndarray) -> dict[str, float]:
        a = average_precision(labels[rows], challenger[rows])
        b = average_precision(labels[rows], champion[rows])
        return {"challenger": a, "champion": b, "gain": a - b}

    point = statistic(np.arange(labels.size))
    out = dict(point)
    for name, (low, high) in bootstrap(labels, statistic).items():
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = low, high
    return out


def budget_key(budget: float) -> str:
    """A metric name fragment for a budget: 0.0025 -> '0p25pct'."""
    return f"{budget * 100:g}pct".replace(".", "p")


def threshold_metrics(
    predictions: pd.DataFrame, min_score: float, budgets: Sequence[float] = BUDGETS
) -> dict[str, float]:
    """At each budget's line: threshold, alert share of the unlabelled sample, recall, precision among the
    labelled, confirmed and cleared rows over the line. Metric names `budget_<key>_<what>`."""
    labels = predictions["label"].to_numpy(dtype="int64")
    scores = predictions["score"].to_numpy(dtype="float64")
    typology = predictions["typology"].astype(str).to_numpy()
    unlabelled = typology == evaluate.UNLABELLED
    out: dict[str, float] = {}
    for budget in budgets:
        threshold = evaluate.budget_threshold(scores, typology, budget, min_score)
        over = scores >= threshold
        key = f"budget_{budget_key(budget)}"
        labelled_over = over & ~unlabelled
        out |= {
            f"{key}_threshold": threshold,
            f"{key}_alert_share_unlabelled": float(over[unlabelled].mean()) if unlabelled.any() else np.nan,
            f"{key}_recall": float(over[labels == 1].mean()) if (labels == 1).any() else np.nan,
            f"{key}_precision": float((labels[labelled_over] == 1).mean()) if labelled_over.any() else 0.0,
            f"{key}_confirmed_over": float((over & (labels == 1)).sum()),
            f"{key}_cleared_over": float((over & (labels == 0) & ~unlabelled).sum()),
        }
    return out


def threshold_table(metrics: Mapping[str, float], budgets: Sequence[float] = BUDGETS) -> list[dict[str, Any]]:
    """`threshold_metrics` (as logged on a run) as one row per budget; budgets not logged are left out."""
    rows = []
    for budget in budgets:
        key = f"budget_{budget_key(budget)}"
        if f"{key}_threshold" not in metrics:
            continue
        rows.append({"budget": budget, **{
            what: metrics[f"{key}_{what}"]
            for what in ("threshold", "alert_share_unlabelled", "recall", "precision", "confirmed_over",
                         "cleared_over")
            if f"{key}_{what}" in metrics
        }})
    return rows


def segment_table(predictions: pd.DataFrame, budget: float, min_score: float) -> pd.DataFrame:
    """Per segment value: rows, confirmed, cleared, unlabelled, recall and the cleared rows' alert rate at
    the budget's line (drawn over all rows), and the PR-AUC within the segment (NaN with one class)."""
    labels = predictions["label"].to_numpy(dtype="int64")
    scores = predictions["score"].to_numpy(dtype="float64")
    typology = predictions["typology"].astype(str).to_numpy()
    over = scores >= evaluate.budget_threshold(scores, typology, budget, min_score)
    unlabelled = typology == evaluate.UNLABELLED
    rows = []
    for segment in SEGMENTS:
        if segment not in predictions.columns:
            continue
        values = predictions[segment].astype(str).to_numpy()
        for value in sorted(set(values.tolist())):
            inside = values == value
            confirmed = inside & (labels == 1)
            cleared = inside & (labels == 0) & ~unlabelled
            rows.append({
                "segment": segment,
                "value": value,
                "rows": int(inside.sum()),
                "confirmed": int(confirmed.sum()),
                "cleared": int(cleared.sum()),
                "unlabelled": int((inside & unlabelled).sum()),
                "recall": float(over[confirmed].mean()) if confirmed.any() else float("nan"),
                "cleared_alert_rate": float(over[cleared].mean()) if cleared.any() else float("nan"),
                "pr_auc": pr_auc(labels[inside], scores[inside]),
            })
    return pd.DataFrame(rows, columns=["segment", "value", "rows", "confirmed", "cleared", "unlabelled",
                                       "recall", "cleared_alert_rate", "pr_auc"])


def label_lineage(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts of the training table's rows by decision month, outcome and typology: `period, outcome,
    typology, decisions, lead_points` (the unlabelled sample as outcome 'unlabelled sample')."""
    decision = frame["lead_days"].to_numpy() == 0
    outcome = np.where(frame["typology"] == evaluate.UNLABELLED, "unlabelled sample",
                       np.where(frame["label"].to_numpy() == 1, "confirmed", "cleared"))
    keys = pd.DataFrame({
        "period": pd.to_datetime(frame["decided_on"]).dt.strftime("%Y-%m").to_numpy(),
        "outcome": outcome,
        "typology": frame["typology"].fillna("none").astype(str).to_numpy(),
        "decisions": decision.astype("int64"),
        "lead_points": (~decision).astype("int64"),
    })
    counted = keys.groupby(["period", "outcome", "typology"], as_index=False)[["decisions", "lead_points"]]
    return counted.sum().sort_values(["period", "outcome", "typology"]).reset_index(drop=True)


# --- population stability ---


def reference_bins(values: pd.Series | np.ndarray, bins: int = REFERENCE_BINS) -> dict[str, Any]:
    """Cut points (distinct interior quantiles of the non-missing values), the share of the reference in
    each bucket (bucket i: `cuts[i-1] <= value < cuts[i]`) and the null share."""
    array = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    present = array[np.isfinite(array)]
    total = array.size
    if present.size:
        quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
        cuts = sorted({float(q) for q in quantiles})
    else:
        cuts = []
    counts = bucket_counts(present, cuts)
    return {
        "cuts": cuts,
        "shares": [c / total if total else 0.0 for c in counts],
        "null_share": float((total - present.size) / total) if total else 0.0,
        "rows": int(total),
    }


def bucket_counts(values: np.ndarray, cuts: Sequence[float]) -> list[int]:
    """How many of the (non-missing) `values` fall in each bucket of `cuts` (the number of cuts <= value)."""
    index = np.searchsorted(np.asarray(cuts, dtype="float64"), values, side="right")
    counts: list[int] = np.bincount(index, minlength=len(cuts) + 1).astype(int).tolist()
    return counts


def psi(reference: Mapping[str, Any], counts: Sequence[int], nulls: int) -> float:
    """PSI of a day's bucket `counts` and `nulls` against a `reference_bins` entry; NaN for an empty day."""
    actual = np.asarray([*counts, nulls], dtype="float64")
    total = actual.sum()
    if total <= 0:
        return float("nan")
    expected = np.maximum(np.asarray([*reference["shares"], reference["null_share"]], dtype="float64"),
                          PSI_FLOOR)
    actual = np.maximum(actual / total, PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
