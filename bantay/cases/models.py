"""SQLAlchemy 2 models of the case store. The schema itself is made by the Alembic migrations, not
`create_all`, so that a production database and a test database are built by the same steps.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("investigator", "approver", "admin")
STATES = ("new", "in_review", "pending_approval", "approved", "filed", "closed")
OPEN_STATES = ("new", "in_review", "pending_approval", "approved")
KINDS = ("alert", "continuing_activity")
# Outcomes: confirmed (a SAR is filed), cleared as a named look-alike of the typology, or inconclusive.
CONFIRMED = "confirmed"
INCONCLUSIVE = "inconclusive"
CLEARED = {
    "cleared_online_buyer": "online buyer",
    "cleared_dating": "dating",
    "cleared_family_remittance": "family remittance",
    "cleared_sponsor": "sponsor",
    "cleared_donor": "donor",
    "cleared_freelancer_va": "freelancer / virtual assistant",
    "cleared_webcam_customer": "webcam customer",
    "cleared_sextortion_victim": "sextortion victim",
    "cleared_romance_scam_victim": "romance-scam victim",
    "cleared_other": "other",
}
OUTCOMES = (CONFIRMED, *CLEARED, INCONCLUSIVE)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="ck_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("state", STATES), name="ck_cases_state"),
        CheckConstraint(_in("kind", KINDS), name="ck_cases_kind"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="ck_cases_outcome"),
        # Four-eyes in the schema too: whoever decided can never be the approver.
        CheckConstraint(
            "approved_by IS NULL OR decided_by IS NULL OR approved_by <> decided_by",
            name="ck_cases_four_eyes",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(24), default="alert")
    state: Mapped[str] = mapped_column(String(24), default="new", index=True)
    opened_on: Mapped[date] = mapped_column(Date, index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    last_seen_on: Mapped[date] = mapped_column(Date, index=True)
    n_days: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float | None] = mapped_column(Float, index=True)
    top_reason: Mapped[str | None] = mapped_column(String(64), index=True)
    payee_countries: Mapped[str] = mapped_column(String(255), default="")
    # Philippine payees' regions (bantay.sar.batch.PH_REGIONS), comma-separated
    payee_regions: Mapped[str] = mapped_column(String(255), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fincen_xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    filed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fiu_reference: Mapped[str | None] = mapped_column(String(128))
    fiu_ack_date: Mapped[date | None] = mapped_column(Date)
    fiu_channel: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    days: Mapped[list[CaseDay]] = relationship(
        back_populates="case", order_by="CaseDay.as_of", cascade="all, delete-orphan"
    )


class CaseDay(Base):
    """One day's draft of a case: the day it was alerted (and each day the customer is alerted again)."""

    __tablename__ = "case_days"
    __table_args__ = (UniqueConstraint("case_id", "as_of", name="uq_case_days_case_as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    draft_case_id: Mapped[str] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    # True for a day that arrived after the case's decision was submitted (pending approval, approved, filed:
    # `store.HOLDING_STATES`): kept as evidence of later activity, but neither approved nor filed on.
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    draft_json: Mapped[str] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="days")


class NarrativeVersion(Base):
    """Every edit of a case's narrative is a new version; the latest is the text filed."""

    __tablename__ = "narrative_versions"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_narrative_case_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    author: Mapped[User | None] = relationship()


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    author: Mapped[User] = relationship()


class AuditEvent(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the first migration)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
