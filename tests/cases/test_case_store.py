"""The case store on SQLite and PostgreSQL: cases across days, four-eyes, the append-only audit trail."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cases_support import PASSWORD, draft, write_day
from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bantay.cases import ingest, labels, store, users
from bantay.cases.errors import (
    AuthenticationError,
    CaseNotFoundError,
    FourEyesError,
    PermissionDeniedError,
    TransitionError,
)
from bantay.cases.models import AuditEvent, Case, CaseDay
from bantay.io import catalogue
from bantay.sar import fincen

D1 = date(2025, 3, 1)


def _team(session: Session) -> dict[str, object]:
    return {
        "ana": users.add_user(session, "ana", PASSWORD, "investigator"),
        "ben": users.add_user(session, "ben", PASSWORD, "approver"),
        "cy": users.add_user(session, "cy", PASSWORD, "approver"),
    }


def test_ingest_customer_alerted_three_days_running_has_one_case_with_three_days(
    factory: sessionmaker[Session], store_url: str, tmp_path: Path
):
    out = tmp_path / "out"
    for day in range(3):
        as_of = D1 + timedelta(days=day)
        # c1 every day; c2 only on the first day (its case stays open, nothing appended later)
        drafts = [draft("c1", as_of, score=0.9 - day / 10)] + ([draft("c2", as_of)] if day == 0 else [])
        counts = ingest.ingest_day(out, as_of, write_day(out, as_of, drafts), url=store_url)
        assert counts == {
            "new": 2 if day == 0 else 0,
            "appended": 0 if day == 0 else 1,
            "reloaded": 0,
            "held": 0,
            "continuing_review": 0,
            "withdrawn": 0,
        }
    # a rerun of day 2 replaces that day's evidence: still three days
    assert ingest.ingest_day(out, D1 + timedelta(days=1), url=store_url)["reloaded"] == 1
    with factory() as session:
        cases = list(session.scalars(select(Case).order_by(Case.customer_id)))
        assert [(c.customer_id, c.n_days) for c in cases] == [("c1", 3), ("c2", 1)]
        c1 = cases[0]
        assert c1.id == draft("c1", D1)["case_id"]
        assert [d.as_of for d in c1.days] == [D1, D1 + timedelta(days=1), D1 + timedelta(days=2)]
        assert [d.draft_case_id for d in c1.days] == [
            draft("c1", D1 + timedelta(days=i))["case_id"] for i in range(3)
        ]
        assert c1.last_seen_on == D1 + timedelta(days=2)
        assert c1.due_on == D1 + timedelta(days=30)
        assert c1.score == pytest.approx(0.7)  # the latest day's score
        assert c1.payee_countries == "PH"  # the payees of draft_c1.json (the token seller is supporting only)
        assert c1.payee_regions == "Central Luzon,Central Visayas"  # payees in Angeles City and Cebu City


def _decided(session: Session, team: dict, outcome: str = "confirmed") -> Case:
    ingest.ingest_drafts(session, D1, [draft("c1", D1)])
    case = store.get_case(session, draft("c1", D1)["case_id"])
    store.claim(session, case, team["ana"])
    store.edit_narrative(session, case, team["ana"], "Edited narrative: payments to PH payees.")
    store.decide(session, case, team["ana"], outcome, "pattern matches the typology")
    store.submit(session, case, team["ana"])
    return case


def test_four_eyes_refuses_the_investigator_and_any_editor(factory: sessionmaker[Session], tmp_path: Path):
    with factory.begin() as session:
        team = _team(session)
        team["ana"].role = "admin"  # an admin may approve, but never a case she drafted or decided
        case = _decided(session, team)
        with pytest.raises(FourEyesError):
            store.approve(session, case, team["ana"], tmp_path / "out")
        with pytest.raises(FourEyesError):
            store.refuse(session, case, team["ana"], "no")
        assert case.state == "pending_approval"
        store.approve(session, case, team["ben"], tmp_path / "out")
        assert (case.state, case.approved_by) == ("approved", team["ben"].id)
        xml = etree.fromstring(case.fincen_xml)
        assert fincen.schema().validate(xml)
        narrative = xml.findtext(f".//{{{fincen.NS}}}ActivityNarrativeText")
        assert narrative == "OCSE-FIN-2021-NTC3. Edited narrative: payments to PH payees."


def test_four_eyes_is_also_a_database_constraint(factory: sessionmaker[Session]):
    with pytest.raises(IntegrityError), factory.begin() as session:
        team = _team(session)
        case = _decided(session, team)
        case.approved_by = team["ana"].id  # the application bypassed: the schema still refuses
        session.flush()


def test_approval_writes_a_label_in_the_contract_format(factory: sessionmaker[Session], tmp_path: Path):
    out = tmp_path / "out"
    with factory.begin() as session:
        team = _team(session)
        case = _decided(session, team, outcome="cleared_family_remittance")
        store.approve(session, case, team["cy"], out)
        approved_at = case.approved_at
    assert case.state == "closed"
    files = list(labels.labels_path(out).glob("*.parquet"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    rows = pq.read_table(files[0]).to_pylist()
    assert rows == [
        {"customer_id": "c1", "label": 0, "decided_at": approved_at, "typology": "family_remittance",
         "origin": "alert"}
    ]


def test_a_below_the_line_case_labels_its_origin(factory: sessionmaker[Session], tmp_path: Path):
    out = tmp_path / "out"
    with factory.begin() as session:
        team = _team(session)
        case = _decided(session, team, outcome="confirmed")
        # A case opened as a below-the-line sample carries this audit event (the backtest's sampler writes
        # it).
        store.audit(session, "backtest", labels.BELOW_LINE_SAMPLE, case.id, None, {"rank": 412})
        assert store.below_line_sample(session, case.id)
        store.approve(session, case, team["cy"], out)
    (written,) = labels.labels_path(out).glob("*.parquet")
    assert pq.read_table(written).to_pylist()[0]["origin"] == "below_line_sample"


def test_workflow_rules(factory: sessionmaker[Session], tmp_path: Path):
    with factory.begin() as session:
        team = _team(session)
        ingest.ingest_drafts(session, D1, [draft("c1", D1)])
        case = store.get_case(session, draft("c1", D1)["case_id"])
        with pytest.raises(PermissionDeniedError):
            store.claim(session, case, team["ben"])  # approvers approve, they do not investigate
        with pytest.raises(TransitionError):
            store.submit(session, case, team["ana"])
        store.claim(session, case, team["ana"])
        with pytest.raises(TransitionError, match="at most 16980 characters"):
            store.edit_narrative(
                session, case, team["ana"], "x" * 16_981
            )  # 17,000 less "OCSE-FIN-2021-NTC3. "
        with pytest.raises(TransitionError):
            store.decide(session, case, team["ana"], "'; DROP TABLE cases; --", "why")
        with pytest.raises(TransitionError):
            store.decide(session, case, team["ana"], "confirmed", "   ")
        with pytest.raises(PermissionDeniedError):
            store.approve(session, case, team["ana"], tmp_path)
        store.decide(session, case, team["ana"], "confirmed", "matches")
        store.submit(session, case, team["ana"])
        store.refuse(session, case, team["ben"], "add the payee cluster")
        assert (case.state, case.decided_by) == ("in_review", None)
        store.decide(session, case, team["ana"], "confirmed", "matches, cluster added")
        store.submit(session, case, team["ana"])
        store.approve(session, case, team["ben"], tmp_path)
        store.file(session, case, team["ana"], "BSA-123", D1 + timedelta(days=5), "BSA E-Filing")
        assert (case.state, case.fiu_reference) == ("filed", "BSA-123")
        with pytest.raises(TransitionError):
            store.reopen(session, case, team["ana"], "", tmp_path)
        store.reopen(session, case, team["ana"], "new information from law enforcement", tmp_path)
        assert case.state == "in_review" and case.outcome is None
        actions = [e.action for e in store.history(session, case.id)]
        assert actions == [
            "open",
            "claim",
            "decide",
            "submit",
            "refuse",
            "decide",
            "submit",
            "approve",
            "file",
            "reopen",
        ]
        with pytest.raises(CaseNotFoundError):
            store.get_case(session, "../../etc/passwd")
        with pytest.raises(CaseNotFoundError):
            store.get_case(session, "C-20250301-0000000000")


def test_filed_customer_gets_a_continuing_activity_review_after_90_days(
    factory: sessionmaker[Session], tmp_path: Path
):
    with factory.begin() as session:
        team = _team(session)
        case = _decided(session, team)
        store.approve(session, case, team["ben"], tmp_path)
        store.file(session, case, team["ana"], "BSA-1", D1, "BSA E-Filing")
        filed_on = case.filed_at.date()
        inside = filed_on + timedelta(days=30)
        assert ingest.ingest_drafts(session, inside, [draft("c1", inside)])["held"] == 1
        after = filed_on + timedelta(days=90)
        assert ingest.ingest_drafts(session, after, [draft("c1", after)])["continuing_review"] == 1
        review = store.get_case(session, draft("c1", after)["case_id"])
        assert (review.kind, review.state, review.n_days) == ("continuing_activity", "new", 1)
        held = session.scalars(select(CaseDay).where(CaseDay.case_id == case.id, CaseDay.held)).all()
        assert [d.as_of for d in held] == [inside]
        assert [c.id for c in store.customer_cases(session, review)] == [case.id]


def test_continuing_customers_are_open_or_recently_filed(
    factory: sessionmaker[Session], store_url: str, tmp_path: Path
):
    with factory.begin() as session:
        team = _team(session)
        case = _decided(session, team)  # c1: pending approval
        ingest.ingest_drafts(session, D1, [draft("c2", D1), draft("c3", D1)])
        closed = store.get_case(session, draft("c3", D1)["case_id"])
        closed.state = "closed"
    out = tmp_path / "out"
    assert ingest.continuing_customers(out, D1, store_url) == []  # a rerun of D1 ignores the cases D1 opened
    assert ingest.continuing_customers(out, D1 + timedelta(days=1), store_url) == ["c1", "c2"]
    with factory.begin() as session:
        case = store.get_case(session, case.id)
        store.approve(session, case, session.get(type(team["ben"]), team["ben"].id), out)
        store.file(session, case, session.get(type(team["ana"]), team["ana"].id), "BSA-2", D1, "BSA E-Filing")
        filed_on = case.filed_at.date()
    # c1 is filed now and no load of D1 + 1 continued its case: a new alert there counts against the budget.
    assert ingest.continuing_customers(out, D1 + timedelta(days=1), store_url) == ["c2"]
    assert ingest.continuing_customers(out, filed_on + timedelta(days=89), store_url) == ["c1", "c2"]
    assert ingest.continuing_customers(out, filed_on + timedelta(days=90), store_url) == ["c2"]


def test_days_after_the_decision_are_held_from_the_approval_and_released_when_sent_back(
    factory: sessionmaker[Session], tmp_path: Path
):
    later = D1 + timedelta(days=1)
    with factory.begin() as session:
        team = _team(session)
        case = _decided(session, team)  # c1, decided on D1's evidence, pending approval
        score = case.score
        assert ingest.ingest_drafts(session, later, [draft("c1", later, score=0.5)])["appended"] == 1
        assert [(d.as_of, d.held) for d in case.days] == [(D1, False), (later, True)]
        assert (store.latest_draft(case)["as_of"], case.score) == (D1.isoformat(), score)
        assert store.snapshot(case)["held_days"] == 1
        store.refuse(session, case, team["ben"], "look at the new day first")
        assert [d.held for d in case.days] == [False, False]
        assert store.latest_draft(case)["as_of"] == later.isoformat()
        assert case.score == pytest.approx(0.5)  # the queue shows the released latest day's score
        refused = store.history(session, case.id)[-1]
        assert (json.loads(refused.before)["held_days"], json.loads(refused.after)["held_days"]) == (1, 0)
        store.decide(session, case, team["ana"], "confirmed", "both days")
        store.submit(session, case, team["ana"])
        store.approve(session, case, team["ben"], tmp_path)
        # Approved and waiting to be filed: a new day is held, the filing stays the decided evidence's.
        third = later + timedelta(days=1)
        ingest.ingest_drafts(session, third, [draft("c1", third)])
        assert [d.held for d in case.days] == [False, False, True]
        assert store.latest_draft(case)["as_of"] == later.isoformat()


def test_a_rerun_of_a_day_takes_back_what_the_day_no_longer_alerts(
    factory: sessionmaker[Session], store_url: str, tmp_path: Path
):
    out, later = tmp_path / "out", D1 + timedelta(days=1)

    def load(as_of: date, drafts: list) -> dict[str, int]:
        shutil.rmtree(catalogue.partition(out, "cases", as_of), ignore_errors=True)  # the job replaces a day
        return ingest.ingest_day(out, as_of, write_day(out, as_of, drafts), url=store_url)

    load(D1, [draft("c1", D1, score=0.9), draft("c2", D1), draft("c3", D1)])
    load(later, [draft("c1", later, score=0.6)])
    with factory.begin() as session:
        store.claim(session, store.get_case(session, draft("c3", D1)["case_id"]), _team(session)["ana"])
    # Rerun of D1 where c2's draft failed (its folder holds only the error): still alerted, nothing withdrawn.
    shutil.rmtree(catalogue.partition(out, "cases", D1))
    failed = write_day(out, D1, [draft("c1", D1, score=0.9)]) / draft("c2", D1)["case_id"]
    failed.mkdir()
    (failed / "error.txt").write_text("the draft failed")
    assert ingest.ingest_day(out, D1, failed.parent, url=store_url)["withdrawn"] == 0
    # Rerun of D1: c2 and c3 no longer alerted. c2's untouched case goes; c3's, claimed, stays.
    assert load(D1, [draft("c1", D1, score=0.9)])["withdrawn"] == 1
    # Rerun of the later day: nobody alerted; c1 loses that day's evidence and its facts go back to D1's.
    assert load(later, [])["withdrawn"] == 1
    with factory() as session:
        cases = {c.customer_id: c for c in session.scalars(select(Case))}
        assert sorted(cases) == ["c1", "c3"]
        c1 = cases["c1"]
        assert ([d.as_of for d in c1.days], c1.n_days, c1.last_seen_on) == ([D1], 1, D1)
        assert c1.score == pytest.approx(0.9)
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions.count("withdrawn_by_rerun") == 1 and actions.count("day_withdrawn_by_rerun") == 1


def test_a_rerun_of_a_past_day_sees_the_cases_its_first_run_continued(
    factory: sessionmaker[Session], store_url: str, tmp_path: Path
):
    out, later = tmp_path / "out", D1 + timedelta(days=1)
    with factory.begin() as session:
        team = _team(session)
        case = _decided(session, team, "cleared_dating")  # c1, opened on D1, pending approval
        assert ingest.ingest_drafts(session, later, [draft("c1", later)])["appended"] == 1  # held
        store.approve(session, case, team["ben"], out)
        assert case.state == "closed"
    # The first run of D1 + 1 continued c1's case: its rerun does too, though the case has closed since.
    assert ingest.continuing_customers(out, later, store_url) == ["c1"]
    assert ingest.continuing_customers(out, later + timedelta(days=1), store_url) == []  # closed
    with factory.begin() as session:
        # Reloading D1 + 1 goes back into that case (its held day stays held), no second case is opened.
        assert ingest.ingest_drafts(session, later, [draft("c1", later)])["reloaded"] == 1
        assert [c.id for c in session.scalars(select(Case))] == [case.id]
        days = store.get_case(session, case.id).days
        assert [(d.as_of, d.held) for d in days] == [(D1, False), (later, True)]


def test_audit_trail_refuses_update_and_delete(factory: sessionmaker[Session]):
    with factory.begin() as session:
        store.audit(session, "ana", "note", "C-20250301-0000000000", None, {"text": "x"})
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), factory.begin() as session:
            session.execute(text(statement))
    with factory() as session:
        assert [(e.actor, e.action) for e in session.scalars(select(AuditEvent))] == [("ana", "note")]
    if factory.kw["bind"].dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), factory.begin() as session:
            session.execute(text("TRUNCATE audit_events"))


def test_lock_out_after_repeated_failures(factory: sessionmaker[Session]):
    with factory.begin() as session:
        users.add_user(session, "ana", PASSWORD, "investigator")
    assert users.authenticate(factory, "ana", PASSWORD).username == "ana"
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(AuthenticationError, match="wrong"):
            users.authenticate(factory, "ana", "wrong password!")
    with pytest.raises(AuthenticationError, match="locked") as locked:
        users.authenticate(factory, "ana", PASSWORD)  # the right password, but locked
    with pytest.raises(AuthenticationError, match="wrong") as unknown:
        users.authenticate(factory, "nobody", PASSWORD)
    # The same answer for a locked account and a name that does not exist: no way to tell names that exist.
    assert str(locked.value) == str(unknown.value) == users.REFUSED
