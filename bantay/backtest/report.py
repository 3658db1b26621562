"""The backtest's report: four charts (matplotlib, Agg) and one self-contained HTML page of aggregates.

Nothing here names a customer: the page, the charts and the weekly and daily tables hold counts, shares
and days only, so they may also go to MLflow. The per-payer table stays on disk, owner-only.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def recall_precision_png(weeks: pd.DataFrame) -> bytes:
    """Recall of payers paying so far, and precision of the week's new cases above the line, by week."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(weeks["week"], weeks["recall"], marker="o", label="recall (payers alerted so far)")
    ax.plot(weeks["week"], weeks["precision"], marker="s", label="precision (week's new cases)")
    ax.axhline(0.9, color="grey", linestyle=":", linewidth=1, label="recall target 0.9")
    ax.set(xlabel="week of the replay", ylabel="share", ylim=(0, 1.05), title="Recall and precision by week")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def lags_png(payers: pd.DataFrame) -> bytes:
    """Days from each payer's first suspicious payment to the first alert and to the first decision."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    alert = payers["days_to_alert"].dropna()
    decision = payers["days_to_decision"].dropna()
    top = max([1.0, *alert.tolist(), *decision.tolist()])
    bins = [float(b) for b in np.arange(0, top + 8, 7)]
    ax.hist([alert, decision], bins=bins, label=["to first alert", "to decision"],
            color=["#4a6fa5", "#c77c3a"])
    ax.axvline(14, color="grey", linestyle=":", linewidth=1, label="target: alert within 14 days")
    ax.set(xlabel="days since the first suspicious payment", ylabel="payers",
           title="Detection and review lags")
    ax.legend(fontsize=8)
    return _png(fig)


def workload_png(daily: pd.DataFrame) -> bytes:
    """The queue by day: new cases above and below the line, decisions, and open cases."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    days = pd.to_datetime(daily["as_of"])
    ax.bar(days, daily["cases_new"], color="#4a6fa5", label="new cases above the line")
    ax.bar(days, daily["cases_below_line"], bottom=daily["cases_new"], color="#9bb7d4",
           label="below the line")
    ax.plot(days, daily["decisions"], color="#c77c3a", marker=".", label="decisions approved")
    ax.plot(days, daily["open_cases"], color="black", label="open cases")
    ax.set(ylabel="cases", title="Queue workload by day")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    return _png(fig)


