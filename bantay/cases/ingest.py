"""Load a day's drafts (OUT/cases/as_of=D/CASE_ID/draft.json) into the case store.

- A customer with an open case gets no new case: the day's draft is appended to the open case as
  continuing activity (one evidence day per as-of date; a rerun of the day replaces it, counted `reloaded`).
  Once a decision is submitted (pending approval, approved) the new days are held: the approver approves,
  and the filing is built from, the evidence the investigator decided on (`store.latest_draft`); sending the
  decision back releases them.
- A customer whose latest case was filed gets a continuing-activity review case once the regulator's
  cadence has passed since filing (FinCEN: 90 days); alerts inside it are kept on the filed case, not queued.
- Anyone else (no case, or only closed ones: the scorer's re-alert rule already held them back) gets a
  new case with the draft's id.

A day's folder is the whole day: loading it again (a rerun of the day) first takes back what an earlier
load of that day put in the store for customers the day no longer alerts (`withdraw_absent`): a case the
day opened that nobody has touched goes, a case in review loses that day's evidence, and a day a decision
rests on stays. Every such change is in the audit trail.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bantay.cases import db
from bantay.cases.models import Case, CaseDay, NarrativeVersion, Note
from bantay.cases.store import (
    HOLDING_STATES,
    audit,
    draft_facts,
    latest_filed_of,
    open_case_of,
    refresh_facts,
    restore_labels,
    snapshot,
    utcnow,
)
from bantay.io import catalogue

logger = logging.getLogger(__name__)

FILING_DAYS = 30  # FinCEN: file within 30 calendar days of detection
CONTINUING_ACTIVITY_DAYS = 90  # FinCEN: continuing-activity review every 90 days after a filing
ACTOR = "draft job"


def read_drafts(day_dir: Path) -> list[dict[str, Any]]:
    """Every draft.json of one OUT/cases/as_of=D folder, in case id order."""
    drafts = []
    for path in sorted(Path(day_dir).glob("C-*/draft.json")):
        drafts.append(json.loads(path.read_text(encoding="utf-8")))
    return drafts


def _put_day(session: Session, case: Case, as_of: date, draft: dict[str, Any], held: bool) -> bool:
    """Add or replace the case's evidence for `as_of`; True when the day is new to the case."""
    text = json.dumps(draft, sort_keys=True, ensure_ascii=False)
    day = session.scalars(select(CaseDay).where(CaseDay.case_id == case.id, CaseDay.as_of == as_of)).first()
    fresh = day is None
    if day is None:
        day = CaseDay(case_id=case.id, as_of=as_of)
        case.days.append(day)
    day.draft_case_id, day.score, day.draft_json = draft["case_id"], draft["model"].get("score"), text
    if fresh:  # a reloaded day keeps its flag: a day decided on stays evidence, a held one stays held
        day.held = held
    return fresh


def _cases_of_days(session: Session, drafts: list[dict[str, Any]]) -> dict[str, Case]:
    """The cases that already hold these drafts' days (loaded before: a rerun), by draft case id, whatever
    their state now; one query for the day."""
    ids = [str(d["case_id"]) for d in drafts]
    if not ids:
        return {}
    days = session.scalars(select(CaseDay).where(CaseDay.draft_case_id.in_(ids)))
    return {day.draft_case_id: day.case for day in days}


def ingest_drafts(session: Session, as_of: date, drafts: list[dict[str, Any]]) -> dict[str, int]:
    """Apply one day's drafts to the store (see the module docstring); counts by what happened."""
    counts: Counter[str] = Counter()
    now = utcnow()  # the wall clock, or the replayed moment in a backtest
    customers = [str(d["subject"]["customer_id"]) for d in drafts]
    open_cases = open_case_of(session, customers)
    holding = _cases_of_days(session, drafts)
    for draft, customer_id in zip(drafts, customers, strict=True):
        facts = draft_facts(draft)
        # The case holding this customer's day already (a rerun of the day), even if it has closed since.
        draft_id = str(draft["case_id"])
        case = open_cases.get(customer_id) or session.get(Case, draft_id) or holding.get(draft_id)
        if case is not None:
            before = {"n_days": case.n_days, "last_seen_on": case.last_seen_on}
            held = case.state in HOLDING_STATES
            fresh = _put_day(session, case, as_of, draft, held=held)
            case.n_days += int(fresh)
            if not held and as_of >= case.last_seen_on:  # the latest day's score leads
                case.score, case.top_reason = facts["score"], facts["top_reason"]
                case.payee_countries = facts["payee_countries"]
                case.payee_regions = facts["payee_regions"]
            case.last_seen_on = max(case.last_seen_on, as_of)
            case.updated_at = now
            after = {"n_days": case.n_days, "last_seen_on": case.last_seen_on, "as_of": as_of}
            audit(session, ACTOR, "continuing_activity" if fresh else "reload_day", case.id, before, after)
            counts["appended" if fresh else "reloaded"] += 1
            continue
        filed = latest_filed_of(session, customer_id)
        kind = "alert"
        if filed is not None:
            filed_on = (filed.filed_at or now).date()
            if as_of < filed_on + timedelta(days=CONTINUING_ACTIVITY_DAYS):
                if _put_day(session, filed, as_of, draft, held=True):
                    filed.n_days += 1
                filed.last_seen_on = max(filed.last_seen_on, as_of)
                audit(session, ACTOR, "held_until_review", filed.id, None, {"as_of": as_of})
                counts["held"] += 1
                continue
            kind = "continuing_activity"
        case = Case(
            id=draft["case_id"],
            customer_id=customer_id,
            kind=kind,
            state="new",
            opened_on=as_of,
            due_on=as_of + timedelta(days=FILING_DAYS),
            last_seen_on=as_of,
            n_days=1,
            created_at=now,
            updated_at=now,
            **facts,
        )
        session.add(case)
        _put_day(session, case, as_of, draft, held=False)
        open_cases[customer_id] = case
        audit(session, ACTOR, "open", case.id, None, {"state": "new", "kind": kind, "as_of": as_of})
        counts["new" if kind == "alert" else "continuing_review"] += 1
    session.flush()
    return {key: counts.get(key, 0) for key in ("new", "appended", "reloaded", "held", "continuing_review")}


