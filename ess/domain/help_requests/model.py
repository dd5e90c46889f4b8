"""Help requests: topics and teams, statuses, the context a request carries, messages, and the rules on them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ess.domain.auth.model import Principal
from ess.domain.errors import N_, InvalidInput
from ess.domain.hr.model import Role
from ess.domain.types import EmployeeId

MAX_SUBJECT: Final = 200
MAX_MESSAGE: Final = 5000
MAX_CONTEXT_VALUE: Final = 200
MAX_NAME: Final = 120
MAX_CALLBACK: Final = 200


class Team(StrEnum):
    HR = "hr"
    IT = "it"


class Status(StrEnum):
    RECEIVED = "received"  # eingegangen
    IN_PROGRESS = "in_progress"  # in Bearbeitung
    QUESTION = "question"  # Rückfrage: the team waits for the person
    ANSWERED = "answered"  # beantwortet
    CLOSED = "closed"  # geschlossen


OPEN_STATUSES: Final = frozenset({Status.RECEIVED, Status.IN_PROGRESS, Status.QUESTION, Status.ANSWERED})


class MessageKind(StrEnum):
    REQUEST = "request"  # what the person wrote (first message and replies)
    ANSWER = "answer"  # HR's or IT's answer, seen by the person
    NOTE = "note"  # internal note, seen only by the team


class HelpRequestPage(StrEnum):
    """The pages notices link to."""

    OWN = "help_requests.own"
    QUEUE_ITEM = "help_requests.queue_item"


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic a person picks; it routes the request to a team, and optionally hands it over to a helpdesk tool."""

    key: str
    team: Team
    label_en: str
    label_de: str
    handover: str = ""  # the name of a handover target ("" keeps the request in ESS only)

    def label(self, lang: str) -> str:
        return self.label_de if lang == "de" else self.label_en


DEFAULT_TOPICS: Final[tuple[Topic, ...]] = (
    Topic("leave", Team.HR, "Leave and absence", "Urlaub und Abwesenheit"),
    Topic("personal_data", Team.HR, "Personal data and payroll", "Persönliche Daten und Gehalt"),
    Topic("hr_other", Team.HR, "Other HR question", "Andere Frage an HR"),
    Topic("login", Team.IT, "Login and password", "Anmeldung und Passwort"),
    Topic("it_other", Team.IT, "Other IT question", "Andere Frage an die IT"),
)

# The context keys a request may carry; everything else is dropped. Each is shown to the person, who may remove it.
CONTEXT_KEYS: Final = ("page", "step", "error_code", "request_id", "search_terms")
_CONTEXT_PATTERNS: Final = {
    "page": re.compile(r"^/[A-Za-z0-9/_.\-]{0,199}$"),
    "step": re.compile(r"^[\w .\-]{1,80}$"),
    "error_code": re.compile(r"^[a-z0-9_.\-]{1,64}$"),
    "request_id": re.compile(r"^[A-Za-z0-9\-]{1,64}$"),
}

# A secret has no place in a request: text that hands over a password or code is refused with a clear message.
_SECRET_HINT: Final = re.compile(
    r"\b(passwor[dt]|kennwort|pin|tan|otp|recovery code|wiederherstellungscode)\b\s*(ist|is|lautet)?\s*[:=]\s*\S+",
    re.IGNORECASE,
)


class HelpRequestError(InvalidInput):
    code = "invalid_help_request"


def clean_context(raw: Mapping[str, str]) -> dict[str, str]:
    """Only known keys with plausible values: a page path, a step, an error code, a request id, search terms."""
    context: dict[str, str] = {}
    for key in CONTEXT_KEYS:
        value = " ".join(str(raw.get(key, "")).split())[:MAX_CONTEXT_VALUE]
        if not value:
            continue
        pattern = _CONTEXT_PATTERNS.get(key)
        if pattern is not None and not pattern.match(value):
            raise HelpRequestError("This context value is not valid.", fields={f"context.{key}": "invalid"})
        context[key] = value
    return context


