"""Approved decisions reach the next training's labelled points with the approval time (point in time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cases_support import PASSWORD, draft, write_day
from sqlalchemy import select

from bantay import ledger
from bantay import settings as settings_module
from bantay.cases import db, ingest, labels, store, users
from bantay.cases.models import User
from bantay.features import network
from bantay.models import training_set
from bantay.sar import evidence

D1 = date(2025, 3, 1)


def _approve_confirmed(out: Path) -> datetime:
    factory = db.open_store(out)
    with factory.begin() as session:
        ana = users.add_user(session, "ana", PASSWORD, "investigator")
        ben = users.add_user(session, "ben", PASSWORD, "approver")
        ingest.ingest_drafts(session, D1, [draft("c1", D1)])
        case = store.get_case(session, draft("c1", D1)["case_id"])
        store.claim(session, case, ana)
        store.decide(session, case, ana, "confirmed", "typology")
        store.submit(session, case, ana)
        store.approve(session, case, ben, out)
        approved = case.approved_at
    factory.kw["bind"].dispose()
    assert approved is not None
    return approved


def _disk_full(*args, **kwargs):
    raise OSError("no space left on device")


def _approve_losing_its_label(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Approve c1's confirmed decision with its label write failing after the commit (killed, disk full)."""
    monkeypatch.setattr(labels, "write_decision", _disk_full)
    with pytest.raises(OSError, match="no space"):
        _approve_confirmed(out)
    monkeypatch.undo()


def test_a_rolled_back_approval_writes_no_label(tmp_path: Path):
    out = tmp_path / "out"
    factory = db.open_store(out)
    with factory() as session:
        ana = users.add_user(session, "ana", PASSWORD, "investigator")
        ben = users.add_user(session, "ben", PASSWORD, "approver")
        ingest.ingest_drafts(session, D1, [draft("c1", D1)])
        case = store.get_case(session, draft("c1", D1)["case_id"])
        store.claim(session, case, ana)
        store.decide(session, case, ana, "cleared_dating", "dating site")
        store.submit(session, case, ana)
        store.approve(session, case, ben, out)
        session.rollback()
    factory.kw["bind"].dispose()
    assert not labels.labels_path(out).exists() or not any(labels.labels_path(out).iterdir())


def test_decisions_join_the_ledger_labels_latest_wins_point_in_time(spark, tmp_path: Path):
    out = tmp_path / "out"
    approved = _approve_confirmed(out)
    # the same decision written again (a retried write) must not count twice
    labels.write_decision(
        out,
        case_id="C-20250301-0000000001",
        customer_id="c1",
        label=1,
        decided_at=approved,
        typology="confirmed",
    )
    spark.createDataFrame(
        [
            ("c1", 0, datetime(2025, 1, 10, 9, 0), "cleared"),  # cleared earlier, confirmed by the workbench
            ("c2", 1, datetime(2025, 2, 1, 12, 0), "ocse_payer"),  # only in the ledger
        ],
        ledger.SCHEMAS["labels"],
    ).write.parquet(str(ledger.validated_path(out, "labels")))
    # what training reads: the validated labels and the decisions, as training_set.training_rows reads them
    combined = training_set.training_labels(spark, settings_module.load(output_root=out))
    assert combined.where("customer_id = 'c1'").count() == 2
    day = approved.astimezone(UTC).date()

    def points(as_of: date) -> list[tuple]:
        rows = training_set.labelled_points(combined, as_of).orderBy("customer_id").collect()
        return [(r["customer_id"], r["as_of"], r["label"], r["typology"]) for r in rows]

    # training as of the approval day cannot see it yet (decided_at < D, UTC midnight)
    assert points(day) == [("c1", date(2025, 1, 10), 0, "cleared"), ("c2", date(2025, 2, 1), 1, "ocse_payer")]
    # the next day's training takes the approval, dated by the approval time
    assert points(day + timedelta(days=1)) == [
        ("c1", day, 1, "confirmed"),
        ("c2", date(2025, 2, 1), 1, "ocse_payer"),
    ]
    assert labels.read_decided(spark, tmp_path / "empty") is None
    assert labels.with_decided(spark, None, tmp_path / "empty") is None
    only_decided = labels.with_decided(spark, None, out)  # no ledger labels: the decisions alone
    assert [(r["customer_id"], r["label"]) for r in only_decided.collect()] == [("c1", 1)]


