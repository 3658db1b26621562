"""Workbench metrics: queue age, review and filing times against FinCEN's 30 days, decisions per week by
outcome, and the false-positive share per top reason. Computed from the case table alone."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantay.cases.models import CONFIRMED, INCONCLUSIVE, OPEN_STATES, Case

AGE_BUCKETS = ((0, 7, "0-7 days"), (8, 14, "8-14 days"), (15, 30, "15-30 days"), (31, 10**6, "over 30 days"))
FILING_DAYS = 30


def _day(value: datetime | None) -> date | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()


def _summary(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "p90": None, "max": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": ordered[len(ordered) // 2],
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "max": ordered[-1],
    }


def compute(session: Session, today: date) -> dict[str, Any]:
    """Every figure of the metrics page, as plain values."""
    rows = session.execute(
        select(
            Case.state,
            Case.opened_on,
            Case.due_on,
            Case.outcome,
            Case.top_reason,
            Case.decided_at,
            Case.approved_at,
            Case.filed_at,
        )
    ).all()
    ages: Counter[str] = Counter()
    overdue = 0
    to_decision, to_filing, detection_to_filing = [], [], []
    weekly: dict[str, Counter[str]] = defaultdict(Counter)
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for state, opened, due, outcome, reason, decided, approved, filed in rows:
        if state in OPEN_STATES:
            age = (today - opened).days
            ages[next(label for low, high, label in AGE_BUCKETS if low <= age <= high)] += 1
            overdue += int(due < today and state != "approved")
        decided_on, approved_on, filed_on = _day(decided), _day(approved), _day(filed)
        if decided_on is not None:
            to_decision.append((decided_on - opened).days)
        if filed_on is not None and decided_on is not None:
            to_filing.append((filed_on - decided_on).days)
        if filed_on is not None:
            detection_to_filing.append((filed_on - opened).days)
        if approved_on is not None and outcome is not None:
            year, week, _ = approved_on.isocalendar()
            weekly[f"{year}-W{week:02d}"][outcome] += 1
            if outcome != INCONCLUSIVE:
                by_reason[reason or "none"]["confirmed" if outcome == CONFIRMED else "cleared"] += 1
    fp_share = {
        reason: {
            "decisions": sum(c.values()),
            "cleared": c["cleared"],
            "share": round(c["cleared"] / sum(c.values()), 3),
        }
        for reason, c in sorted(by_reason.items())
    }
    return {
        "open_by_age": {label: ages.get(label, 0) for _, _, label in AGE_BUCKETS},
        "overdue": overdue,
        "alert_to_decision_days": _summary(to_decision),
        "decision_to_filing_days": _summary(to_filing),
        "detection_to_filing_days": _summary(detection_to_filing),
        "filed_within_30_days": sum(d <= FILING_DAYS for d in detection_to_filing),
        "decisions_per_week": {week: dict(c) for week, c in sorted(weekly.items())[-12:]},
        "false_positive_share_by_reason": fp_share,
    }


def plots_png(figures: dict[str, Any]) -> bytes:
    """Four charts: open cases by age, decisions per week by outcome, false-positive share per top reason,
    and the days from detection to filing against FinCEN's 30."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ages = figures["open_by_age"]
    axes[0][0].bar(list(ages), list(ages.values()), color="#4a6fa5")
    axes[0][0].set_title("Open cases by age")
    weekly = figures["decisions_per_week"]
    weeks = list(weekly)
    outcomes = sorted({o for c in weekly.values() for o in c})
    bottom = [0] * len(weeks)
    for outcome in outcomes:
        heights = [weekly[w].get(outcome, 0) for w in weeks]
        axes[0][1].bar(weeks, heights, bottom=bottom, label=outcome)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes[0][1].set_title("Approved decisions per week by outcome")
    if outcomes:
        axes[0][1].legend(fontsize=7)
    axes[0][1].tick_params(axis="x", labelrotation=45, labelsize=7)
    shares = figures["false_positive_share_by_reason"]
    axes[1][0].barh(list(shares), [v["share"] for v in shares.values()], color="#b00000")
    axes[1][0].set_xlim(0, 1)
    axes[1][0].set_title("Cleared share of decisions by top reason")
    filing = figures["detection_to_filing_days"]
    labels = ["median", "p90", "max"]
    axes[1][1].bar(labels, [filing[k] or 0 for k in labels], color="#4a6fa5")
    axes[1][1].axhline(FILING_DAYS, color="#b00000", linestyle="--", label="FinCEN: 30 days")
    axes[1][1].set_title(f"Detection to filing, days ({filing['n']} filed)")
    axes[1][1].legend(fontsize=7)
    for ax in (axes[0][0], axes[0][1], axes[1][0]):
        if not ax.has_data():
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
