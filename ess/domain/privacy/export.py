"""Everything ESS holds about the caller (GDPR Art. 15 and 20): each registered area's records, in one transaction."""

from __future__ import annotations

from ess.domain.audit import AuditEvent, Outcome
from ess.domain.auth.model import Principal
from ess.domain.privacy.model import ExportSection, PersonalData, Subject
from ess.domain.privacy.ports import PrivacyDeps


async def export_my_data(principal: Principal, *, client: str = "", deps: PrivacyDeps) -> PersonalData:
    """The caller's data from every area, by kind; producing it is audited (how many records of each kind)."""
    async with deps.new_uow() as uow:
        subject = Subject(login=principal.login)
        employee = await uow.employees.by_login(principal.login)
        if employee is not None and employee.login == principal.login:
            employee_id = int(employee.id) if employee.id is not None else None
            subject = Subject(principal.login, employee_id, employee.personnel_number)
        sections: list[ExportSection] = []
        for area in deps.areas:
            for kind, records in (await area.export(uow, subject)).items():
                sections.append(ExportSection(kind, list(records)))
        now = deps.clock.now()
        await uow.audit.add(
            AuditEvent(
                now,
                principal.login,
                "privacy.data_exported",
                Outcome.SUCCESS,
                target=principal.login,
                client_address=client,
                details={section.kind: len(section.records) for section in sections},
            )
        )
        await uow.commit()
    return PersonalData(subject, now, tuple(sections))