def _mixed_origins(out: Path, when: datetime) -> None:
    """c1 from an alerted case, c2 a below-the-line sample, c3 a file written before origins were recorded
    (the contract's four columns only), all decided at `when`."""
    labels.write_decision(out, case_id="C-20250301-0000000001", customer_id="c1", label=1, decided_at=when,
                          typology="confirmed")
    labels.write_decision(out, case_id="C-20250301-0000000002", customer_id="c2", label=0, decided_at=when,
                          typology="cleared", origin=labels.BELOW_LINE_SAMPLE)
    old = pa.Table.from_pylist([{"customer_id": "c3", "label": 0, "decided_at": when, "typology": "cleared"}],
                               schema=ledger.arrow_schema("labels"))
    stamp = when.strftime(labels.STAMP)
    pq.write_table(old, labels.labels_path(out) / f"C-20250301-0000000003-{stamp}.parquet")


def test_origins_name_the_ledger_the_alerts_and_the_samples_below_the_line(spark, tmp_path: Path):
    out = tmp_path / "out"
    when = datetime(2025, 3, 2, 9, 30, tzinfo=UTC)
    _mixed_origins(out, when)
    ledger_labels = spark.createDataFrame(
        [("c4", 1, datetime(2025, 1, 10, 9, 0), "ocse_payer")], ledger.SCHEMAS["labels"]
    )
    rows = {r["customer_id"]: r["origin"] for r in labels.origins(spark, ledger_labels, out).collect()}
    assert rows == {"c1": "alert", "c2": "below_line_sample", "c3": None, "c4": "ledger"}
    assert labels.origins(spark, None, tmp_path / "empty").count() == 0
    with pytest.raises(ValueError, match="unknown label origin"):
        labels.write_decision(out, case_id="C-X", customer_id="c5", label=1, decided_at=when,
                              typology="confirmed", origin="guess")


def test_label_origins_follow_the_point_training_takes_and_prefer_an_alert_on_a_tie(spark, tmp_path: Path):
    out = tmp_path / "out"
    same = datetime(2025, 3, 2, 9, 30, tzinfo=UTC)
    # c1 is also in the ledger at the same time (below): counted as the alert's. c2's later alerted decision
    # is after the cut-off. c3 has no recorded origin.
    _mixed_origins(out, same)
    labels.write_decision(out, case_id="C-20250401-0000000003", customer_id="c2", label=1,
                          decided_at=datetime(2025, 4, 2, 8, 0, tzinfo=UTC), typology="confirmed")
    spark.createDataFrame(
        [("c1", 1, same.replace(tzinfo=None), "ocse_payer"),
         ("c4", 0, datetime(2025, 2, 1, 12, 0), "cleared")],
        ledger.SCHEMAS["labels"],
    ).write.parquet(str(ledger.validated_path(out, "labels")))
    found = training_set.label_origins(spark, settings_module.load(output_root=out), date(2025, 4, 1))
    rows = {r.customer_id: (r.as_of, r.origin) for r in found.itertuples()}
    assert rows == {
        "c1": (date(2025, 3, 2), "alert"),
        "c2": (date(2025, 3, 2), "below_line_sample"),
        "c3": (date(2025, 3, 2), None),
        "c4": (date(2025, 2, 1), "ledger"),
    }
    points = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], "as_of": [r[0] for r in rows.values()],
                           "typology": ["confirmed", "cleared", "cleared", "cleared"]}, index=[7, 3, 9, 1])
    marked = training_set.with_origin(points, found)
    assert marked["origin"].tolist() == ["alert", "below_line_sample", "unknown", "ledger"]
    assert marked.index.tolist() == [7, 3, 9, 1]


