"""The backtest's figures, computed from what the replay left behind (pure pandas, no I/O).

Inputs: the oracle (`oracle.read`), the days each customer was alerted above the line (`customer_id,
as_of`), and the case store's cases (`case_id, customer_id, opened_on, below_line, outcome, approved_on,
wrong`). A payer counts once its first suspicious payment is booked (an oracle without
`first_suspicious_at` counts every payer from the first replayed day). An alert as of D uses data booked
before D, so a payer first paying on D-1 and alerted as of D is alerted after 1 day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bantay.cases.models import CONFIRMED, INCONCLUSIVE
from bantay.models.baseline import RULES_VERSION

WEEK = 7


def _first_by_customer(frame: pd.DataFrame, column: str) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype="object")
    return frame.groupby("customer_id")[column].min()


def payer_lags(
    oracle: pd.DataFrame, alerts: pd.DataFrame, cases: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    """One row per payer paying before `end` + 1 day: `customer_id, first_suspicious_on,
    started_in_window, first_alert_on, found_by (alert | below_line | None), days_to_alert,
    first_decision_on, days_to_decision`."""
    payers = oracle[oracle["label"] == 1].copy()
    first = payers["first_suspicious_at"].dt.date
    payers["first_suspicious_on"] = first.where(first.notna(), start)
    payers = payers[payers["first_suspicious_on"] <= end].reset_index(drop=True)
    payers["started_in_window"] = payers["first_suspicious_on"] >= start
    alerted = _first_by_customer(alerts, "as_of")
    sampled = _first_by_customer(cases[cases["below_line"]], "opened_on")
    decided = _first_by_customer(cases[cases["approved_on"].notna()], "approved_on")
    on_alert = payers["customer_id"].map(alerted)
    on_sample = payers["customer_id"].map(sampled)
    by_sample = pd.Series(
        [pd.notna(s) and (pd.isna(a) or s < a) for s, a in zip(on_sample, on_alert, strict=True)],
        index=payers.index, dtype=bool,
    )
    payers["first_alert_on"] = on_sample.where(by_sample, on_alert)
    payers["found_by"] = [
        "below_line" if sample else ("alert" if pd.notna(alert) else None)
        for sample, alert in zip(by_sample, on_alert, strict=True)
    ]
    payers["first_decision_on"] = payers["customer_id"].map(decided)
    for target, column in (("days_to_alert", "first_alert_on"), ("days_to_decision", "first_decision_on")):
        payers[target] = [
            float((b - a).days) if pd.notna(b) else np.nan
            for a, b in zip(payers["first_suspicious_on"], payers[column], strict=True)
        ]
    return payers[
        ["customer_id", "first_suspicious_on", "started_in_window", "first_alert_on", "found_by",
         "days_to_alert", "first_decision_on", "days_to_decision"]
    ]


def censored_median(days: pd.Series) -> float | None:
    """Median of `days` where NaN means never (not yet) reached: None when half or more never were."""
    values = np.sort(days.fillna(np.inf).to_numpy(dtype=float))
    if len(values) == 0:
        return None
    median = float(np.median(values))
    return None if not np.isfinite(median) else median


def weekly(
    payers: pd.DataFrame, cases: pd.DataFrame, oracle: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    """One row per replayed week (the last may be short): payers paying so far, alerted so far, recall; the
    week's new cases above the line and their precision; below-the-line cases and payers found by them;
    decisions approved that week as labels (confirmed, cleared, wrong by the oracle)."""
    truth = dict(zip(oracle["customer_id"], oracle["label"], strict=True))
    is_payer = cases["customer_id"].map(truth).fillna(0).astype(bool)
    rows: list[dict[str, Any]] = []
    week_start = start
    while week_start <= end:
        week_end = min(week_start + timedelta(days=WEEK), end + timedelta(days=1))  # exclusive
        active = payers[payers["first_suspicious_on"] < week_end]
        found = active[active["first_alert_on"].notna()]
        found = found[found["first_alert_on"] < week_end]
        opened = (cases["opened_on"] >= week_start) & (cases["opened_on"] < week_end)
        above = opened & ~cases["below_line"]
        below = opened & cases["below_line"]
        approved = cases["approved_on"].notna()
        approved &= (cases["approved_on"] >= week_start) & (cases["approved_on"] < week_end)
        labelled = approved & (cases["outcome"] != INCONCLUSIVE)
        rows.append({
            "week": len(rows) + 1,
            "week_start": week_start,
            "days": (week_end - week_start).days,
            "payers_paying": len(active),
            "payers_alerted": len(found),
            "recall": len(found) / len(active) if len(active) else np.nan,
            "cases_above_line": int(above.sum()),
            "payer_cases_above_line": int((above & is_payer).sum()),
            "precision": float((above & is_payer).sum() / above.sum()) if above.sum() else np.nan,
            "cases_below_line": int(below.sum()),
            "payer_cases_below_line": int((below & is_payer).sum()),
            "decisions": int(approved.sum()),
            "labels_confirmed": int((labelled & (cases["outcome"] == CONFIRMED)).sum()),
            "labels_cleared": int((labelled & (cases["outcome"] != CONFIRMED)).sum()),
            "labels_wrong": int((labelled & cases["wrong"]).sum()),
        })
        week_start = week_end
    return pd.DataFrame(rows)


def wilson(successes: int, trials: int) -> list[float] | None:
    """The Wilson score 95% interval of a proportion (`[low, high]`), None without trials."""
    if trials == 0:
        return None
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return [round(float(interval.low), 4), round(float(interval.high), 4)]


def summary(payers: pd.DataFrame, weeks: pd.DataFrame, daily: pd.DataFrame) -> dict[str, Any]:
    """The headline figures (aggregates only: no customer id)."""
    fresh = payers[payers["started_in_window"]]
    alerted = payers[payers["first_alert_on"].notna()]

    def _median(series: pd.Series) -> float | None:
        return float(series.median()) if series.notna().any() else None

    eight = weeks[(weeks["week"] == 8) & (weeks["days"] == WEEK)]
    above = int(weeks["cases_above_line"].sum())
    places = int(daily["capacity_above_line"].sum()) if len(daily) else 0
    below, below_payers = int(weeks["cases_below_line"].sum()), int(weeks["payer_cases_below_line"].sum())
    return {
        "payers": len(payers),
        "payers_started_in_window": len(fresh),
        "payers_alerted": len(alerted),
        "payers_found_below_line": int((payers["found_by"] == "below_line").sum()),
        "median_days_to_first_alert_started_in_window": censored_median(fresh["days_to_alert"]),
        "median_days_to_first_alert_all_payers": censored_median(payers["days_to_alert"]),
        "median_days_to_first_alert_of_alerted": _median(alerted["days_to_alert"]),
        "median_days_to_decision_started_in_window": censored_median(fresh["days_to_decision"]),
        "median_days_to_decision_of_decided": _median(payers["days_to_decision"]),
        "recall_week_8": float(eight["recall"].iloc[0]) if len(eight) else None,
        "recall_final": float(weeks["recall"].iloc[-1]) if len(weeks) else None,
        "precision_above_line": (
            float(weeks["payer_cases_above_line"].sum() / above) if above else None
        ),
        "precision_above_line_ci95": wilson(int(weeks["payer_cases_above_line"].sum()), above),
        "cases_above_line": above,
        # Places the capacity gave above the line, and the share that became cases: below 1 when the alert
        # floor (`min_alert_score`) or the re-alert rule left reviewers' time unused.
        "capacity_above_line": places,
        "capacity_used_above_line": above / places if places else None,
        "cases_below_line": below,
        "payer_cases_below_line": below_payers,
        # Threshold testing: the share of payers in the random sample under the line estimates how many the
        # line misses there (Wilson 95% interval); next to precision above the line it says where the line is.
        "below_line_payer_rate": below_payers / below if below else None,
        "below_line_payer_rate_ci95": wilson(below_payers, below),
        "decisions": int(weeks["decisions"].sum()),
        "labels_gained": int(weeks["labels_confirmed"].sum() + weeks["labels_cleared"].sum()),
        "labels_confirmed": int(weeks["labels_confirmed"].sum()),
        "labels_cleared": int(weeks["labels_cleared"].sum()),
        "labels_wrong": int(weeks["labels_wrong"].sum()),
        "open_cases_mean": float(daily["open_cases"].mean()) if len(daily) else None,
        "open_cases_max": int(daily["open_cases"].max()) if len(daily) else None,
        # Cold start: days scored by the documented rules because no version held the champion alias.
        "days_scored_by_rules": int((daily["model"].astype(str) == RULES_VERSION).sum()) if len(daily) else 0,
        "retrainings": int(daily["trained"].sum()) if len(daily) else 0,
        "promotions": int(daily["promoted"].sum()) if len(daily) else 0,
    }
