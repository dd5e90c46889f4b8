"""Profile API: the caller's personal data, changes and history; HR's change-request queue; others' profiles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ess.domain.profile.changing import ChangeProfile, change_profile
from ess.domain.profile.model import ChangeRequest, HistoryEntry, ProfileField, mask
from ess.domain.profile.ports import ProfileDeps
from ess.domain.profile.requests import change_request_queue, decide_request, withdraw_request
from ess.domain.profile.viewing import ProfileView, WorkContact, employee_profile, my_history, my_profile
from ess.routes.guards import current_principal, requires_hr, requires_login
from ess.routes.rendering import client_of

GROUPS: dict[ProfileField, str] = {
    ProfileField.PREFERRED_NAME: "contact",
    ProfileField.WORK_PHONE: "contact",
    ProfileField.MOBILE_PHONE: "contact",
    ProfileField.PRIVATE_PHONE: "contact",
    ProfileField.ADDRESS: "address",
    ProfileField.EMERGENCY_CONTACTS: "emergency_contacts",
    ProfileField.BANK_ACCOUNT: "bank_account",
    ProfileField.LEGAL_NAME: "person",
}


class ChangeRequestOut(msgspec.Struct):
    id: int
    field: str
    status: str
    old: dict[str, str]
    new: dict[str, str]
    created_at: datetime
    created_by: str
    effective_from: date | None
    decided_at: datetime | None
    decided_by: str
    comment: str
    employee: str | None = None


class FieldOut(msgspec.Struct):
    group: str
    policy: str
    value: dict[str, str]
    pending_synchronisation: bool
    open_request: ChangeRequestOut | None


class ManagerOut(msgspec.Struct):
    personnel_number: str
    display_name: str


class ProfileOut(msgspec.Struct):
    personnel_number: str
    login: str
    display_name: str
    work_email: str
    private_email: str
    hire_date: date
    org_unit: str | None
    manager: ManagerOut | None
    fields: dict[str, FieldOut]


class WorkContactOut(msgspec.Struct):
    personnel_number: str
    display_name: str
    work_email: str
    work_phone: str
    org_unit: str


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    relation: Annotated[str, msgspec.Meta(max_length=200)]
    phone: Annotated[str, msgspec.Meta(max_length=64)]


class ProfileChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    # Inputs by name, as on the pages: "mobile_phone", "street", "postal_code", "iban", "name_1", ...
    changes: dict[str, Annotated[str, msgspec.Meta(max_length=400)]] = msgspec.field(default_factory=dict)
    # Replaces all emergency contacts, in this order (instead of name_1, relation_1, phone_1, ...).
    emergency_contacts: list[ContactIn] | None = None
    effective_from: date | None = None
    # Needed for a bank account change.
    current_password: Annotated[str, msgspec.Meta(max_length=1024)] = ""


class ChangeResultOut(msgspec.Struct):
    applied: list[str]
    requested: list[ChangeRequestOut]
    unchanged: list[str]


class HistoryOut(msgspec.Struct):
    field: str
    old: dict[str, str]
    new: dict[str, str]
    changed_at: datetime
    changed_by: str
    via: str


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


# Decided already or withdrawn, one's own request, or a change the data no longer allows.
DECISION_PROBLEMS = ["conflict", "permission_denied", "profile_rejected"]


def request_out(request: ChangeRequest, *, masked: bool, employee: str | None = None) -> ChangeRequestOut:
    assert request.id is not None
    return ChangeRequestOut(
        id=request.id,
        field=request.field.value,
        status=request.status.value,
        old=mask(request.old) if masked else dict(request.old),
        new=mask(request.new) if masked else dict(request.new),
        created_at=request.created_at,
        created_by=request.created_by,
        effective_from=request.effective_from,
        decided_at=request.decided_at,
        decided_by=request.decided_by,
        comment=request.comment,
        employee=employee,
    )


def profile_out(view: ProfileView) -> ProfileOut:
    employee = view.profile.employee
    fields: dict[str, FieldOut] = {}
    for profile_field in ProfileField:
        open_request = view.open_request(profile_field)
        fields[profile_field.value] = FieldOut(
            group=GROUPS[profile_field],
            policy=view.policies.of(profile_field).value,
            value=view.profile.value(profile_field),
            pending_synchronisation=view.is_pending(profile_field),
            open_request=request_out(open_request, masked=False) if open_request else None,
        )
    manager = view.manager
    return ProfileOut(
        personnel_number=employee.personnel_number,
        login=employee.login,
        display_name=employee.display_name,
        work_email=employee.work_email,
        private_email=employee.private_email,
        hire_date=employee.hire_date,
        org_unit=employee.org_unit.name if employee.org_unit else None,
        manager=ManagerOut(manager.personnel_number, manager.display_name) if manager else None,
        fields=fields,
    )


def change_inputs(data: ProfileChangeIn) -> dict[str, str]:
    inputs = dict(data.changes)
    if data.emergency_contacts is not None:
        inputs = {k: v for k, v in inputs.items() if not k.startswith(("name_", "relation_", "phone_"))}
        inputs["emergency_contacts"] = ""
        for index, contact in enumerate(data.emergency_contacts, start=1):
            inputs |= {
                f"name_{index}": contact.name,
                f"relation_{index}": contact.relation,
                f"phone_{index}": contact.phone,
            }
    return inputs


class ProfileApiController(Controller):
    path = "/api/v1/me/profile"
    tags = ["profile"]
    guards = [requires_login]

    @get("", operation_id="getMyProfile", problems=["not_found"])
    async def get_profile(self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]) -> ProfileOut:
        """The caller's personal data, how each field may change, open requests and pending directory updates."""
        return profile_out(await my_profile(current_principal(request), deps=profile))

    @patch(
        "",
        operation_id="changeMyProfile",
        status_code=HTTP_200_OK,
        problems=["not_found", "profile_rejected", "throttled", "service_unavailable"],
    )
    async def change(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps], data: JSONBody[ProfileChangeIn]
    ) -> ChangeResultOut:
        """Change one or more fields. Each applies at once, informs HR, or becomes a change request, by its policy.
        Any invalid input: 422 with one message per field, and nothing is changed."""
        result = await change_profile(
            ChangeProfile(
                principal=current_principal(request),
                inputs=change_inputs(data),
                client=client_of(request),
                effective_from=data.effective_from,
                current_password=data.current_password,
            ),
            deps=profile,
        )
        return ChangeResultOut(
            applied=[f.value for f in result.applied],
            requested=[request_out(r, masked=False) for r in result.requested],
            unchanged=[f.value for f in result.unchanged],
        )

    @get("/history", operation_id="getMyProfileHistory", problems=["not_found"])
    async def history(self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]) -> list[HistoryOut]:
        """The caller's own changes, newest first; bank details masked."""
        entries = await my_history(current_principal(request), deps=profile)
        return [history_out(e) for e in entries]

    @get("/change-requests", operation_id="listMyChangeRequests", problems=["not_found"])
    async def my_requests(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]
    ) -> list[ChangeRequestOut]:
        """The caller's change requests, newest first."""
        view = await my_profile(current_principal(request), deps=profile)
        return [request_out(r, masked=False) for r in view.requests]

    @post(
        "/change-requests/{request_id:int}/withdraw",
        operation_id="withdrawMyChangeRequest",
        status_code=204,
        problems=["conflict"],
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps], request_id: FromPath[int]
    ) -> None:
        """Withdraw one's own open change request."""
        await withdraw_request(current_principal(request), request_id, deps=profile, client=client_of(request))


