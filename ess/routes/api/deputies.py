"""Deputies API: a manager's deputies for a period (they decide the team's leave requests meanwhile)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from ess.domain.vacation.deputies import (
    DeputyEntry,
    NameDeputy,
    deputy_choices,
    end_deputy,
    my_deputies,
    name_deputy,
)
from ess.domain.vacation.ports import VacationDeps
from ess.routes.guards import current_principal, requires_manager_or_hr


class DeputyOut(msgspec.Struct):
    id: int
    manager: str  # the manager's name
    manager_personnel_number: str
    deputy: str  # the deputy's name
    deputy_personnel_number: str
    first_day: date
    last_day: date
    active: bool  # the period runs today
    mine: bool  # named by the caller (who can end it); otherwise the caller is the deputy


class DeputyChoiceOut(msgspec.Struct):
    personnel_number: str
    name: str


class DeputiesOut(msgspec.Struct):
    """The caller's deputy entries that are not over, and whom the caller may name."""

    entries: list[DeputyOut]
    choices: list[DeputyChoiceOut]


class DeputyIn(msgspec.Struct, forbid_unknown_fields=True):
    deputy: Annotated[str, msgspec.Meta(max_length=32)]  # a personnel number from `choices`
    first_day: date
    last_day: date


def deputy_out(entry: DeputyEntry, caller_login: str) -> DeputyOut:
    assert entry.entry.id is not None
    return DeputyOut(
        id=entry.entry.id,
        manager=entry.manager.display_name,
        manager_personnel_number=entry.manager.personnel_number,
        deputy=entry.deputy.display_name,
        deputy_personnel_number=entry.deputy.personnel_number,
        first_day=entry.entry.first_day,
        last_day=entry.entry.last_day,
        active=entry.active,
        mine=entry.manager.login == caller_login,
    )


class DeputiesApiController(Controller):
    path = "/api/v1/manager/deputies"
    tags = ["vacation"]
    guards = [requires_manager_or_hr]

    @get("", operation_id="listDeputies", problems=["not_found"])
    async def list_deputies(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps]
    ) -> DeputiesOut:
        """The deputies the caller named and the entries naming the caller, not yet over; and whom the caller may
        name (another manager under the same manager, or the caller's own manager)."""
        principal = current_principal(request)
        entries = await my_deputies(principal, deps=vacation)
        choices = await deputy_choices(principal, deps=vacation)
        return DeputiesOut(
            entries=[deputy_out(e, principal.login) for e in entries],
            choices=[DeputyChoiceOut(e.personnel_number, e.display_name) for e in choices],
        )

    @post(
        "",
        operation_id="nameDeputy",
        status_code=HTTP_201_CREATED,
        problems=["not_found", "invalid_input", "permission_denied", "conflict"],
    )
    async def name(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], data: JSONBody[DeputyIn]
    ) -> DeputyOut:
        """Name a deputy from `first_day` to `last_day`; the deputy is told by mail. Refused per field: a deputy not
        among the choices or oneself (`deputy`), a first day in the past (`first_day`), a last day before the first
        or more than a year on (`last_day`), a period overlapping another entry (409)."""
        principal = current_principal(request)
        entry = await name_deputy(NameDeputy(principal, data.deputy, data.first_day, data.last_day), deps=vacation)
        return deputy_out(entry, principal.login)

    @delete("/{entry_id:int}", operation_id="endDeputy", status_code=HTTP_204_NO_CONTENT, problems=["not_found"])
    async def end(
        self, request: Request[Any, Any, Any], vacation: NamedDependency[VacationDeps], entry_id: FromPath[int]
    ) -> None:
        """End an entry the caller named: one that has not begun is removed, a running one ends yesterday."""
        await end_deputy(entry_id, principal=current_principal(request), deps=vacation)
