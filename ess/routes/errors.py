"""One place that turns errors into answers: problem+json for the API, an error page or a redirect for pages."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote, urlencode

from babel.numbers import format_decimal
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from ess.domain.directory.model import DirectoryPasswordRejected, DirectoryRejection
from ess.domain.errors import DomainError, ServiceUnavailable, Throttled
from ess.domain.passwords.checks import PasswordRejected
from ess.domain.passwords.model import PasswordPolicy, PasswordProblem
from ess.domain.profile.submission import ProfileRejected
from ess.domain.profile.validation import FieldRejected
from ess.routes.csrf import CSRF_REFUSED
from ess.routes.hygiene import CONTROL_CHARACTERS
from ess.routes.middleware import API_PREFIX, HEALTH_PREFIX
from ess.routes.observability import request_id_of
from ess.routes.problems import PROBLEM_JSON, TITLES, http_code, status_for
from ess.routes.profile_text import field_errors
from ess.routes.rendering import N_, gettext_for, locale_of, page_context, parsed_locale

logger = logging.getLogger("ess.errors")

# What a page says for a domain error, by its code; the field it belongs to ("form" = above the form).
FORM_MESSAGES: Final = {
    "authentication_failed": ("form", N_("The login name or password is incorrect.")),
    "throttled": ("form", N_("Too many failed attempts. Please wait a few minutes and try again.")),
    "service_unavailable": (
        "form",
        N_("This is not possible right now. Please try again in a few minutes or contact the IT service desk."),
    ),
    "sso_required": ("form", N_("Your account must sign in with single sign-on (the button above).")),
    "password_change_required": ("form", N_("Your password has expired and must be changed.")),
    "wrong_current_password": ("current_password", N_("The current password is not correct.")),
}
PASSWORD_PROBLEMS: Final = {
    PasswordProblem.TOO_SHORT: ("new_password", N_("The new password must have at least %(min)s characters.")),
    PasswordProblem.TOO_LONG: ("new_password", N_("The new password must not have more than %(max)s characters.")),
    PasswordProblem.CONTAINS_CONTEXT: (
        "new_password",
        N_("The new password must not contain your name, login or e-mail address."),
    ),
    PasswordProblem.SAME_AS_CURRENT: ("new_password", N_("The new password must differ from the current one.")),
    PasswordProblem.MISMATCH: ("new_password_repeat", N_("The two new passwords are not the same.")),
    PasswordProblem.BLOCKLISTED: (
        "new_password",
        N_(
            "The new password is a common password or word (perhaps with digits or symbols around it) "
            "and would be guessed quickly."
        ),
    ),
    PasswordProblem.REPETITIVE: (
        "new_password",
        N_("The new password repeats characters or follows a sequence (such as 1234 or qwertz)."),
    ),
    PasswordProblem.BREACHED: (
        "new_password",
        N_("The new password appears in published data breaches and is tried first by attackers."),
    ),
}
# The directory's own password policy, in plain words (OpenLDAP ppolicy error codes; AD says only "policy").
DIRECTORY_REJECTIONS: Final = {
    DirectoryRejection.TOO_SHORT: N_("The directory requires a longer password."),
    DirectoryRejection.TOO_LONG: N_("The directory does not accept a password this long."),
    DirectoryRejection.IN_HISTORY: N_(
        "You have used this password before. The directory requires a password you have not used recently."
    ),
    DirectoryRejection.TOO_YOUNG: N_(
        "Your password was changed only recently. The directory allows the next change only after a waiting period."
    ),
    DirectoryRejection.INSUFFICIENT_QUALITY: N_(
        "The directory's quality check refused the new password. Choose a longer or less predictable one."
    ),
    DirectoryRejection.NOT_ALLOWED: N_(
        "The directory does not allow you to change this password yourself. Please contact the IT service desk."
    ),
    DirectoryRejection.POLICY: N_(
        "The directory refused the new password. It may be too short, too similar to a previous password, "
        "or changed too recently; some directories also require several kinds of characters."
    ),
}


def password_errors(exc: DomainError, gettext: Any, **params: object) -> dict[str, list[str]] | None:
    """Per-field messages for a refused new password (our policy or the directory's), None for other errors."""
    errors: dict[str, list[str]] = {}
    if isinstance(exc, PasswordRejected):
        for problem_ in exc.problems:
            field, message = PASSWORD_PROBLEMS[problem_]
            errors.setdefault(field, []).append(gettext(message) % params)
        return errors
    if isinstance(exc, DirectoryPasswordRejected):
        return {"new_password": [gettext(DIRECTORY_REJECTIONS[exc.reason])]}
    return None


def _shown(value: object, lang: str) -> str:
    """A parameter of a refusal as people read it: dates as dd.mm.yyyy, numbers in the language's format."""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Decimal):  # years and ids stay as they are (no "2.026")
        return str(format_decimal(value, locale=parsed_locale(lang)))
    return str(value)