def history_out(entry: HistoryEntry) -> HistoryOut:
    return HistoryOut(
        field=entry.field.value,
        old=dict(entry.old),
        new=dict(entry.new),
        changed_at=entry.changed_at,
        changed_by=entry.changed_by,
        via=entry.via.value,
    )


class HrChangeRequestApiController(Controller):
    path = "/api/v1/hr/change-requests"
    tags = ["hr"]
    guards = [requires_hr]

    @get("", operation_id="listChangeRequests")
    async def queue(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]
    ) -> list[ChangeRequestOut]:
        """Change requests waiting for HR, oldest first, with full values (HR checks them)."""
        items = await change_request_queue(current_principal(request), deps=profile)
        return [request_out(i.request, masked=False, employee=i.employee.personnel_number) for i in items]

    @post(
        "/{request_id:int}/approve",
        operation_id="approveChangeRequest",
        status_code=HTTP_200_OK,
        problems=DECISION_PROBLEMS,
    )
    async def approve(
        self,
        request: Request[Any, Any, Any],
        profile: NamedDependency[ProfileDeps],
        request_id: FromPath[int],
        data: JSONBody[DecisionIn | None] = None,
    ) -> ChangeRequestOut:
        """Approve: the change applies now, or on its effective date."""
        decided = await decide_request(
            current_principal(request),
            request_id,
            approve=True,
            comment=data.comment if data else "",
            deps=profile,
            client=client_of(request),
        )
        return request_out(decided, masked=False)

    @post(
        "/{request_id:int}/reject",
        operation_id="rejectChangeRequest",
        status_code=HTTP_200_OK,
        problems=DECISION_PROBLEMS,
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        profile: NamedDependency[ProfileDeps],
        request_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> ChangeRequestOut:
        """Reject with a comment the employee reads."""
        decided = await decide_request(
            current_principal(request),
            request_id,
            approve=False,
            comment=data.comment,
            deps=profile,
            client=client_of(request),
        )
        return request_out(decided, masked=False)


class EmployeeProfileApiController(Controller):
    path = "/api/v1/employees"
    tags = ["profile"]
    guards = [requires_login]

    @get("/{personnel_number:str}/profile", operation_id="getEmployeeProfile")
    async def employee(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps], personnel_number: FromPath[str]
    ) -> ProfileOut | WorkContactOut:
        """HR: the full profile. A manager: the work contact data of a direct report. Anyone else: 404."""
        found = await employee_profile(current_principal(request), personnel_number, deps=profile)
        if isinstance(found, WorkContact):
            return WorkContactOut(
                personnel_number=found.personnel_number,
                display_name=found.display_name,
                work_email=found.work_email,
                work_phone=found.work_phone,
                org_unit=found.org_unit,
            )
        return profile_out(found)