def continuing_customers(output_root: Path, as_of: date, url: str | None = None) -> list[str]:
    """Customers an alert on `as_of` would not give a new case: an open case opened before `as_of`, or a
    filing within the continuing-activity cadence before it. Scoring counts them outside the daily budget.

    A case counts as open when it is open now or when an earlier load of `as_of` appended that day to it (a
    rerun of the day sees the cases its first run continued, even if closed or filed since); only cases
    opened before `as_of`, so a rerun does not see the cases its first run opened.
    """
    from bantay.cases.models import OPEN_STATES

    factory: sessionmaker[Session] = db.open_store(output_root, url)
    # as ingest_drafts: held while as_of < filing day + CONTINUING_ACTIVITY_DAYS
    since = datetime.combine(as_of - timedelta(days=CONTINUING_ACTIVITY_DAYS - 1), datetime.min.time(), UTC)
    day_start = datetime.combine(as_of, datetime.min.time(), UTC)
    # Only cases opened or filed before `as_of`: a rerun of a day must not see the cases its first run opened.
    continued = select(CaseDay.id).where(CaseDay.case_id == Case.id, CaseDay.as_of == as_of).exists()
    open_then = or_(Case.state.in_(OPEN_STATES), continued)
    with factory() as session:
        open_ids = session.scalars(select(Case.customer_id).where(open_then, Case.opened_on < as_of))
        filed_ids = session.scalars(
            select(Case.customer_id).where(
                Case.state == "filed", Case.filed_at >= since, Case.filed_at < day_start
            )
        )
        found = sorted({*open_ids, *filed_ids})
    factory.kw["bind"].dispose()
    return found


def withdraw_absent(session: Session, as_of: date, present: set[str]) -> int:
    """Take back what an earlier load of `as_of` put in the store for drafts the day no longer holds
    (`present`: the case ids of the day's folders, failed drafts included). A case opened that day and
    untouched since (new, unassigned, no note, no narrative edit, that day's evidence only) is removed; a
    case still in review (new, in review) loses that day's evidence, and so does any case whose day of
    `as_of` was held (never decided on). A day a decision rests on (submitted, approved, filed, closed) is
    kept: it is the record of that decision. Returns how many cases changed."""
    changed = 0
    days = session.scalars(select(CaseDay).where(CaseDay.as_of == as_of)).all()
    for day in days:
        case = day.case
        if day.draft_case_id in present:
            continue
        before = snapshot(case)
        untouched = (
            case.opened_on == as_of
            and case.state == "new"
            and case.assignee_id is None
            and session.scalars(select(Note.id).where(Note.case_id == case.id)).first() is None
            and session.scalars(
                select(NarrativeVersion.id).where(NarrativeVersion.case_id == case.id)
            ).first() is None
        )
        if untouched and len(case.days) == 1:
            session.delete(day)
            session.delete(case)
            audit(session, ACTOR, "withdrawn_by_rerun", case.id, before, {"as_of": as_of})
        elif len(case.days) > 1 and (case.state in ("new", "in_review") or day.held):
            case.days.remove(day)
            session.delete(day)
            case.n_days = len(case.days)
            case.last_seen_on = max(d.as_of for d in case.days)
            if not day.held:
                refresh_facts(case)
            after = {**snapshot(case), "as_of": as_of}
            audit(session, ACTOR, "day_withdrawn_by_rerun", case.id, before, after)
        else:
            logger.warning("case %s: not alerted on %s any more; its day kept (worked on)", case.id, as_of)
            continue
        changed += 1
    session.flush()
    return changed


def ingest_day(
    output_root: Path, as_of: date, day_dir: Path | None = None, url: str | None = None
) -> dict[str, int]:
    """Load OUT/cases/as_of=D into the case store at `url` (default: the output root's store); a second
    load of the same day first withdraws what the day no longer holds (`withdraw_absent`)."""
    folder = day_dir or catalogue.partition(output_root, "cases", as_of)
    factory: sessionmaker[Session] = db.open_store(output_root, url)
    drafts = read_drafts(folder)
    present = {path.name for path in Path(folder).glob("C-*") if path.is_dir()}  # failed drafts too
    with factory.begin() as session:
        withdrawn = withdraw_absent(session, as_of, present)
        counts = {**ingest_drafts(session, as_of, drafts), "withdrawn": withdrawn}
    with factory.begin() as session:  # apart: a label that cannot be written leaves the day's load in place
        restore_labels(session, output_root)
    factory.kw["bind"].dispose()
    logger.info(
        "case store for %s: %d new cases, %d appended to open cases, %d reloaded, %d held on filed cases, "
        "%d continuing-activity reviews, %d withdrawn (no longer alerted)",
        as_of,
        counts["new"],
        counts["appended"],
        counts["reloaded"],
        counts["held"],
        counts["continuing_review"],
        counts["withdrawn"],
    )
    return counts