def check_text(subject: str, message: str) -> tuple[str, str]:
    """Subject and message, trimmed and bounded; a password or code in them is refused (never stored)."""
    subject = " ".join(subject.split())
    message = message.strip()
    errors: dict[str, str] = {}
    if not subject:
        errors["subject"] = "required"
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = "too long"
    if not message:
        errors["message"] = "required"
    elif len(message) > MAX_MESSAGE:
        errors["message"] = "too long"
    for name, text in (("subject", subject), ("message", message)):
        if name not in errors and _SECRET_HINT.search(text):
            errors[name] = "contains a password"
    if errors:
        # The message names the first problem; `fields` lists every input with its reason.
        raise HelpRequestError(_TEXT_REFUSALS[next(iter(errors.values()))], fields=errors)
    return subject, message


# The first problem of a subject or message, in words a person understands (translated at the edge).
_TEXT_REFUSALS: Final = {
    "required": N_("Please fill in the subject and the message."),
    "too long": N_("The subject or the message is too long."),
    "contains a password": N_(
        "Please remove the password or code: HR and IT never need it, and ESS does not store it."
    ),
}


def check_message(message: str) -> str:
    return check_text("-", message)[1]


@dataclass(frozen=True, slots=True)
class Message:
    kind: MessageKind
    author: str
    body: str
    created_at: datetime
    article: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked: an employee (login and id), or a person who could not log in (name and how to call back)."""

    login: str = ""
    employee_id: EmployeeId | None = None
    name: str = ""
    callback: str = ""
    claimed_login: str = ""  # what the logged-out person typed as their login; never checked against the directory

    @property
    def anonymous(self) -> bool:
        return not self.login


@dataclass(frozen=True, slots=True)
class HelpRequest:
    topic: str
    team: Team
    subject: str
    caller: Caller
    created_at: datetime
    status: Status = Status.RECEIVED
    context: Mapping[str, str] = field(default_factory=dict)
    messages: tuple[Message, ...] = ()
    assignee: str = ""
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    solved: bool | None = None
    updated_at: datetime | None = None
    reminded_at: datetime | None = None
    id: int | None = None

    @property
    def reference(self) -> str:
        """What the person and a ticket system quote: ESS-<id>."""
        return f"ESS-{self.id}"

    @property
    def last_activity(self) -> datetime:
        return self.updated_at or self.created_at

    def visible_messages(self) -> tuple[Message, ...]:
        """What the person sees: everything but internal notes."""
        return tuple(m for m in self.messages if m.kind is not MessageKind.NOTE)

    def add(self, message: Message, status: Status) -> HelpRequest:
        return replace(self, messages=(*self.messages, message), status=status, updated_at=message.created_at)

    def first_response_time(self) -> timedelta | None:
        return None if self.first_response_at is None else self.first_response_at - self.created_at

    def resolution_time(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.created_at

    def waiting_on_team(self) -> bool:
        return self.status in (Status.RECEIVED, Status.IN_PROGRESS)


TEAM_ROLES: Final = {Team.HR: Role.HR, Team.IT: Role.HELPDESK}


def teams_of(principal: Principal) -> frozenset[Team]:
    """The queues a person works: HR sees HR topics, the helpdesk IT topics; managers and employees none."""
    return teams_with(principal.roles)


def teams_with(roles: frozenset[Role]) -> frozenset[Team]:
    return frozenset(team for team, role in TEAM_ROLES.items() if role in roles)


@dataclass(frozen=True, slots=True)
class HelpRequestPolicy:
    """Configured limits: how long closed requests are kept, when a waiting request is reminded, anonymous limits."""

    retention: timedelta = timedelta(days=365)
    remind_after: timedelta = timedelta(hours=24)
    anonymous_per_client_per_hour: int = 5
    anonymous_per_hour: int = 100
    # Mails for HR topics say only that there is news; with this, IT mails may name the subject.
    subject_in_it_mails: bool = False
