"""Profile pages: view the personal data, change it section by section, see the history; HR's request queue."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.errors import DomainError, InvalidInput
from ess.domain.profile.changing import ChangeProfile, change_profile
from ess.domain.profile.model import FieldPolicy, ProfileField
from ess.domain.profile.ports import ProfileDeps
from ess.domain.profile.requests import change_request_queue, decide_request, withdraw_request
from ess.domain.profile.viewing import my_history, my_profile
from ess.routes.errors import form_errors
from ess.routes.guards import current_principal, requires_hr, requires_login
from ess.routes.profile_text import (
    FIELD_LABELS,
    PART_LABELS,
    POLICY_LABELS,
    STATUS_LABELS,
    display_parts,
    field_errors,
    phone_text,
)
from ess.routes.rendering import N_, client_of, gettext_for, page_context, url_to

# The sections of the profile page, each edited on its own form, and the fields each one changes.
SECTIONS: Final = {
    "contact": (
        ProfileField.PREFERRED_NAME,
        ProfileField.WORK_PHONE,
        ProfileField.MOBILE_PHONE,
        ProfileField.PRIVATE_PHONE,
    ),
    "address": (ProfileField.ADDRESS,),
    "emergency": (ProfileField.EMERGENCY_CONTACTS,),
    "bank": (ProfileField.BANK_ACCOUNT,),
    "name": (ProfileField.LEGAL_NAME,),
}
# Sections whose form offers an effective date.
DATED_SECTIONS: Final = frozenset({"address", "bank", "name"})
_NOT_INPUTS: Final = frozenset({"_csrf_token", "effective_from", "current_password"})


class DecisionForm(msgspec.Struct):
    comment: str = ""
    decision: str = ""


def _text_helpers(request: Request[Any, Any, Any], region: str) -> dict[str, Any]:
    gettext = gettext_for(request)
    return {
        "field_labels": FIELD_LABELS,
        "part_labels": PART_LABELS,
        "policy_labels": POLICY_LABELS,
        "request_status_labels": STATUS_LABELS,
        "show": lambda value: display_parts(value, region=region, gettext=gettext),
        "phone": lambda value: phone_text(value, region),
        "sections": SECTIONS,
        "FieldPolicy": FieldPolicy,
        "ProfileField": ProfileField,
    }


class ProfilePagesController(Controller):
    path = "/profile"
    include_in_schema = False
    guards = [requires_login]

    @get("", operation_id="profilePage", name="profile")
    async def overview(self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]) -> Template:
        """The employee's personal data, grouped, with what they may change and how."""
        view = await my_profile(current_principal(request), deps=profile)
        region = view.profile.employee.location.country
        return Template(
            template_name="profile.html",
            context=page_context(
                request,
                view=view,
                employee=view.profile.employee,
                manager=view.manager,
                saved=request.query_params.get("saved", ""),
                saved_section=request.query_params.get("section", ""),
                editable_sections={
                    name
                    for name, fields in SECTIONS.items()
                    if any(view.policies.of(f) is not FieldPolicy.READ_ONLY for f in fields)
                },
                **_text_helpers(request, region),
            ),
        )

    async def _edit_page(
        self,
        request: Request[Any, Any, Any],
        profile: ProfileDeps,
        section: str,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        effective_from: str = "",
        status_code: int = 200,
    ) -> Template:
        if section not in SECTIONS:
            raise NotFoundException()
        view = await my_profile(current_principal(request), deps=profile)
        if values is None:
            values = {}
            for profile_field in SECTIONS[section]:
                values |= view.profile.value(profile_field)
            region = view.profile.employee.location.country
            values = {k: phone_text(v, region) if "phone" in k else v for k, v in values.items()}
        return Template(
            template_name="profile_edit.html",
            context=page_context(
                request,
                view=view,
                section=section,
                values=values,
                errors=errors or {},
                effective_from=effective_from,
                dated=section in DATED_SECTIONS,
                editable_fields={f for f in ProfileField if view.policies.of(f) is not FieldPolicy.READ_ONLY},
                contact_rows=_contact_rows(values),
                **_text_helpers(request, view.profile.employee.location.country),
            ),
            status_code=status_code,
        )

    @get("/edit/{section:str}", operation_id="profileEditPage", name="profile_edit")
    async def edit(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps], section: FromPath[str]
    ) -> Template:
        """The form for one section of the profile."""
        return await self._edit_page(request, profile, section)

    @post("/edit/{section:str}", operation_id="profileSavePage", name="profile_save", status_code=303)
    async def save(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps], section: FromPath[str]
    ) -> Response[Any]:
        """Save one section: applied, sent to HR, or refused with a message per field (nothing saved)."""
        if section not in SECTIONS:
            raise NotFoundException()
        _ = gettext_for(request)
        form = await request.form()
        submitted = {k: str(v) for k, v in form.items() if k not in _NOT_INPUTS}
        if section == "emergency":
            submitted["emergency_contacts"] = ""
        effective_text = str(form.get("effective_from", "")).strip()
        try:
            effective = date.fromisoformat(effective_text) if effective_text else None
        except ValueError:
            return await self._edit_page(
                request,
                profile,
                section,
                values=submitted,
                errors=field_errors({"effective_from": "effective_date"}, _),
                effective_from=effective_text,
                status_code=422,
            )
        try:
            result = await change_profile(
                ChangeProfile(
                    principal=current_principal(request),
                    inputs=submitted,
                    client=client_of(request),
                    effective_from=effective,
                    current_password=str(form.get("current_password", "")),
                ),
                deps=profile,
            )
        except InvalidInput as exc:
            return await self._edit_page(
                request,
                profile,
                section,
                values=submitted,
                errors=field_errors(exc.fields, _),
                effective_from=effective_text,
                status_code=422,
            )
        except DomainError as exc:
            status, errors = form_errors(exc, _)
            return await self._edit_page(request, profile, section, values=submitted, errors=errors, status_code=status)
        outcome = "requested" if result.requested else "applied" if result.applied else "unchanged"
        return Redirect(url_to(request, "profile") + f"?saved={outcome}&section={section}#{section}", status_code=303)

    @get("/history", operation_id="profileHistoryPage", name="profile_history")
    async def history(self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]) -> Template:
        """Who changed what and when; bank details masked."""
        principal = current_principal(request)
        view = await my_profile(principal, deps=profile)
        entries = await my_history(principal, deps=profile)
        return Template(
            template_name="profile_history.html",
            context=page_context(
                request, entries=entries, **_text_helpers(request, view.profile.employee.location.country)
            ),
        )

    @post(
        "/requests/{request_id:int}/withdraw",
        operation_id="withdrawChangeRequestPage",
        name="profile_withdraw",
        status_code=303,
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps], request_id: FromPath[int]
    ) -> Redirect:
        """Take back an open change request."""
        await withdraw_request(current_principal(request), request_id, deps=profile, client=client_of(request))
        return Redirect(url_to(request, "profile") + "?saved=withdrawn", status_code=303)