def test_a_reopened_case_withdraws_its_label_from_the_reopening_on(spark, tmp_path: Path):
    out = tmp_path / "out"
    approved = _approve_confirmed(out)  # c1 confirmed, with an earlier cleared label in the ledger
    spark.createDataFrame(
        [("c1", 0, datetime(2025, 1, 10, 9, 0), "cleared")], ledger.SCHEMAS["labels"]
    ).write.parquet(str(ledger.validated_path(out, "labels")))
    # A withdrawal three days after the approval, as `store.reopen` writes one.
    reopened = approved + timedelta(days=3)
    labels.write_withdrawal(out, case_id=draft("c1", D1)["case_id"], customer_id="c1", withdrawn_at=reopened)
    combined = training_set.training_labels(spark, settings_module.load(output_root=out))
    day = approved.astimezone(UTC).date()

    def points(as_of: date) -> list[tuple]:
        rows = training_set.labelled_points(combined, as_of).collect()
        return [(r["customer_id"], r["label"]) for r in rows]

    def confirmed(as_of: date) -> list[tuple]:
        rows = network.confirmed_payers(combined, as_of).collect()
        return [(r["customer_id"], r["confirmed"]) for r in rows]

    assert points(day + timedelta(days=1)) == [("c1", 1)] == confirmed(day + timedelta(days=1))
    # After the reopening no label at all: not the confirmation taken back, not the older clearance either.
    assert points(day + timedelta(days=4)) == [] == confirmed(day + timedelta(days=4))
    settings = settings_module.load(output_root=out)
    assert training_set.label_origins(spark, settings, day + timedelta(days=4)).empty
    assert list(evidence.decisions(spark, settings, day + timedelta(days=1), ["c1"])["label"]) == [1]
    assert evidence.decisions(spark, settings, day + timedelta(days=4), ["c1"]).empty


def test_store_reopen_writes_the_withdrawal_and_stops_serving_the_filing(spark, tmp_path: Path):
    out = tmp_path / "out"
    _approve_confirmed(out)
    factory = db.open_store(out)
    with factory.begin() as session:
        case = store.get_case(session, draft("c1", D1)["case_id"])
        assert case.fincen_xml is not None
        ana = session.scalars(select(User).where(User.username == "ana")).one()
        store.file(session, case, ana, "BSA-1", D1, "BSA E-Filing")
        store.reopen(session, case, ana, "the subject is a victim, not a payer", out)
    with factory() as session:
        case = store.get_case(session, draft("c1", D1)["case_id"])
        assert (case.state, case.outcome, store.filing_of(case)) == ("in_review", None, None)
        assert case.fincen_xml is not None  # the filed report stays stored, as a record
        assert store.restore_labels(session, out) == 0  # the withdrawal written is the one a restore names
    factory.kw["bind"].dispose()
    written = pq.read_table(labels.labels_path(out)).to_pylist()
    decided = sorted((r["label"], r["typology"]) for r in written if r["label"] is not None)
    assert decided == [(1, "confirmed")]
    assert [r["typology"] for r in written if r["label"] is None] == [labels.WITHDRAWN]
    combined = labels.with_decided(spark, None, out)  # no ledger labels here: the decisions alone
    assert training_set.labelled_points(combined, date.today() + timedelta(days=2)).count() == 0


