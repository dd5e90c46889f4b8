"""Domain errors: what went wrong in the business's words, with no HTTP or storage detail."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a use case raises on purpose. `code` is stable and machine-readable."""

    code = "domain_error"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: Mapping[str, str] = dict(fields or {})


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    """The caller is known but may not do this to that object."""

    code = "permission_denied"


class AuthenticationFailed(DomainError):
    """Deliberately vague: the same for an unknown account, a wrong password and a locked account."""

    code = "authentication_failed"


class Throttled(DomainError):
    code = "throttled"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InvalidInput(DomainError):
    code = "invalid_input"


class PolicyViolation(DomainError):
    code = "policy_violation"


class Conflict(DomainError):
    code = "conflict"


class ServiceUnavailable(DomainError):
    """An outside system (directory, database) cannot be reached right now; `retry_after_seconds` says when asking
    again makes sense, where the adapter knows (a circuit breaker that is open)."""

    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
