"""Evaluation metrics on the time-ordered evaluation set (the later decisions).

The evaluation set holds the later labelled customers plus the unlabelled sample of the same period (as
negatives, typology `unlabelled`). "At the budget" means: the score threshold that alerts `alert_budget` of
the unlabelled sample (a stand-in for the whole scored population, which is nearly all unlabelled), never
below `min_alert_score`; recall is the share of confirmed cases over it, precision the share of confirmed
among the labelled customers over it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss

UNLABELLED = "unlabelled"


def budget_threshold(scores: np.ndarray, typology: np.ndarray, budget: float, min_score: float) -> float:
    """The score an alert needs: the (1 - budget) quantile over the unlabelled rows (all rows if none)."""
    population = scores[typology == UNLABELLED]
    if population.size == 0:
        population = scores
    return float(max(np.quantile(population, 1 - budget, method="higher"), min_score))


def metric_key(text: str) -> str:
    """A safe MLflow metric name fragment from a typology value."""
    return re.sub(r"[^a-z0-9_]+", "_", str(text).lower()).strip("_")[:40] or "none"


def metrics(
    frame: pd.DataFrame,
    scores: np.ndarray,
    budget: float,
    min_score: float,
    prefix: str = "",
) -> dict[str, float]:
    """PR-AUC, recall and precision at the budget, alert rate per cleared typology, Brier score.

    `frame` has `label` (0/1) and `typology` columns aligned with `scores`.
    """
    labels = frame["label"].to_numpy(dtype="int64")
    typology = frame["typology"].fillna("none").astype(str).to_numpy()
    labelled = typology != UNLABELLED
    threshold = budget_threshold(scores, typology, budget, min_score)
    over = scores >= threshold
    positives = labels == 1
    out = {
        "pr_auc": float(average_precision_score(labels, scores)),
        "pr_auc_labelled": float(average_precision_score(labels[labelled], scores[labelled]))
        if labelled.any() and labels[labelled].min() != labels[labelled].max()
        else float("nan"),
        "brier": float(brier_score_loss(labels, np.clip(scores, 0, 1))),
        "threshold_at_budget": threshold,
        "recall_at_budget": float(over[positives].mean()) if positives.any() else float("nan"),
        "precision_at_budget": float(positives[over & labelled].mean()) if (over & labelled).any() else 0.0,
        "alert_rate_unlabelled": float(over[~labelled].mean()) if (~labelled).any() else float("nan"),
    }
    for kind in sorted(set(typology[labelled & ~positives].tolist())):
        rows = labelled & ~positives & (typology == kind)
        out[f"alert_rate_{metric_key(kind)}"] = float(over[rows].mean())
    return {f"{prefix}{key}": value for key, value in out.items()}
