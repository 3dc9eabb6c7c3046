"""Domain errors. Services raise these; the web layer turns them into responses in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user can understand and act on; the message is shown to them."""

    status_code = 400


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class AuthenticationFailed(DomainError):
    status_code = 401
