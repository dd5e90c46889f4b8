"""Profile self-service against real databases, the embedded directory and a real SMTP sink: policies, validation,
approval with four eyes, effective dates, history, audit, notifications and authorization."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import text

from ess.adapters.hr_files import read_hr_file
from ess.bootstrap import Container, build_container
from ess.domain.auth.model import Principal
from ess.domain.directory.model import AuthOutcome
from ess.domain.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, Throttled
from ess.domain.hr.model import Role
from ess.domain.hr_import.format import SourceRecord
from ess.domain.hr_import.importing import ImportEmployees, import_employees
from ess.domain.outbox.delivery import deliver_due
from ess.domain.profile.changing import ChangeProfile, ChangeResult, change_profile
from ess.domain.profile.model import ProfileField, RequestStatus
from ess.domain.profile.ports import ProfileDeps
from ess.domain.profile.requests import change_request_queue, decide_request, withdraw_request
from ess.domain.profile.scheduled import apply_due
from ess.domain.profile.submission import ProfileRejected
from ess.domain.profile.viewing import ProfileView, WorkContact, employee_profile, my_history, my_profile
from tests.conftest import make_settings
from tests.e2e.conftest import DEMO_COMPANY, DEMO_PASSWORD
from tests.fakes import FixedClock
from tests.harness.smtp import SmtpSink, running_smtp_sink

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"
BAD_IBAN = "DE89 3704 0044 0532 0130 01"  # one digit off: the checksum fails


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as server:
        yield server


@dataclass
class World:
    container: Container
    clock: FixedClock
    sink: SmtpSink

    @property
    def deps(self) -> ProfileDeps:
        return self.container.profile

    async def principal(self, login: str, *roles: Role) -> Principal:
        async with self.container.new_uow() as uow:
            employee = await uow.employees.by_login(login)
            assert employee is not None and employee.id is not None
            manager = await uow.employees.has_reports(employee.id)
        found = {Role.EMPLOYEE, *roles, *([Role.MANAGER] if manager else [])}
        return Principal(login, employee.display_name, frozenset(found), employee.id)

    async def change(self, who: Principal, **inputs: Any) -> ChangeResult:
        effective = inputs.pop("effective_from", None)
        password = inputs.pop("current_password", "")
        return await change_profile(
            ChangeProfile(principal=who, inputs=inputs, effective_from=effective, current_password=password),
            deps=self.deps,
        )

    async def count(self, table: str) -> int:
        async with self.container.new_uow() as uow:
            session = getattr(uow, "session")  # noqa: B009 - the SQL unit of work's session, for counting rows
            return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608

    def mails(self, count: int) -> list[EmailMessage]:
        return self.sink.wait_for(count)


@pytest.fixture
async def world(database_url: str, sink: SmtpSink) -> AsyncIterator[World]:
    settings = make_settings(
        database_url,
        ESS_MAIL__BACKEND="smtp",
        ESS_MAIL__SMTP_HOST="127.0.0.1",
        ESS_MAIL__SMTP_PORT=str(sink.port),
    )
    clock = FixedClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    container = build_container(settings, clock=clock)
    await import_employees(
        ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
        deps=container.hr_import,
    )
    assert container.local_directory is not None
    for login in ("anna.schmidt", "hanna.berger", "markus.weber"):
        await container.local_directory.provision(login, password=DEMO_PASSWORD, groups=[])
    try:
        yield World(container, clock, sink)
    finally:
        await container.close()


def body(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


async def test_a_phone_change_applies_at_once_with_history_audit_outbox_and_mail(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    result = await world.change(anna, mobile_phone="0151 23456789")
    assert result.applied == [ProfileField.MOBILE_PHONE]

    view = await my_profile(anna, deps=world.deps)
    assert view.profile.employee.mobile_phone == "+4915123456789"  # stored as E.164
    assert "mobile_phone" in view.pending_sync  # not in the directory yet
    history = await my_history(anna, deps=world.deps)
    assert history[0].field is ProfileField.MOBILE_PHONE
    assert (history[0].old, history[0].new) == ({"mobile_phone": "+491701234567"}, {"mobile_phone": "+4915123456789"})
    async with world.container.new_uow() as uow:
        actions = [e.action for e in await uow.audit.recent(10)]
    assert "profile.change" in actions

    [mail] = world.mails(1)
    assert mail["To"] == "anna.schmidt@example-ess.test"
    assert "Mobiltelefon" in body(mail)

    report = await deliver_due(deps=world.container.outbox)
    assert report.applied
    directory = world.container.directory
    assert (await directory.read_attributes("anna.schmidt", ["mobile_phone"]))["mobile_phone"] == "+4915123456789"
    assert "mobile_phone" not in (await my_profile(anna, deps=world.deps)).pending_sync


async def test_the_same_value_again_is_no_change(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    result = await world.change(anna, mobile_phone="+49 170 1234567", work_phone="089 5550011")
    assert result.applied == [] and result.requested == []
    assert set(result.unchanged) == {ProfileField.MOBILE_PHONE, ProfileField.WORK_PHONE}
    assert await world.count("profile_history") == 0
    assert await world.count("directory_outbox") == 0
    assert world.sink.received == []


async def test_invalid_iban_and_phone_are_refused_per_field_and_nothing_is_stored(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    with pytest.raises(ProfileRejected) as caught:
        await world.change(
            anna,
            mobile_phone="+49 123",
            street="Neue Straße 1",
            postal_code="8080",
            city="München",
            country="DE",
            iban=BAD_IBAN,
            holder="Anna Schmidt",
            current_password=DEMO_PASSWORD,
        )
    assert caught.value.fields == {
        "mobile_phone": "phone_invalid",
        "postal_code": "postal_code",
        "iban": "iban_checksum",
    }
    view = await my_profile(anna, deps=world.deps)
    assert view.profile.employee.mobile_phone == "+491701234567"
    assert view.profile.employee.address.street == "Türkenstraße 57"
    assert view.profile.bank_account is None and view.requests == []
    for table in ("profile_history", "profile_change_requests", "directory_outbox", "bank_accounts"):
        assert await world.count(table) == 0, table
    assert world.sink.received == []


async def test_a_bank_change_needs_the_password_tells_the_private_address_first_and_waits_for_hr(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    hanna = await world.principal("hanna.berger", Role.HR)
    with pytest.raises(ProfileRejected) as missing:
        await world.change(anna, iban=GOOD_IBAN, holder="Anna Schmidt")
    assert missing.value.fields == {"current_password": "reauth_missing"}
    with pytest.raises(ProfileRejected) as wrong:
        await world.change(anna, iban=GOOD_IBAN, holder="Anna Schmidt", current_password="not-her-password")
    assert wrong.value.fields == {"current_password": "reauth_wrong"}
    assert await world.count("profile_change_requests") == 0

    result = await world.change(anna, iban=GOOD_IBAN, holder="Anna Schmidt", current_password=DEMO_PASSWORD)
    [request] = result.requested
    assert request.status is RequestStatus.PENDING
    assert request.new == {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "holder": "Anna Schmidt"}
    mails = world.mails(3)
    # The notice to the private address went out first, before anything was stored.
    assert mails[0]["To"] == "anna.schmidt@example.org"
    assert "Bankverbindung" in mails[0]["Subject"]
    assert "DE89" not in body(mails[0])  # no account number in a mail
    assert mails[1]["To"] == "anna.schmidt@example-ess.test"
    assert "hanna.berger@example-ess.test" in mails[2]["To"]  # everyone with the HR role
    assert (await my_profile(anna, deps=world.deps)).profile.bank_account is None

    queue = await change_request_queue(hanna, deps=world.deps)
    assert [item.request.id for item in queue] == [request.id]
    assert request.id is not None
    decided = await decide_request(hanna, request.id, approve=True, comment="", deps=world.deps)
    assert decided.status is RequestStatus.APPLIED
    view = await my_profile(anna, deps=world.deps)
    assert view.profile.bank_account is not None and view.profile.bank_account.iban == "DE89370400440532013000"
    [entry] = await my_history(anna, deps=world.deps)
    assert entry.new["iban"] == "DE89••••••••••••••3000"  # masked for the employee
    assert entry.changed_by == "hanna.berger"
    decided_mail = world.mails(4)[3]
    assert decided_mail["To"] == "anna.schmidt@example-ess.test"
    assert "genehmigt" in decided_mail["Subject"]


async def test_a_bank_change_is_refused_when_the_notice_cannot_be_sent(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    world.sink.stop()
    with pytest.raises(ServiceUnavailable):
        await world.change(anna, iban=GOOD_IBAN, holder="Anna Schmidt", current_password=DEMO_PASSWORD)
    assert await world.count("profile_change_requests") == 0


async def test_four_eyes_nobody_decides_their_own_request_and_only_hr_decides(world: World) -> None:
    hanna = await world.principal("hanna.berger", Role.HR)
    markus = await world.principal("markus.weber")
    result = await world.change(hanna, first_name="Hanna", last_name="Berger-Huber")
    [request] = result.requested
    assert request.id is not None
    with pytest.raises(PermissionDenied):
        await decide_request(hanna, request.id, approve=True, comment="", deps=world.deps)
    with pytest.raises(PermissionDenied):
        await decide_request(markus, request.id, approve=True, comment="", deps=world.deps)
    with pytest.raises(PermissionDenied):
        await change_request_queue(markus, deps=world.deps)


async def test_a_rejection_needs_a_comment_and_a_decided_request_cannot_be_decided_again(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    hanna = await world.principal("hanna.berger", Role.HR)
    [request] = (await world.change(anna, first_name="Anna", last_name="Schmidt-Weber")).requested
    assert request.id is not None
    with pytest.raises(ProfileRejected):
        await decide_request(hanna, request.id, approve=False, comment="  ", deps=world.deps)
    rejected = await decide_request(
        hanna, request.id, approve=False, comment="Bitte Heiratsurkunde schicken", deps=world.deps
    )
    assert rejected.status is RequestStatus.REJECTED
    decided = next(m for m in world.mails(3) if "nicht genehmigt" in m["Subject"])
    assert decided["To"] == "anna.schmidt@example-ess.test"
    assert "Bitte Heiratsurkunde schicken" in body(decided)
    with pytest.raises(Conflict):
        await decide_request(hanna, request.id, approve=True, comment="", deps=world.deps)
    assert (await my_profile(anna, deps=world.deps)).profile.employee.last_name == "Schmidt"


async def test_withdraw_own_open_request_only(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    hanna = await world.principal("hanna.berger", Role.HR)
    [request] = (await world.change(anna, first_name="Anna", last_name="Schmidt-Weber")).requested
    assert request.id is not None
    with pytest.raises(NotFound):
        await withdraw_request(hanna, request.id, deps=world.deps)  # not hers, even for HR
    with pytest.raises(ProfileRejected) as again:
        await world.change(anna, first_name="Anna", last_name="Weber")
    assert again.value.fields == {"legal_name": "request_open"}
    await withdraw_request(anna, request.id, deps=world.deps)
    view = await my_profile(anna, deps=world.deps)
    assert view.requests[0].status is RequestStatus.WITHDRAWN
    with pytest.raises(Conflict):
        await withdraw_request(anna, request.id, deps=world.deps)
    assert await change_request_queue(hanna, deps=world.deps) == []


async def test_an_address_change_applies_and_tells_hr(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    result = await world.change(anna, street="Leopoldstraße 12", postal_code="80802", city="München", country="DE")
    assert result.applied == [ProfileField.ADDRESS]
    mails = world.mails(2)
    hr_mail = next(m for m in mails if "hanna.berger@example-ess.test" in m["To"])
    assert "Anna Schmidt" in hr_mail["Subject"] and "Privatanschrift" in body(hr_mail)


async def test_an_address_from_a_later_date_is_applied_on_that_day_by_the_job(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    move = date(2026, 12, 1)
    result = await world.change(
        anna, street="Leopoldstraße 12", postal_code="80802", city="München", country="DE", effective_from=move
    )
    [request] = result.requested
    assert request.status is RequestStatus.APPROVED  # notify-HR field: no decision needed, only the date
    assert (await apply_due(deps=world.deps)).applied == 0
    assert (await my_profile(anna, deps=world.deps)).profile.employee.address.street == "Türkenstraße 57"

    world.clock.advance(timedelta(days=9))
    assert (await apply_due(deps=world.deps)).applied == 1
    view = await my_profile(anna, deps=world.deps)
    assert view.profile.employee.address.street == "Leopoldstraße 12"
    assert {"street", "postal_code"} <= view.pending_sync
    assert (await apply_due(deps=world.deps)).applied == 0  # once only


async def test_a_scheduled_change_is_not_applied_over_a_newer_value(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    await world.change(
        anna, street="Leopoldstraße 12", postal_code="80802", city="München", effective_from=date(2026, 12, 1)
    )
    # HR corrects the address in the HR system meanwhile (the next import writes it).
    async with world.container.new_uow() as uow:
        session = getattr(uow, "session")  # noqa: B009
        await session.execute(text("UPDATE employees SET street = 'Türkenstraße 59' WHERE login = 'anna.schmidt'"))
        await uow.commit()
    world.clock.advance(timedelta(days=9))
    result = await apply_due(deps=world.deps)
    assert (result.applied, result.stale) == (0, 1)
    assert (await my_profile(anna, deps=world.deps)).profile.employee.address.street == "Türkenstraße 59"


async def test_an_effective_date_in_the_past_or_far_ahead_is_refused(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    for day in (date(2026, 11, 21), date(2028, 1, 1)):
        with pytest.raises(ProfileRejected) as caught:
            await world.change(anna, street="X 1", postal_code="80802", city="München", effective_from=day)
        assert caught.value.fields == {"effective_from": "effective_date"}


async def test_emergency_contacts_are_kept_in_order_and_empty_rows_dropped(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    await world.change(
        anna,
        emergency_contacts="",
        name_1="Jonas Schmidt",
        relation_1="Bruder",
        phone_1="0171 7654321",
        name_2="",
        relation_2="",
        phone_2="",
        name_3="Eva Schmidt",
        relation_3="Mutter",
        phone_3="+43 664 1234567",
    )
    contacts = (await my_profile(anna, deps=world.deps)).profile.emergency_contacts
    assert [(c.name, c.phone) for c in contacts] == [
        ("Jonas Schmidt", "+491717654321"),
        ("Eva Schmidt", "+436641234567"),
    ]
    with pytest.raises(ProfileRejected) as caught:
        await world.change(anna, emergency_contacts="", name_1="Jonas Schmidt", relation_1="", phone_1="123")
    assert caught.value.fields == {"relation_1": "required", "phone_1": "phone_invalid"}


async def test_who_sees_whose_profile(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    markus = await world.principal("markus.weber")
    hanna = await world.principal("hanna.berger", Role.HR)
    assert Role.MANAGER in markus.roles

    full = await employee_profile(hanna, "P10011", deps=world.deps)
    assert isinstance(full, ProfileView) and full.profile.employee.private_phone == "+498928022194"
    contact = await employee_profile(markus, "P10011", deps=world.deps)
    assert isinstance(contact, WorkContact)
    assert contact.work_phone == "+49895550011" and not hasattr(contact, "private_phone")
    for who, number in ((anna, "P10010"), (markus, "P10030"), (anna, "P99999")):
        with pytest.raises(NotFound):
            await employee_profile(who, number, deps=world.deps)


async def test_a_read_only_field_cannot_be_changed(database_url: str, sink: SmtpSink) -> None:
    settings = make_settings(database_url, ESS_PROFILE__POLICIES='{"work_phone": "read_only"}')
    container = build_container(settings)
    try:
        await import_employees(
            ImportEmployees(records=read_hr_file(DEMO_COMPANY), source_name="company.csv", actor="test"),
            deps=container.hr_import,
        )
        async with container.new_uow() as uow:
            anna_record = await uow.employees.by_login("anna.schmidt")
        assert anna_record is not None
        anna = Principal("anna.schmidt", "Anna Schmidt", frozenset({Role.EMPLOYEE}), anna_record.id)
        with pytest.raises(ProfileRejected) as caught:
            await change_profile(
                ChangeProfile(principal=anna, inputs={"work_phone": "089 5550099"}), deps=container.profile
            )
        assert caught.value.fields == {"work_phone": "read_only"}
        # The unchanged value is fine: a form may send read-only fields back as they are.
        await change_profile(
            ChangeProfile(principal=anna, inputs={"work_phone": "+49895550011"}), deps=container.profile
        )
    finally:
        await container.close()


async def test_password_guessing_on_the_bank_form_is_throttled_before_the_directory_locks(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    for _ in range(5):
        with pytest.raises(ProfileRejected):
            await world.change(anna, iban=GOOD_IBAN, holder="Anna Schmidt", current_password="guess")
    with pytest.raises(Throttled):
        await world.change(anna, iban=GOOD_IBAN, holder="Anna Schmidt", current_password=DEMO_PASSWORD)
    # The directory saw five wrong passwords, fewer than its own lockout needs: anna can still log in.
    directory = world.container.directory
    assert await directory.authenticate("anna.schmidt", DEMO_PASSWORD) == AuthOutcome.OK


async def reimport(world: World, **changes: str) -> None:
    """The nightly HR import of the demo company, with anna's row changed as given."""
    records = [
        SourceRecord(r.position, {**r.values, **changes}) if r.values.get("login") == "anna.schmidt" else r
        for r in read_hr_file(DEMO_COMPANY)
    ]
    await import_employees(
        ImportEmployees(records=records, source_name="company.csv", actor="hr-sync"),
        deps=world.container.hr_import,
    )


async def test_the_hr_import_keeps_a_change_made_in_ess_until_hr_sends_a_new_value(world: World) -> None:
    anna = await world.principal("anna.schmidt")
    await world.change(
        anna, mobile_phone="0151 23456789", street="Leopoldstraße 12", postal_code="80802", city="München"
    )
    await reimport(world)  # the HR system still has the old values: ESS keeps the employee's
    employee = (await my_profile(anna, deps=world.deps)).profile.employee
    assert employee.mobile_phone == "+4915123456789"
    assert employee.address.street == "Leopoldstraße 12"

    await reimport(world, mobile_phone="+491601111111")  # HR changed it upstream: HR wins
    employee = (await my_profile(anna, deps=world.deps)).profile.employee
    assert employee.mobile_phone == "+491601111111"
    assert employee.address.street == "Leopoldstraße 12"