def _contact_rows(values: dict[str, str]) -> list[int]:
    """Row numbers for the emergency contact form: the filled ones and one or two empty ones, at most five."""
    filled = 0
    while f"name_{filled + 1}" in values and any(
        values.get(f"{p}_{filled + 1}", "") for p in ("name", "relation", "phone")
    ):
        filled += 1
    return list(range(1, min(max(filled + 1, 2), 5) + 1))


class HrChangeRequestPagesController(Controller):
    path = "/hr/change-requests"
    include_in_schema = False
    guards = [requires_hr]

    async def _page(
        self, request: Request[Any, Any, Any], profile: ProfileDeps, *, status_code: int = 200, **extra: Any
    ) -> Template:
        items = await change_request_queue(current_principal(request), deps=profile)
        extra.setdefault("errors", {})
        extra.setdefault("failed_id", None)
        return Template(
            template_name="hr_requests.html",
            context=page_context(
                request,
                items=items,
                decided=request.query_params.get("decided", ""),
                **_text_helpers(request, "DE"),
                **extra,
            ),
            status_code=status_code,
        )

    @get("", operation_id="hrChangeRequestsPage", name="hr_change_requests")
    async def queue(self, request: Request[Any, Any, Any], profile: NamedDependency[ProfileDeps]) -> Template:
        """Change requests waiting for HR."""
        return await self._page(request, profile)

    @post("/{request_id:int}", operation_id="decideChangeRequestPage", name="hr_change_request_decide", status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        profile: NamedDependency[ProfileDeps],
        request_id: FromPath[int],
        data: URLEncodedBody[DecisionForm],
    ) -> Response[Any]:
        """Approve or reject (a rejection needs a comment)."""
        _ = gettext_for(request)
        try:
            await decide_request(
                current_principal(request),
                request_id,
                approve=data.decision == "approve",
                comment=data.comment,
                deps=profile,
                client=client_of(request),
            )
        except InvalidInput as exc:
            errors = field_errors(exc.fields, _)
            return await self._page(request, profile, status_code=422, errors=errors, failed_id=request_id)
        except DomainError as exc:
            status, errors = form_errors(exc, _)
            if exc.code == "conflict":
                errors = {"form": [_(CONFLICT_MESSAGE)]}
            return await self._page(request, profile, status_code=status, errors=errors, failed_id=request_id)
        outcome = "approved" if data.decision == "approve" else "rejected"
        return Redirect(url_to(request, "hr_change_requests") + f"?decided={outcome}", status_code=303)


CONFLICT_MESSAGE: Final = N_(
    "This request has been decided already, or the data changed since it was made. Reload the page; to apply a "
    "different value, reject the request and ask the employee for a new one."
)
