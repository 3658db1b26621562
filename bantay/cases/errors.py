"""Typed errors of the case store and the workbench (one clear line each, never a customer's data)."""

from __future__ import annotations

from bantay.errors import BantayError


class CaseStoreError(BantayError):
    """The case store cannot be opened or migrated."""


class CaseNotFoundError(BantayError):
    """No case has this id."""


class TransitionError(BantayError):
    """The action is not allowed in the case's current state (or lacks a required reason)."""


class FourEyesError(BantayError):
    """The approver drafted or decided the case: a second person must approve."""


class PermissionDeniedError(BantayError):
    """The user's role does not allow the action."""


class AuthenticationError(BantayError):
    """Unknown user, wrong password, or an account locked after repeated failures."""


class UserError(BantayError):
    """A user cannot be created as asked (duplicate name, unknown role, weak password)."""
