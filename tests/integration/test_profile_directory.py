"""Profile changes written back to the real slapd and the real Samba AD DC through the outbox: phones, the address
and the display name land in the mapped attributes; the employee's password confirms a bank change there too."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from ess.bootstrap import build_container
from ess.domain.auth.model import Principal
from ess.domain.hr.model import Role
from ess.domain.outbox.delivery import deliver_due
from ess.domain.profile.changing import ChangeProfile, ChangeResult, change_profile
from ess.domain.profile.model import ProfileField
from ess.domain.profile.submission import ProfileRejected
from ess.domain.profile.viewing import my_profile
from tests.factories import employee
from tests.harness.directory import DirectoryServer
from tests.integration.test_outbox_directory import ldap_directory, ldap_settings

PASSWORD = "Startpasswort 2026"
_numbers = itertools.count(1)


@pytest.fixture(params=["openldap", "activedirectory"])
def server(request: pytest.FixtureRequest) -> DirectoryServer:
    fixture: DirectoryServer = request.getfixturevalue("slapd" if request.param == "openldap" else "samba")
    return fixture


async def test_profile_changes_land_in_the_directory(server: DirectoryServer, sqlite_url: str) -> None:
    login = f"pf.anna{next(_numbers)}"  # AD logins have at most 20 characters
    await asyncio.to_thread(
        server.add_user,
        login,
        PASSWORD,
        given_name="Anna",
        surname="Schmidt",
        mail=f"{login}@example-ess.test",
        attributes={"telephoneNumber": "+49895550011"},
    )
    container = build_container(ldap_settings(sqlite_url, server))
    try:
        async with container.new_uow() as uow:
            await uow.employees.save_all(
                [
                    employee(
                        personnel_number=f"P{login}",
                        login=login,
                        first_name="Anna",
                        last_name="Schmidt",
                        work_email=f"{login}@example-ess.test",
                        work_phone="+49895550011",
                    )
                ]
            )
            await uow.commit()
            record = await uow.employees.by_login(login)
        assert record is not None
        anna = Principal(login, "Anna Schmidt", frozenset({Role.EMPLOYEE}), record.id)

        async def change(**inputs: Any) -> ChangeResult:
            password = inputs.pop("current_password", "")
            return await change_profile(
                ChangeProfile(principal=anna, inputs=inputs, current_password=password), deps=container.profile
            )

        result = await change(
            work_phone="089 5550099",
            mobile_phone="0151 23456789",
            preferred_name="Anni",
            street="Leopoldstraße 12",
            postal_code="80802",
            city="München",
            country="DE",
        )
        assert set(result.applied) == {
            ProfileField.WORK_PHONE,
            ProfileField.MOBILE_PHONE,
            ProfileField.PREFERRED_NAME,
            ProfileField.ADDRESS,
        }
        report = await deliver_due(deps=container.outbox)
        assert report.conflicts == [] and report.failed == []
        directory = ldap_directory(server.endpoint)
        try:
            found = await directory.read_attributes(
                login, ["work_phone", "mobile_phone", "display_name", "street", "postal_code", "city"]
            )
        finally:
            directory.close()
        assert found == {
            "work_phone": "+49895550099",
            "mobile_phone": "+4915123456789",
            "display_name": "Anni Schmidt",
            "street": "Leopoldstraße 12",
            "postal_code": "80802",
            "city": "München",
        }
        assert (await my_profile(anna, deps=container.profile)).pending_sync == frozenset()

        # The bank change is confirmed with the password the directory knows (a bind as the user).
        with pytest.raises(ProfileRejected):
            await change(iban="DE89 3704 0044 0532 0130 00", holder="Anna Schmidt", current_password="wrong")
        assert (
            await change(iban="DE89 3704 0044 0532 0130 00", holder="Anna Schmidt", current_password=PASSWORD)
        ).requested
    finally:
        await container.close()