def domain_message(exc: DomainError, gettext: Any, lang: str = "de") -> str:
    """The refusal in the caller's language: the domain's message template translated, its parameters filled in."""
    text = gettext(exc.template)
    if not exc.params:
        return str(text)
    return str(text % {name: _shown(value, lang) for name, value in exc.params.items()})


def form_errors(
    exc: DomainError, gettext: Any, *, inputs: Collection[str] | None = None, lang: str = "de", **params: object
) -> tuple[int, dict[str, list[str]]]:
    """The status and the per-field messages with which a page re-renders its form after a domain error: the precise
    refusal beside the input it is about (`inputs`: the form's inputs; others go above the form)."""
    errors = password_errors(exc, gettext, **params)
    if errors is not None:
        return status_for(exc), errors
    if isinstance(exc, ProfileRejected | FieldRejected):
        shown = field_errors(exc.fields, gettext)
    elif exc.code in FORM_MESSAGES:  # deliberately the same words for every cause (no account enumeration)
        field, message = FORM_MESSAGES[exc.code]
        return status_for(exc), {field: [str(gettext(message))]}
    else:
        shown = {exc.where: [domain_message(exc, gettext, lang)]}
    # A message about an input the form does not have goes above the form (a page that names no inputs: all of them).
    errors = {}
    for field, messages in shown.items():
        errors.setdefault(field if field == "form" or (inputs is not None and field in inputs) else "form", []).extend(
            messages
        )
    return status_for(exc), errors


