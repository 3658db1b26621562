"""The case store: users, sessions, cases, their days, narrative versions, notes and the audit trail.

The audit trail is append-only in the database itself: triggers refuse UPDATE and DELETE on SQLite and
PostgreSQL (and TRUNCATE on PostgreSQL), whatever the application does.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_STATES = "'new', 'in_review', 'pending_approval', 'approved', 'filed', 'closed'"
_OUTCOMES = (
    "'confirmed', 'cleared_online_buyer', 'cleared_dating', 'cleared_family_remittance', 'cleared_sponsor', "
    "'cleared_donor', 'cleared_freelancer_va', 'cleared_webcam_customer', 'cleared_sextortion_victim', "
    "'cleared_romance_scam_victim', 'cleared_other', 'inconclusive'"
)
_APPEND_ONLY = "audit trail is append-only"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", _when()),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("role IN ('investigator', 'approver', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("state", sa.String(24), nullable=False, index=True),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("last_seen_on", sa.Date, nullable=False),
        sa.Column("n_days", sa.Integer, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("top_reason", sa.String(64)),
        sa.Column("payee_countries", sa.String(255), nullable=False),
        sa.Column("payee_regions", sa.String(255), nullable=False),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("outcome", sa.String(40)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("decided_at", _when()),
        sa.Column("approved_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("approved_at", _when()),
        sa.Column("fincen_xml", sa.LargeBinary),
        sa.Column("filed_at", _when()),
        sa.Column("fiu_reference", sa.String(128)),
        sa.Column("fiu_ack_date", sa.Date),
        sa.Column("fiu_channel", sa.String(64)),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.CheckConstraint(f"state IN ({_STATES})", name="ck_cases_state"),
        sa.CheckConstraint("kind IN ('alert', 'continuing_activity')", name="ck_cases_kind"),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN ({_OUTCOMES})", name="ck_cases_outcome"),
        sa.CheckConstraint(
            "approved_by IS NULL OR decided_by IS NULL OR approved_by <> decided_by",
            name="ck_cases_four_eyes",
        ),
    )
    # The queue's sorts and filters.
    for column in ("score", "due_on", "opened_on", "last_seen_on", "top_reason", "assignee_id"):
        op.create_index(f"ix_cases_{column}", "cases", [column])
    op.create_table(
        "case_days",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("draft_case_id", sa.String(40), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("held", sa.Boolean, nullable=False),
        sa.Column("draft_json", sa.Text, nullable=False),
        sa.UniqueConstraint("case_id", "as_of", name="uq_case_days_case_as_of"),
    )
    op.create_table(
        "narrative_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("created_at", _when(), nullable=False),
        sa.UniqueConstraint("case_id", "version", name="uq_narrative_case_version"),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", _when(), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", _when(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(40), index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for table in (
        "audit_events",
        "notes",
        "narrative_versions",
        "case_days",
        "cases",
        "web_sessions",
        "users",
    ):
        op.drop_table(table)
