"""Workbench users: roles, argon2id password hashes, lock-out after repeated failures, browser sessions."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bantay.cases.errors import AuthenticationError, UserError
from bantay.cases.models import ROLES, User, WebSession
from bantay.cases.store import audit

MAX_FAILURES = 5  # failed sign-ins in a row before the account locks
LOCK_MINUTES = 15
SESSION_HOURS = 8  # a working day
MIN_PASSWORD = 12
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user is unknown, so that a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes: they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_user(session: Session, username: str, password: str, role: str, actor: str = "cli") -> User:
    """Create a user (lower-case name, role investigator, approver or admin, a password of 12+ characters)."""
    if not USERNAME.match(username):
        raise UserError("user names are 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"passwords need at least {MIN_PASSWORD} characters")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise UserError(f"user {username} exists already")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
        failed_logins=0,
        created_at=_now(),
    )
    session.add(user)
    session.flush()
    audit(session, actor, "add_user", after={"username": username, "role": role})
    return user


def authenticate(factory: sessionmaker[Session], username: str, password: str) -> User:
    """The user if the password matches and the account is not locked; AuthenticationError otherwise.

    Runs in its own transaction, committed either way: failures are counted, the fifth in a row locks the
    account for LOCK_MINUTES."""
    with factory() as session:
        try:
            user = _check(session, username, password)
        except AuthenticationError:
            session.commit()
            raise
        session.commit()
        return user


# One answer to every failed sign-in (unknown user, wrong password, locked account), after the same work (one
# password hash check): neither the text nor the time tells which names exist or which accounts are locked.
REFUSED = (
    f"wrong user name or password (after {MAX_FAILURES} failures in a row an account is locked for "
    f"{LOCK_MINUTES} minutes)"
)


def _dummy_check(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def _check(session: Session, username: str, password: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        _dummy_check(password)
        raise AuthenticationError(REFUSED)
    now = _now()
    if user.locked_until is not None and _aware(user.locked_until) > now:
        _dummy_check(password)
        raise AuthenticationError(REFUSED)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            audit(session, user.username, "locked_out", after={"minutes": LOCK_MINUTES})
        raise AuthenticationError(REFUSED) from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit(session, user.username, "sign_in")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(session: Session, user: User) -> tuple[str, WebSession]:
    """A new browser session: the random token for the cookie and its row (holding the CSRF token)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # sign-ins sweep stale sessions
    row = WebSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=SESSION_HOURS),
    )
    session.add(row)
    session.flush()
    return token, row


def session_for(session: Session, token: str | None) -> WebSession | None:
    """The live session of a cookie token (its user active), or None."""
    if not token:
        return None
    row = session.get(WebSession, _digest(token))
    if row is None or _aware(row.expires_at) <= _now() or not row.user.active:
        return None
    return row


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
