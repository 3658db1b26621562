"""The case workflow: claim, note, edit, decide, submit, approve or refuse, file, reopen.

Every change writes an audit event (who, what, when, before, after) in the same transaction. Rules are
checked here, on the server, whatever the web page offered: the approver can never be the person who edited
the narrative or decided the case (the database's ck_cases_four_eyes constraint backs the second half).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session, load_only

from bantay.cases import filing, labels
from bantay.cases.errors import CaseNotFoundError, FourEyesError, PermissionDeniedError, TransitionError
from bantay.cases.models import (
    CLEARED,
    CONFIRMED,
    INCONCLUSIVE,
    OPEN_STATES,
    OUTCOMES,
    STATES,
    AuditEvent,
    Case,
    CaseDay,
    NarrativeVersion,
    Note,
    User,
)

logger = logging.getLogger(__name__)

CASE_ID = re.compile(r"^C-\d{8}-[0-9a-f]{10}$")
MAX_TEXT = 20_000  # characters in a note, reason or narrative (FinCEN's narrative holds 17,000)
SORTS = {
    "score": (Case.score.desc(), Case.id),
    "age": (Case.opened_on, Case.id),
    "due": (Case.due_on, Case.id),
    "last_seen": (Case.last_seen_on.desc(), Case.id),
}


# A replay of past days (`bantay backtest`) records each decision at the moment it replays, so that its
# labels carry that day's approval time; everything else runs on the wall clock.
_REPLAY_NOW: ContextVar[datetime | None] = ContextVar("bantay_case_store_now", default=None)


def utcnow() -> datetime:
    return _REPLAY_NOW.get() or datetime.now(UTC)


@contextlib.contextmanager
def replay_clock(moment: datetime) -> Iterator[None]:
    """Inside the block, the workflow stamps every change (decisions, approvals, filings, audit events,
    the label files' approval time) with `moment` (timezone-aware, UTC) instead of the wall clock."""
    if moment.tzinfo is None:
        raise ValueError("replay_clock needs a timezone-aware moment")
    token = _REPLAY_NOW.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _REPLAY_NOW.reset(token)


def audit(
    session: Session,
    actor: str,
    action: str,
    case_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one audit event (the table refuses updates and deletes), at `at` (default: now)."""
    session.add(
        AuditEvent(
            at=at or utcnow(),
            actor=actor,
            case_id=case_id,
            action=action,
            before=None if before is None else json.dumps(before, sort_keys=True, default=str),
            after=None if after is None else json.dumps(after, sort_keys=True, default=str),
        )
    )


def snapshot(case: Case) -> dict[str, Any]:
    """The workflow fields of a case, as the audit trail records them."""
    fields = (
        "state",
        "assignee_id",
        "outcome",
        "decision_reason",
        "decided_by",
        "approved_by",
        "fiu_reference",
        "fiu_ack_date",
        "fiu_channel",
        "n_days",
        "last_seen_on",
    )
    held = sum(1 for day in case.days if day.held)
    return {**{name: getattr(case, name) for name in fields}, "held_days": held}


def get_case(session: Session, case_id: str) -> Case:
    """The case with this id; CaseNotFoundError for an unknown or malformed id."""
    case = session.get(Case, case_id) if CASE_ID.match(case_id or "") else None
    if case is None:
        raise CaseNotFoundError("no such case")
    return case


# A case in these states holds the evidence days added to it (`CaseDay.held`): they arrived after the decision
# was submitted, so neither the approval nor the filing may rest on them.
HOLDING_STATES = ("pending_approval", "approved", "filed")


def latest_draft(case: Case) -> dict[str, Any]:
    """The latest day's draft.json of a case among the days not held: the evidence decided on."""
    days = [day for day in case.days if not day.held] or case.days
    draft: dict[str, Any] = json.loads(days[-1].draft_json)
    return draft


def filing_of(case: Case) -> bytes | None:
    """The FinCEN file to serve: the approved one, while the case is approved or filed (a reopened case keeps
    its earlier file as a record, unserved until a new approval replaces it)."""
    return case.fincen_xml if case.state in ("approved", "filed") else None


def _release_days(case: Case) -> int:
    """Release the days held since the decision (back in review, they are evidence again); how many. The
    queue's facts (score, top reason, payee countries and regions) follow the latest day again."""
    released = 0
    for day in case.days:
        if day.held:
            day.held, released = False, released + 1
    if released:
        refresh_facts(case)
    return released


def draft_facts(draft: Mapping[str, Any]) -> dict[str, Any]:
    """What the queue shows of a case from one day's draft: score, top reason, payee countries and regions."""
    from bantay.sar.batch import ph_region  # matplotlib and pandas: only when a draft is read

    reasons = draft["model"].get("reasons") or []
    payees = draft.get("payees", [])
    countries = sorted({str(p["country"]) for p in payees if p.get("country")})
    cluster_region = {
        c["cluster_id"]: c.get("attributes", {}).get("region") for c in draft.get("clusters", [])
    }
    regions = sorted(
        {
            ph_region(p.get("city"), cluster_region.get(p.get("cluster_id") or ""))
            for p in payees
            if p.get("country") == "PH"
        }
    )
    return {
        "score": draft["model"].get("score"),
        "top_reason": str(reasons[0]["code"])[:64] if reasons else None,
        "payee_countries": ",".join(countries)[:255],
        "payee_regions": ",".join(regions)[:255],
    }


def refresh_facts(case: Case) -> None:
    """Set the case's queue facts from its latest day not held back (the latest day if all are)."""
    if not case.days:
        return
    latest = max([d for d in case.days if not d.held] or list(case.days), key=lambda d: d.as_of)
    facts = draft_facts(json.loads(latest.draft_json))
    case.score, case.top_reason = facts["score"], facts["top_reason"]
    case.payee_countries, case.payee_regions = facts["payee_countries"], facts["payee_regions"]


def narrative_versions(session: Session, case: Case) -> list[NarrativeVersion]:
    return list(
        session.scalars(
            select(NarrativeVersion)
            .where(NarrativeVersion.case_id == case.id)
            .order_by(NarrativeVersion.version)
        )
    )


def current_narrative(session: Session, case: Case) -> str:
    """The latest edited narrative, or the one the draft job generated from the latest draft."""
    versions = narrative_versions(session, case)
    if versions:
        return versions[-1].text
    from bantay.sar.narrative import narrative

    return narrative(latest_draft(case))


def _require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise PermissionDeniedError(f"role {user.role} cannot do this (needs {' or '.join(roles)})")


def _require_state(case: Case, *states: str) -> None:
    if case.state not in states:
        raise TransitionError(f"case {case.id} is {case.state}; this needs {' or '.join(states)}")


def _reason(text: str | None, what: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise TransitionError(f"{what} needs a reason")
    if len(cleaned) > MAX_TEXT:
        raise TransitionError(f"{what}: at most {MAX_TEXT} characters")
    return cleaned


def _change(
    session: Session,
    case: Case,
    user: User,
    action: str,
    apply: Callable[[], None],
    at: datetime | None = None,
) -> Case:
    before = snapshot(case)
    apply()
    case.updated_at = at or utcnow()
    audit(session, user.username, action, case.id, before, snapshot(case), at=case.updated_at)
    session.flush()
    return case


def claim(session: Session, case: Case, user: User) -> Case:
    """Assign the case to `user` and start the review."""
    _require(user, "investigator", "admin")
    _require_state(case, "new", "in_review")

    def apply() -> None:
        case.assignee_id = user.id
        case.state = "in_review"

    return _change(session, case, user, "claim", apply)


def add_note(session: Session, case: Case, user: User, text: str) -> Note:
    note = Note(case_id=case.id, author_id=user.id, text=_reason(text, "a note"), created_at=utcnow())
    session.add(note)
    audit(session, user.username, "note", case.id, None, {"text": note.text})
    session.flush()
    return note


def _assignee(case: Case, user: User) -> None:
    if case.assignee_id != user.id:
        raise PermissionDeniedError(f"case {case.id} is not assigned to you: claim it first")


def edit_narrative(session: Session, case: Case, user: User, text: str) -> NarrativeVersion:
    """A new version of the narrative (every edit is kept)."""
    _require(user, "investigator", "admin")
    _require_state(case, "in_review")
    _assignee(case, user)
    room = filing.narrative_room(latest_draft(case))
    if len(text.strip()) > room:
        raise TransitionError(f"a narrative: at most {room} characters (FinCEN's narrative blocks)")
    before = current_narrative(session, case)
    versions = narrative_versions(session, case)
    version = NarrativeVersion(
        case_id=case.id,
        version=(versions[-1].version if versions else 0) + 1,
        text=_reason(text, "a narrative"),
        author_id=user.id,
        created_at=utcnow(),
    )
    session.add(version)
    audit(session, user.username, "edit_narrative", case.id, {"text": before}, {"text": version.text})
    session.flush()
    return version


def decide(session: Session, case: Case, user: User, outcome: str, reason: str) -> Case:
    """Record the investigator's outcome and why; it goes to approval with `submit`."""
    _require(user, "investigator", "admin")
    _require_state(case, "in_review")
    _assignee(case, user)
    if outcome not in OUTCOMES:
        raise TransitionError(f"unknown outcome {outcome!r}: one of {', '.join(OUTCOMES)}")
    why = _reason(reason, "a decision")

    def apply() -> None:
        case.outcome, case.decision_reason = outcome, why
        case.decided_by, case.decided_at = user.id, utcnow()

    return _change(session, case, user, "decide", apply)


def submit(session: Session, case: Case, user: User) -> Case:
    """Ask for a second person's approval of the decision."""
    _require_state(case, "in_review")
    _assignee(case, user)
    if case.outcome is None or case.decided_by is None:
        raise TransitionError(f"case {case.id} has no decision yet: decide first")

    def apply() -> None:
        case.state = "pending_approval"

    return _change(session, case, user, "submit", apply)


def _four_eyes(session: Session, case: Case, user: User) -> None:
    editors = set(
        session.scalars(select(NarrativeVersion.author_id).where(NarrativeVersion.case_id == case.id))
    )
    if user.id == case.decided_by or user.id in editors:
        raise FourEyesError(f"case {case.id}: you drafted or decided it; another approver must approve")


def approve(session: Session, case: Case, user: User, output_root: Path) -> Case:
    """Approve the decision: a confirmed case gets its FinCEN file (validated) and waits to be filed;
    any other outcome closes the case. Confirmed and cleared decisions become training labels."""
    _require(user, "approver", "admin")
    _require_state(case, "pending_approval")
    _four_eyes(session, case, user)
    stamp = utcnow()
    xml = (
        filing.fincen_xml(latest_draft(case), current_narrative(session, case))
        if (case.outcome == CONFIRMED)
        else None
    )

    def apply() -> None:
        case.approved_by, case.approved_at = user.id, stamp
        case.fincen_xml = xml
        case.state = "approved" if case.outcome == CONFIRMED else "closed"

    _change(session, case, user, "approve", apply, at=stamp)  # the event's time names the label file
    if case.outcome != INCONCLUSIVE:
        case_id, customer_id = case.id, case.customer_id
        label, typology = 1 if case.outcome == CONFIRMED else 0, labels.typology_of(str(case.outcome))
        origin = labels.BELOW_LINE_SAMPLE if below_line_sample(session, case_id) else labels.ALERT
        # Written once the approval is committed: a rolled-back approval leaves no label behind.
        _after_commit(
            session,
            lambda: labels.write_decision(
                output_root,
                case_id=case_id,
                customer_id=customer_id,
                label=label,
                decided_at=stamp,
                typology=typology,
                origin=origin,
            ),
        )
    return case


def restore_labels(session: Session, output_root: Path) -> int:
    """Write the label file of every approved decision that has none, as `approve` would have (same name,
    content and origin), also for decisions reopened since, and the withdrawal of every reopened labelled
    decision that has none, as `reopen` would have; how many. A decision is committed first and its label file
    written after: a process killed in between leaves the store and the labels apart, which the next daily
    load mends."""
    labelled = (CONFIRMED, *CLEARED)
    approved = session.scalars(
        select(Case)
        .options(load_only(Case.id, Case.customer_id, Case.outcome, Case.approved_at))  # no filing blobs
        .where(Case.approved_at.is_not(None), Case.outcome.in_(labelled))
        .order_by(Case.id)
    )
    restored = 0
    for case in approved:
        assert case.approved_at is not None  # the query's condition
        stamp = case.approved_at if case.approved_at.tzinfo else case.approved_at.replace(tzinfo=UTC)
        if labels.decision_path(output_root, case.id, stamp).exists():
            continue
        origin = labels.BELOW_LINE_SAMPLE if below_line_sample(session, case.id) else labels.ALERT
        labels.write_decision(
            output_root,
            case_id=case.id,
            customer_id=case.customer_id,
            label=1 if case.outcome == CONFIRMED else 0,
            decided_at=stamp,
            typology=labels.typology_of(str(case.outcome)),
            origin=origin,
        )
        logger.warning("case %s: its approved decision had no label file; written now", case.id)
        restored += 1
    return restored + _restore_from_events(session, output_root)


# Before an approval's or a reopening's audit event carried its label file's time, the file was stamped a
# moment before the event.
EVENT_SLACK = timedelta(minutes=5)


def _restore_from_events(session: Session, output_root: Path) -> int:
    """Write the label file of every labelled approval and the withdrawal of every reopening of one that
    has none, from the audit trail (the event's time names the file, as in `approve` and `reopen`): an
    approval reopened since is no approved case any more, yet its label held until the reopening. How many."""
    labelled = (CONFIRMED, *CLEARED)
    index = labels.times_by_case(output_root)
    query = select(AuditEvent).where(AuditEvent.action.in_(("approve", "reopen"))).order_by(AuditEvent.id)
    restored = 0
    for entry in session.scalars(query):
        reopening = entry.action == "reopen"
        decided = json.loads((entry.before if reopening else entry.after) or "{}")
        if decided.get("approved_by") is None or decided.get("outcome") not in labelled:
            continue
        stamp = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
        if entry.case_id is None or labels.has_label_near(
            index, entry.case_id, stamp, EVENT_SLACK, withdrawal=reopening
        ):
            continue
        case = session.scalars(
            select(Case).options(load_only(Case.id, Case.customer_id)).where(Case.id == entry.case_id)
        ).first()
        if case is None:
            continue
        if reopening:
            labels.write_withdrawal(output_root, case_id=case.id, customer_id=case.customer_id,
                                    withdrawn_at=stamp)
            logger.warning("case %s: its reopening had no label withdrawal; written now", case.id)
        else:
            outcome = str(decided["outcome"])
            labels.write_decision(
                output_root,
                case_id=case.id,
                customer_id=case.customer_id,
                label=1 if outcome == CONFIRMED else 0,
                decided_at=stamp,
                typology=labels.typology_of(outcome),
                origin=labels.BELOW_LINE_SAMPLE if below_line_sample(session, case.id) else labels.ALERT,
            )
            logger.warning("case %s: an approval reopened since had no label file; written now", case.id)
        restored += 1
    return restored


def below_line_sample(session: Session, case_id: str) -> bool:
    """Whether the case was opened as a below-the-line sample (its `BELOW_LINE_SAMPLE` audit event)."""
    marked = select(AuditEvent.id).where(
        (AuditEvent.case_id == case_id) & (AuditEvent.action == labels.BELOW_LINE_SAMPLE)
    )
    return session.scalar(marked.limit(1)) is not None


def _after_commit(session: Session, run: Callable[[], object]) -> None:
    session.info.setdefault(_PENDING, []).append(run)


_PENDING = "bantay_after_commit"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for run in session.info.pop(_PENDING, []):
        run()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def refuse(session: Session, case: Case, user: User, reason: str) -> Case:
    """Send the decision back to the investigator with a reason."""
    _require(user, "approver", "admin")
    _require_state(case, "pending_approval")
    _four_eyes(session, case, user)
    why = _reason(reason, "sending back")

    def apply() -> None:
        case.state = "in_review"
        case.decided_by = case.decided_at = None
        case.decision_reason = f"sent back: {why}"
        _release_days(case)

    return _change(session, case, user, "refuse", apply)


def file(
    session: Session, case: Case, user: User, reference: str, acknowledged_on: date, channel: str
) -> Case:
    """Record the FIU's acknowledgment of the filed report (reference, date, channel)."""
    _require(user, "investigator", "approver", "admin")
    _require_state(case, "approved")
    ref, via = _reason(reference, "a filing reference")[:128], _reason(channel, "a filing channel")[:64]

    def apply() -> None:
        case.state = "filed"
        case.filed_at = utcnow()
        case.fiu_reference, case.fiu_ack_date, case.fiu_channel = ref, acknowledged_on, via

    return _change(session, case, user, "file", apply)


def reopen(session: Session, case: Case, user: User, reason: str, output_root: Path) -> Case:
    """Reopen a closed or filed case for review, with a reason (the earlier decision stays in the audit).

    The FinCEN file stays stored but is not served (`filing_of`), the days held since the decision are
    evidence again, and the approval's training label is withdrawn from now on (`labels.write_withdrawal`)
    until a new approval."""
    _require(user, "investigator", "approver", "admin")
    _require_state(case, "closed", "filed")
    why = _reason(reason, "reopening")
    labelled = case.approved_at is not None and case.outcome not in (None, INCONCLUSIVE)
    stamp = utcnow()

    def apply() -> None:
        case.state = "in_review"
        case.assignee_id = user.id if user.role in ("investigator", "admin") else None
        case.outcome, case.decision_reason = None, f"reopened: {why}"
        case.decided_by = case.decided_at = case.approved_by = case.approved_at = None
        _release_days(case)  # the filing stays stored (a record); it is served only while approved or filed

    _change(session, case, user, "reopen", apply, at=stamp)
    if labelled:
        # The approval's training label is withdrawn from now on (written once the reopening is committed;
        # the audit event's time names the file, so `restore_labels` can write it if this write is lost).
        case_id, customer_id = case.id, case.customer_id
        _after_commit(session, lambda: labels.write_withdrawal(
            output_root, case_id=case_id, customer_id=customer_id, withdrawn_at=stamp))
    return case


def history(session: Session, case_id: str) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
    )


def customer_cases(session: Session, case: Case) -> list[Case]:
    """This customer's other cases, newest first."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.customer_id == case.customer_id, Case.id != case.id)
            .order_by(Case.opened_on.desc())
        )
    )


def cases_sharing_clusters(session: Session, case: Case, limit: int = 50) -> dict[str, list[str]]:
    """The store's cases (other than this one) whose drafts pay the same payee clusters, by cluster id."""
    shared: dict[str, list[str]] = {}
    for cluster in latest_draft(case).get("clusters", []):
        ids = [str(c) for c in cluster.get("other_case_ids") or []]
        query = select(CaseDay.case_id).where(CaseDay.draft_case_id.in_(ids), CaseDay.case_id != case.id)
        shared[str(cluster["cluster_id"])] = sorted(set(session.scalars(query)))[:limit] if ids else []
    return shared


@dataclass(frozen=True)
class QueueFilter:
    state: str | None = None
    assignee: str | None = None
    country: str | None = None
    region: str | None = None
    reason: str | None = None
    sort: str = "score"
    include_closed: bool = False


def queue_query(flt: QueueFilter) -> Select[Case]:
    """Cases by the filter; every value is a bound parameter, so any text just matches nothing."""
    query = select(Case)
    if flt.state and flt.state in STATES:
        query = query.where(Case.state == flt.state)
    elif flt.state:
        query = query.where(Case.state == flt.state)  # unknown: a bound value that matches nothing
    elif not flt.include_closed:
        query = query.where(Case.state.in_(OPEN_STATES))
    if flt.assignee:
        query = query.join(User, User.id == Case.assignee_id).where(User.username == flt.assignee)
    if flt.country:
        query = query.where(Case.payee_countries.contains(flt.country.upper(), autoescape=True))
    if flt.region:
        query = query.where(Case.payee_regions.contains(flt.region, autoescape=True))
    if flt.reason:
        query = query.where(Case.top_reason == flt.reason)
    return query.order_by(*SORTS.get(flt.sort, SORTS["score"]))


QUEUE_COLUMNS = (
    Case.id,
    Case.kind,
    Case.state,
    Case.score,
    Case.opened_on,
    Case.due_on,
    Case.n_days,
    Case.payee_countries,
    Case.top_reason,
    Case.assignee_id,
)


def queue(session: Session, flt: QueueFilter, limit: int = 100, offset: int = 0) -> list[Case]:
    """One page of the queue, loading only the columns the queue shows."""
    page = queue_query(flt).options(load_only(*QUEUE_COLUMNS)).limit(limit).offset(offset)
    return list(session.scalars(page))


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Case.state, func.count()).group_by(Case.state)).all()
    found = {str(state): int(n) for state, n in rows}
    return {state: found.get(state, 0) for state in STATES}


def top_reasons(session: Session) -> list[str]:
    return [r for r in session.scalars(select(Case.top_reason).distinct().order_by(Case.top_reason)) if r]


def open_case_of(session: Session, customer_ids: Iterable[str]) -> dict[str, Case]:
    """Each customer's open case, if any."""
    ids = list(customer_ids)
    if not ids:
        return {}
    found = session.scalars(select(Case).where(Case.customer_id.in_(ids), Case.state.in_(OPEN_STATES)))
    return {case.customer_id: case for case in found}


def latest_filed_of(session: Session, customer_id: str) -> Case | None:
    return session.scalars(
        select(Case)
        .where(Case.customer_id == customer_id, Case.state == "filed")
        .order_by(Case.filed_at.desc())
        .limit(1)
    ).first()


OUTCOME_LABELS = {
    CONFIRMED: "confirmed (SAR filed)",
    **{k: f"cleared: {v}" for k, v in CLEARED.items()},
    INCONCLUSIVE: "inconclusive",
}
