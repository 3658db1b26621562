"""Workbench metrics from hand-set cases: ages, review and filing times, weekly decisions, cleared share."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cases_support import draft
from sqlalchemy.orm import Session, sessionmaker

from bantay.cases import ingest, metrics, store

TODAY = date(2025, 4, 10)


def test_metrics_from_cases(factory: sessionmaker[Session]):
    with factory.begin() as session:
        ingest.ingest_drafts(
            session, date(2025, 3, 1), [draft(c, date(2025, 3, 1)) for c in ("c1", "c2", "c3")]
        )
        ingest.ingest_drafts(session, date(2025, 4, 5), [draft("c4", date(2025, 4, 5))])
        c1, c2, _c3 = (
            store.get_case(session, draft(c, date(2025, 3, 1))["case_id"]) for c in ("c1", "c2", "c3")
        )
        # c1: confirmed, decided on day 10, approved on day 12, filed on day 20 of its case
        c1.state, c1.outcome, c1.top_reason = "filed", "confirmed", "R_NIGHT"
        c1.decided_at = datetime(2025, 3, 11, 9, tzinfo=UTC)
        c1.approved_at = datetime(2025, 3, 13, 9, tzinfo=UTC)
        c1.filed_at = datetime(2025, 3, 21, 9, tzinfo=UTC)
        # c2: cleared, same top reason, decided day 4, approved the same week as c1
        c2.state, c2.outcome, c2.top_reason = "closed", "cleared_dating", "R_NIGHT"
        c2.decided_at = datetime(2025, 3, 5, 9, tzinfo=UTC)
        c2.approved_at = datetime(2025, 3, 12, 9, tzinfo=UTC)
        # c3 stays open, 40 days old and overdue; c4 is 5 days old
    with factory() as session:
        m = metrics.compute(session, TODAY)
    assert m["open_by_age"] == {"0-7 days": 1, "8-14 days": 0, "15-30 days": 0, "over 30 days": 1}
    assert m["overdue"] == 1
    assert m["alert_to_decision_days"] == {"n": 2, "median": 10, "p90": 10, "max": 10}
    assert m["decision_to_filing_days"] == {"n": 1, "median": 10, "p90": 10, "max": 10}
    assert m["detection_to_filing_days"]["median"] == 20 and m["filed_within_30_days"] == 1
    assert m["decisions_per_week"] == {"2025-W11": {"confirmed": 1, "cleared_dating": 1}}
    assert m["false_positive_share_by_reason"] == {"R_NIGHT": {"decisions": 2, "cleared": 1, "share": 0.5}}
    assert metrics.plots_png(m)[:8] == b"\x89PNG\r\n\x1a\n"