def labels_png(weeks: pd.DataFrame) -> bytes:
    """Labels gained so far: confirmed, cleared, and those the oracle says are wrong."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for column, colour in (("labels_confirmed", "#b03a2e"), ("labels_cleared", "#4a6fa5"),
                           ("labels_wrong", "grey")):
        ax.plot(weeks["week"], weeks[column].cumsum(), marker="o", color=colour, label=column.split("_")[1])
    ax.set(xlabel="week of the replay", ylabel="labels", title="Labels gained from the replayed decisions")
    ax.legend(fontsize=8)
    return _png(fig)


def charts(payers: pd.DataFrame, weeks: pd.DataFrame, daily: pd.DataFrame) -> dict[str, bytes]:
    """File name -> PNG bytes of every chart of the report."""
    return {
        "recall_precision.png": recall_precision_png(weeks),
        "lags.png": lags_png(payers),
        "workload.png": workload_png(daily),
        "labels.png": labels_png(weeks),
    }


def _table(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f":
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    return str(shown.to_html(index=False, border=0, classes="grid", na_rep=""))


def _value(value: Any) -> str:
    if value is None:
        return "not reached"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def threshold_testing(params: Mapping[str, Any], figures: Mapping[str, Any]) -> list[str]:
    """Plain sentences on where the alert line sat (casework: above- and below-the-line testing), from the
    figures only: places used above the line, precision there, the payer rate of the sample under it."""
    lines: list[str] = []
    places, above = figures.get("capacity_above_line") or 0, figures.get("cases_above_line") or 0
    if places:
        lines.append(f"Above the line: {above} new cases in {places} places of review capacity "
                     f"({above / places:.0%} used).")
    if figures.get("precision_above_line") is not None:
        low, high = figures["precision_above_line_ci95"]
        lines.append(f"Precision above the line {figures['precision_above_line']:.2f} "
                     f"(95% interval {low:.2f}-{high:.2f}).")
    sampled = figures.get("cases_below_line") or 0
    if sampled:
        low, high = figures["below_line_payer_rate_ci95"]
        rate = figures["below_line_payer_rate"]
        lines.append(f"Below the line: {figures['payer_cases_below_line']} of {sampled} sampled cases were "
                     f"payers (rate {rate:.2f}, 95% interval {low:.2f}-{high:.2f}).")
    floor = float(params.get("min_alert_score") or 0.0)
    if places and above < places / 2 and floor > 0 and sampled and figures["payer_cases_below_line"]:
        lines.append(f"The alert floor (min_alert_score {floor:g}) left {places - above} places unused while "
                     "the sample under the line found payers: the line sits above what the reviewers could "
                     "take; replay with a lower floor to see what it adds.")
    return lines


def gate_table(daily: pd.DataFrame | None) -> str:
    """The days that trained a model and what the promotion gate found: PR-AUC of the challenger and of what
    it was compared with, on every evaluation row (the decision) and on the labels not from alerts."""
    columns = {
        "as_of": "day", "promoted": "promoted", "gate_baseline": "compared with",
        "gate_challenger_pr_auc": "challenger", "gate_baseline_pr_auc": "compared",
        "gate_unchosen_rows": "rows not from alerts", "gate_unchosen_positives": "confirmed there",
        "gate_challenger_pr_auc_unchosen": "challenger there",
        "gate_baseline_pr_auc_unchosen": "compared there",
    }
    if daily is None or "gate_challenger_pr_auc" not in daily.columns:
        return "<p>No model was trained in this replay.</p>"
    trained = daily[daily["trained"].astype(bool)]
    if trained.empty:
        return "<p>No model was trained in this replay.</p>"
    shown = trained[list(columns)].rename(columns=columns)
    for count in ("rows not from alerts", "confirmed there"):
        shown[count] = shown[count].astype("Int64")
    return (
        "<p>The decision is taken on every evaluation row; the labels of alerted cases were chosen by the "
        "champion of their day, which favours it, so the same comparison on the ledger's own labels, the "
        "below-the-line samples (drawn just under its line) and the unlabelled sample is shown beside it "
        "(empty without both classes there). A day that trained without figures had no decisions the "
        "champion had not seen.</p>" + _table(shown)
    )


def html_page(
    params: Mapping[str, Any],
    figures: Mapping[str, Any],
    weeks: pd.DataFrame,
    pngs: Mapping[str, bytes],
    daily: pd.DataFrame | None = None,
) -> str:
    """The report page: the replay's settings, the headline figures, the charts inline, the retraining days'
    gate figures (`daily`), the weekly table."""
    def rows(mapping: Mapping[str, Any]) -> str:
        return "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_value(v))}</td></tr>"
            for k, v in mapping.items()
        )

    images = "".join(
        f'<img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'
        for name, data in pngs.items()
    )
    testing = "".join(f"<p>{html.escape(line)}</p>" for line in threshold_testing(params, figures))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bantay backtest {html.escape(str(params.get("from")))} to
{html.escape(str(params.get("to")))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:72em}} th{{text-align:left;padding-right:1em}}
table.grid td,table.grid th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}
img{{max-width:48%;margin:4px}}</style></head><body>
<h1>Backtest: the investigators' loop replayed</h1>
<p>Every day: validate, features, score with the champion (the documented rules while there is none), drafts
and the case store, as the daily DAG does;
decisions from the oracle after the review delay through the case store's decision and four-eyes approval;
retraining through the promotion gate. Days count from a payer's first suspicious payment.
"Not reached" means half or more of the payers were never alerted (or decided) in the replay.</p>
<h2>Threshold testing</h2>{testing}
<h2>Settings</h2><table>{rows(params)}</table>
<h2>Figures</h2><table>{rows(figures)}</table>
<h2>Charts</h2>{images}
<h2>Retraining and the promotion gate</h2>{gate_table(daily)}
<h2>Week by week</h2>{_table(weeks)}
</body></html>
"""
