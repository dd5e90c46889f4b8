"""Domain errors: what went wrong in the business's words, with no HTTP or storage detail."""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Marks a message for translation where it is defined (a constant); the edge translates it when shown."""
    return message


class DomainError(Exception):
    """Base of every error a use case raises on purpose. `code` is stable and machine-readable (the family);
    `rule` names the broken rule precisely (`leave_end_before_start`), where the raiser knows it.

    `message` is English, for logs and developers; `template` and `params` let the edge say the same in the caller's
    language: the template is the msgid (`%(name)s` placeholders), `params` fill it in. The first key of `fields`
    names the input the message belongs beside.
    """

    code = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        rule: str = "",
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.template = message
        self.params: Mapping[str, object] = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.fields: Mapping[str, str] = dict(fields or {})
        self.rule = rule or self.code

    @property
    def where(self) -> str:
        """The input this refusal belongs beside, or "form" for the whole form."""
        return next(iter(self.fields), "form")


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

    def __init__(self, message: str, *, retry_after_seconds: int, rule: str = "") -> None:
        super().__init__(message, rule=rule)
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

    def __init__(self, message: str, *, retry_after_seconds: int | None = None, rule: str = "") -> None:
        super().__init__(message, rule=rule)
        self.retry_after_seconds = retry_after_seconds