def test_an_approval_whose_label_was_never_written_gets_it_at_the_next_load(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    _approve_losing_its_label(out, monkeypatch)
    factory = db.open_store(out)
    with factory() as session:
        case = store.get_case(session, draft("c1", D1)["case_id"])
        assert case.state == "approved" and case.approved_at is not None
        approved = case.approved_at
    assert not labels.labels_path(out).exists() or not any(labels.labels_path(out).iterdir())
    # The next day's load restores it, as the approval would have written it; once.
    later = D1 + timedelta(days=1)
    ingest.ingest_day(out, later, write_day(out, later, []))
    with factory.begin() as session:
        assert store.restore_labels(session, out) == 0
    factory.kw["bind"].dispose()
    written = pq.read_table(labels.labels_path(out)).to_pylist()
    assert [(r["customer_id"], r["label"], r["typology"], r["origin"]) for r in written] == [
        ("c1", 1, "confirmed", labels.ALERT)]
    assert written[0]["decided_at"].replace(tzinfo=UTC) == approved.replace(tzinfo=UTC)


def test_a_reopening_whose_withdrawal_was_never_written_gets_it_at_the_next_load(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    approved = _approve_confirmed(out)
    monkeypatch.setattr(labels, "write_withdrawal", _disk_full)
    factory = db.open_store(out)
    case_id = draft("c1", D1)["case_id"]
    with pytest.raises(OSError, match="no space"), factory.begin() as session:
        case = store.get_case(session, case_id)
        ana = session.scalars(select(User).where(User.username == "ana")).one()
        store.file(session, case, ana, "BSA-1", D1, "BSA E-Filing")
        store.reopen(session, case, ana, "the subject is a victim, not a payer", out)  # committed, then fails
    monkeypatch.undo()
    with factory() as session:
        assert store.get_case(session, case_id).state == "in_review"
        reopened_at = session.scalars(select(store.AuditEvent.at).where(
            store.AuditEvent.case_id == case_id, store.AuditEvent.action == "reopen")).one()
    assert [r["label"] for r in pq.read_table(labels.labels_path(out)).to_pylist()] == [1]  # still in force
    # The next day's load writes the withdrawal the reopening lost, at the reopening's time; once.
    later = D1 + timedelta(days=1)
    ingest.ingest_day(out, later, write_day(out, later, []))
    with factory.begin() as session:
        assert store.restore_labels(session, out) == 0
    factory.kw["bind"].dispose()
    written = sorted(pq.read_table(labels.labels_path(out)).to_pylist(), key=lambda r: r["decided_at"])
    assert [(r["customer_id"], r["label"], r["typology"]) for r in written] == [
        ("c1", 1, "confirmed"), ("c1", None, labels.WITHDRAWN)]
    assert written[0]["decided_at"].replace(tzinfo=UTC) == approved.replace(tzinfo=UTC)
    assert written[1]["decided_at"].replace(tzinfo=UTC) == reopened_at.replace(tzinfo=UTC)


def test_a_withdrawal_stamped_before_its_reopen_event_is_not_written_twice(tmp_path: Path):
    """Stores reopened by an earlier version: the withdrawal's name is a moment before the audit event."""
    out = tmp_path / "out"
    _approve_confirmed(out)
    factory = db.open_store(out)
    case_id = draft("c1", D1)["case_id"]
    with factory.begin() as session:
        case = store.get_case(session, case_id)
        ana = session.scalars(select(User).where(User.username == "ana")).one()
        store.file(session, case, ana, "BSA-1", D1, "BSA E-Filing")
        store.reopen(session, case, ana, "the subject is a victim, not a payer", out)
    with factory.begin() as session:
        reopened_at = session.scalars(select(store.AuditEvent.at).where(
            store.AuditEvent.case_id == case_id, store.AuditEvent.action == "reopen")).one()
    stamp = reopened_at.replace(tzinfo=UTC)
    written = labels.decision_path(out, case_id, stamp)
    written.rename(labels.decision_path(out, case_id, stamp - timedelta(microseconds=70)))  # as it was named
    with factory.begin() as session:
        assert store.restore_labels(session, out) == 0
        # A withdrawal far from the event is no stand-in: the reopening's own is written.
        labels.decision_path(out, case_id, stamp - timedelta(microseconds=70)).rename(
            labels.decision_path(out, case_id, stamp - timedelta(hours=1)))
        assert store.restore_labels(session, out) == 1
    factory.kw["bind"].dispose()


def test_an_approval_lost_then_reopened_gets_its_label_back_from_the_audit_trail(tmp_path: Path, monkeypatch):
    """The approval's label write failed, and the case was reopened before the next load: it is no approved
    case any more, yet its label held from the approval to the reopening."""
    out = tmp_path / "out"
    _approve_losing_its_label(out, monkeypatch)
    factory = db.open_store(out)
    case_id = draft("c1", D1)["case_id"]
    with factory.begin() as session:
        case = store.get_case(session, case_id)
        approved = case.approved_at
        ana = session.scalars(select(User).where(User.username == "ana")).one()
        store.file(session, case, ana, "BSA-1", D1, "BSA E-Filing")
        store.reopen(session, case, ana, "the subject is a victim, not a payer", out)
    later = D1 + timedelta(days=1)
    ingest.ingest_day(out, later, write_day(out, later, []))
    with factory.begin() as session:
        assert store.restore_labels(session, out) == 0  # once
    factory.kw["bind"].dispose()
    written = sorted(pq.read_table(labels.labels_path(out)).to_pylist(), key=lambda r: r["decided_at"])
    assert [(r["label"], r["typology"]) for r in written] == [(1, "confirmed"), (None, labels.WITHDRAWN)]
    assert written[0]["decided_at"].replace(tzinfo=UTC) == approved.replace(tzinfo=UTC)
