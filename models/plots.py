"""Evaluation plots logged with each training run (matplotlib, no display): figures only, no customer ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve


def pr_curves(labels: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """Precision-recall curves of several scorers (model, rules) on the same evaluation rows."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, values in scores.items():
        precision, recall, _ = precision_recall_curve(labels, values)
        ax.step(recall, precision, where="post", label=name)
    ax.axhline(labels.mean(), color="grey", linestyle=":", label=f"base rate {labels.mean():.3f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall on the evaluation set",
           xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def score_distribution(scores: np.ndarray, groups: np.ndarray) -> Figure:
    """Histogram of scores for each group (e.g. confirmed, cleared, unlabelled sample)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    bins = np.linspace(0, 1, 41).tolist()
    for group in sorted(set(groups.tolist())):
        ax.hist(scores[groups == group], bins=bins, alpha=0.5, density=True, label=str(group))
    ax.set(xlabel="score", ylabel="density", title="Score distribution by label")
    ax.legend()
    fig.tight_layout()
    return fig


def shap_summary(contribs: np.ndarray, values: np.ndarray, columns: Sequence[str], top: int = 15) -> Figure:
    """Beeswarm-style summary of XGBoost contributions: one row per feature, coloured by its value."""
    strength = np.abs(contribs).mean(axis=0)
    order = np.argsort(strength)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(order) + 1.5))
    rng = np.random.default_rng(0)
    for y, index in enumerate(order):
        column = values[:, index].astype("float64")
        finite = np.isfinite(column)
        low, high = (np.nanpercentile(column[finite], [5, 95]) if finite.any() else (0.0, 1.0))
        colour = np.clip((column - low) / (high - low if high > low else 1.0), 0, 1)
        colour[~finite] = 0.5
        jitter = rng.uniform(-0.3, 0.3, size=len(column))
        ax.scatter(contribs[:, index], y + jitter, c=colour, cmap="coolwarm", s=6, alpha=0.6, linewidths=0)
    ax.set_yticks(range(len(order)), [columns[i] for i in order])
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="contribution to the log-odds (blue low value, red high)",
           title="Feature contributions (SHAP)")
    fig.tight_layout()
    return fig


def importance(gains: Mapping[str, float], top: int = 20) -> Figure:
    """Total gain per feature, largest first."""
    items = sorted(gains.items(), key=lambda item: item[1])[-top:]
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(items), 1) + 1.5))
    ax.barh([name for name, _ in items], [gain for _, gain in items])
    ax.set(xlabel="total gain", title="Feature importance")
    fig.tight_layout()
    return fig


def reliability(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> Figure:
    """Observed positive rate against the mean score in score bins (calibration)."""
    observed, predicted = calibration_curve(labels, scores, n_bins=bins, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.plot(predicted, observed, marker="o")
    ax.set(xlabel="mean score", ylabel="observed positive rate", title="Reliability",
           xlim=(0, 1), ylim=(0, 1))
    fig.tight_layout()
    return fig


def contributions_heatmap(table: pd.DataFrame, top: int = 15) -> Figure:
    """Mean contribution per group (rows) and feature (columns), the `top` features by largest mean."""
    values = table.drop(columns="rows")
    order = values.abs().max(axis=0).sort_values(ascending=False).index[:top]
    shown = values[order]
    limit = float(np.nanmax(np.abs(shown.to_numpy()))) if shown.size else 1.0
    fig, ax = plt.subplots(figsize=(0.55 * len(order) + 3, 0.4 * len(shown) + 2.5))
    image = ax.imshow(shown.to_numpy(), cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(order)), list(order), rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(shown)), [f"{group} ({int(n)})" for group, n in table["rows"].items()])
    fig.colorbar(image, ax=ax, label="mean contribution to the log-odds")
    ax.set_title("What lifts each typology (evaluation set, holdout model)")
    fig.tight_layout()
    return fig