def problem(
    status: int,
    detail: str,
    *,
    code: str = "",
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    request: Request[Any, Any, Any] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    body.update(extra or {})
    if request is not None:
        body["help"] = help_link(request, code)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def help_link(request: Request[Any, Any, Any], code: str) -> str:
    """Where a person asks HR or IT about this error ("Ich brauche Hilfe"), with the error code. The request id is in
    the X-Request-ID header, not here: two answers that must be identical (an unknown and a wrong login) stay so."""
    return f"{request.app.route_reverse('help_request_new')}?{urlencode({'error_code': code})}"


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith((API_PREFIX, HEALTH_PREFIX))


def domain_error_handler(
    request: Request[Any, Any, Any], exc: DomainError, password_policy: PasswordPolicy
) -> Response[Any]:
    status = status_for(exc)
    headers = _retry_after(exc)
    if _is_api(request):
        message = domain_message(exc, gettext_for(request), locale_of(request))
        extra: dict[str, Any] = {"message": message, "rule": exc.rule}
        if exc.fields:
            extra["errors"] = [{"field": k, "message": message, "code": exc.rule} for k in exc.fields]
        if isinstance(exc, PasswordRejected | DirectoryPasswordRejected):
            extra["errors"] = _password_error_list(request, exc, password_policy)
        elif isinstance(exc, ProfileRejected | FieldRejected):
            shown = field_errors(exc.fields, gettext_for(request))
            extra["errors"] = [{"field": k, "message": m, "code": exc.fields[k]} for k, ms in shown.items() for m in ms]
            extra["message"] = "; ".join(e["message"] for e in extra["errors"])
        return problem(status, exc.message, code=exc.code, extra=extra, headers=headers, request=request)
    reason = domain_message(exc, gettext_for(request), locale_of(request))
    fields = sorted(exc.fields) if exc.rule == CONTROL_CHARACTERS else []
    return _error_page(request, status, headers=headers, fields=fields, reason="" if fields else reason, code=exc.code)


def _retry_after(exc: DomainError) -> dict[str, str] | None:
    """Retry-After for a limit, and for an outside system that is away (a 503 always says when to come back)."""
    if isinstance(exc, Throttled):
        return {"Retry-After": str(exc.retry_after_seconds)}
    if isinstance(exc, ServiceUnavailable):
        return {"Retry-After": str(exc.retry_after_seconds or BUSY_RETRY_AFTER_SECONDS)}
    return None


def _password_error_list(
    request: Request[Any, Any, Any], exc: PasswordRejected | DirectoryPasswordRejected, policy: PasswordPolicy
) -> list[dict[str, str]]:
    """One entry per broken rule, with a stable code and the message in the caller's language."""
    gettext = gettext_for(request)
    params = {"min": policy.min_length, "max": policy.max_length}
    if isinstance(exc, DirectoryPasswordRejected):
        return [
            {
                "field": "new_password",
                "code": f"directory_{exc.reason.value}",
                "message": gettext(DIRECTORY_REJECTIONS[exc.reason]),
            }
        ]
    return [
        {"field": PASSWORD_PROBLEMS[p][0], "code": p.value, "message": gettext(PASSWORD_PROBLEMS[p][1]) % params}
        for p in exc.problems
    ]


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("HTTP %s on %s %s", status, request.method, request.url.path)
    # Only the headers that describe the answer: a 405 says which methods the resource has (RFC 9110 15.5.6).
    headers = {name: value for name, value in (exc.headers or {}).items() if name.lower() == "allow"}
    if _is_api(request):
        extra: dict[str, Any] | None = None
        if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
            extra = {
                "errors": [
                    {"field": str(e.get("key", "")), "message": str(e.get("message", ""))}
                    for e in exc.extra
                    if isinstance(e, dict)
                ]
            }
        detail = exc.detail if status < HTTP_500_INTERNAL_SERVER_ERROR else "An internal error occurred."
        if isinstance(exc, NotAuthorizedException):
            headers["WWW-Authenticate"] = 'Bearer realm="ess"'
        return problem(status, detail, code=http_code(status), extra=extra, headers=headers, request=request)
    if isinstance(exc, NotAuthorizedException):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(request.app.route_reverse("login") + f"?next={quote(target, safe='')}", status_code=303)
    return _error_page(request, status, headers=headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _body_too_deep(exc):
        return _unreadable_body(request)
    # Log the type and where, not the message: messages of library errors can carry input values.
    logger.error("Unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=False)
    if _is_api(request):
        return problem(
            HTTP_500_INTERNAL_SERVER_ERROR, "An internal error occurred.", code=http_code(500), request=request
        )
    return _error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


# What a client waits before trying again when the database was too busy to answer in time.
BUSY_RETRY_AFTER_SECONDS: Final = 5


def database_busy(request: Request[Any, Any, Any]) -> Response[Any]:
    """A database that did not grant a lock or finish a statement in time: 503 with Retry-After, never a 500."""
    logger.warning("Database busy on %s %s: answered 503", request.method, request.url.path)
    headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
    if _is_api(request):
        return problem(
            HTTP_503_SERVICE_UNAVAILABLE,
            "The database is busy. Please try again in a few seconds.",
            code="service_unavailable",
            headers=headers,
            request=request,
        )
    return _error_page(request, HTTP_503_SERVICE_UNAVAILABLE, headers=headers)


def _body_too_deep(exc: Exception) -> bool:
    """JSON nested deeper than the interpreter's recursion limit (e.g. 100,000 `[`): the decoder gives up with a
    RecursionError in Litestar's JSON decoding, which is the client's fault, not ours."""
    if not isinstance(exc, RecursionError):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].name in {"decode_json", "decode_msgpack"}


def _unreadable_body(request: Request[Any, Any, Any]) -> Response[Any]:
    detail = "The request body is nested too deeply."
    if _is_api(request):
        return problem(HTTP_400_BAD_REQUEST, detail, code=http_code(HTTP_400_BAD_REQUEST), request=request)
    return _error_page(request, HTTP_400_BAD_REQUEST)


def _error_page(
    request: Request[Any, Any, Any],
    status: int,
    *,
    headers: dict[str, str] | None = None,
    fields: list[str] | None = None,
    code: str = "",
    reason: str = "",
) -> Response[Any]:
    csrf_failed = status == HTTP_403_FORBIDDEN and bool(request.scope.get("state", {}).get(CSRF_REFUSED))
    context = page_context(
        request,
        error_status=status,
        csrf_failed=csrf_failed,
        invalid_fields=fields or [],
        reason=reason,  # a domain refusal in the caller's language: why it was refused
        # Shown so a person can quote it to the helpdesk, who finds the request in the logs by it.
        request_id=request_id_of(request.scope),
        # Carried into "I need help" with the request id (the person may remove both).
        error_code=code or ("csrf_failed" if csrf_failed else http_code(status)),
    )
    return Template(
        template_name="error.html", context=context, status_code=status, media_type=MediaType.HTML, headers=headers
    )


def exception_handlers(password_policy: PasswordPolicy) -> dict[type[Exception] | int, Any]:
    """The app's exception handlers; refused passwords are explained with the app's own policy figures."""

    def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
        return domain_error_handler(request, exc, password_policy)

    return {
        DomainError: on_domain_error,
        HTTPException: http_error_handler,
        PermissionDeniedException: http_error_handler,
        Exception: internal_error_handler,
    }
