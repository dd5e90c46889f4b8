"""The mailers against a real SMTP server (aiosmtpd sink) and a real folder."""

from __future__ import annotations

import base64
import email.policy
import email.utils
import logging
import re
import socket
import stat
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from ess.adapters.mail import FileMailer, Mailer, OutgoingMail, SmtpMailer, build_mailer
from ess.domain.errors import ServiceUnavailable
from ess.settings import MailSettings
from tests.harness import tls  # the module, so pytest does not collect TestCertificates as a test class
from tests.harness.ports import free_port
from tests.harness.smtp import SmtpSink, running_smtp_sink

FROM = "ESS Personalportal <ess@example-ess.test>"
SUBJECT = "Urlaubsantrag genehmigt – 22.12.–09.01."
BODY = (
    "Hallo Jürgen Müller,\n\n"
    "Ihr Urlaubsantrag vom 22.12. bis 09.01. wurde genehmigt (8 Arbeitstage).\n"
    "Schöne Feiertage und einen guten Rutsch wünscht Ihnen\n"
    "Ihre Personalabteilung – Größe zählt nicht, Übermut schon. ÄÖÜ äöü ß €\n"
)
PASSWORD = "Sm7p-S3cret-Pässwort"


def approval(*to: str) -> OutgoingMail:
    return OutgoingMail(to=to or ("juergen.mueller@example.test",), subject=SUBJECT, text=BODY)


def text_of(message: EmailMessage) -> str:
    # The parser keeps the CRLF line ends of an 8bit body as they were on the wire (or in the file).
    content = message.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def smtp_settings(sink_or_port: SmtpSink | int, **overrides: object) -> MailSettings:
    port = sink_or_port if isinstance(sink_or_port, int) else sink_or_port.port
    values: dict[str, object] = {
        "backend": "smtp",
        "from_address": FROM,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "timeout_seconds": 5.0,
        **overrides,
    }
    return MailSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_smtp_sink() as server:
        yield server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tls.TestCertificates:
    return tls.make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def trust_test_ca(certificates: tls.TestCertificates, monkeypatch: pytest.MonkeyPatch) -> None:
    # aiosmtplib verifies with ssl.create_default_context(), which reads SSL_CERT_FILE when it is built.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))


def assert_secrets_absent(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    shown = "".join(traceback.format_exception(error)) + repr(error) + caplog.text
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in shown
    for line in BODY.splitlines():
        if line:
            assert line not in shown


# --- SMTP: delivery ----------------------------------------------------------------------------------------------


async def test_delivers_german_subject_and_body_intact(sink: SmtpSink) -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    await SmtpMailer(smtp_settings(sink)).send(approval("juergen.mueller@example.test"))

    [received] = sink.wait_for_received(1)
    message = received.message
    assert received.mail_from == "ess@example-ess.test"
    assert received.recipients == ("juergen.mueller@example.test",)
    assert message["Subject"] == SUBJECT
    assert text_of(message) == BODY
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["From"] == FROM
    assert message["To"] == "juergen.mueller@example.test"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"
    assert re.fullmatch(r"<[^<>@\s]+@example-ess\.test>", message["Message-ID"])
    assert re.search(rb"\r\nDate: [A-Z][a-z]{2}, [^\r]+ \+0000\r\n", received.raw)
    sent_at = email.utils.parsedate_to_datetime(message["Date"])
    assert sent_at.utcoffset() == timedelta(0)
    assert before <= sent_at <= datetime.now(UTC)
    # Headers stay 7-bit on the wire (RFC 2047), so relays without SMTPUTF8 pass them on unchanged.
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()


async def test_one_mail_reaches_several_recipients(sink: SmtpSink) -> None:
    to = ("anna@example.test", "Bernd.Baer@example.test", "chef@abteilung.example.test")

    await SmtpMailer(smtp_settings(sink)).send(approval(*to))

    [received] = sink.wait_for_received(1)
    assert received.recipients == to
    assert [address.addr_spec for address in received.message["To"].addresses] == list(to)


async def test_each_mail_gets_its_own_message_id(sink: SmtpSink) -> None:
    mailer = SmtpMailer(smtp_settings(sink))

    await mailer.send(approval())
    await mailer.send(approval())

    first, second = sink.wait_for(2)
    assert first["Message-ID"] != second["Message-ID"]


async def test_starttls_and_login(certificates: tls.TestCertificates, trust_test_ca: None) -> None:
    with running_smtp_sink(certificates=certificates, credentials=("ess-mailer", PASSWORD)) as sink:
        settings = smtp_settings(sink, smtp_starttls=True, smtp_username="ess-mailer", smtp_password=PASSWORD)

        await SmtpMailer(settings).send(approval())

        [message] = sink.wait_for(1)
    assert message["Subject"] == SUBJECT
    assert text_of(message) == BODY


# --- SMTP: failures ----------------------------------------------------------------------------------------------


async def test_stopped_server_is_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    with running_smtp_sink() as sink:
        settings = smtp_settings(sink, smtp_username="ess-mailer", smtp_password=PASSWORD)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ServiceUnavailable) as raised:
        await SmtpMailer(settings).send(approval())

    assert "mail server" in str(raised.value).lower()
    assert_secrets_absent(raised.value, caplog)
    assert "Connect" in caplog.text  # the log says why, for the operator


async def test_closed_port_is_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ServiceUnavailable) as raised:
        await SmtpMailer(smtp_settings(free_port(), smtp_password=PASSWORD)).send(approval())

    assert_secrets_absent(raised.value, caplog)


async def test_login_without_auth_offered_is_unavailable_and_leaks_nothing(
    sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    # The sink offers no AUTH extension: aiosmtplib refuses to log in (SMTPException) before MAIL FROM.
    caplog.set_level(logging.DEBUG)
    settings = smtp_settings(sink, smtp_username="ess-mailer", smtp_password=PASSWORD)

    with pytest.raises(ServiceUnavailable) as raised:
        await SmtpMailer(settings).send(approval())

    assert_secrets_absent(raised.value, caplog)
    assert "AUTH extension" in caplog.text
    assert sink.received == []


async def test_wrong_password_is_unavailable_and_leaks_nothing(
    certificates: tls.TestCertificates, trust_test_ca: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_smtp_sink(certificates=certificates, credentials=("ess-mailer", "the-right-one")) as sink:
        settings = smtp_settings(sink, smtp_starttls=True, smtp_username="ess-mailer", smtp_password=PASSWORD)

        with pytest.raises(ServiceUnavailable) as raised:
            await SmtpMailer(settings).send(approval())

        assert sink.received == []
    assert_secrets_absent(raised.value, caplog)
    assert "SMTPAuthenticationError 535" in caplog.text


async def test_required_starttls_not_offered_is_unavailable(sink: SmtpSink) -> None:
    with pytest.raises(ServiceUnavailable):
        await SmtpMailer(smtp_settings(sink, smtp_starttls=True)).send(approval())

    assert sink.received == []


async def test_server_that_never_greets_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody ever answers
        settings = smtp_settings(silent.getsockname()[1], timeout_seconds=0.3)
        started = time.monotonic()

        with pytest.raises(ServiceUnavailable):
            await SmtpMailer(settings).send(approval())

    assert time.monotonic() - started < 3


# --- files -------------------------------------------------------------------------------------------------------


async def test_file_mailer_writes_private_eml_files(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "mail"  # does not exist yet
    mailer = FileMailer(folder, from_address=FROM)

    await mailer.send(approval("anna@example.test", "bernd@example.test"))
    await mailer.send(approval())

    files = sorted(folder.iterdir())
    assert len(files) == 2
    for path in files:
        assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\.eml", path.name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    messages = [BytesParser(policy=email.policy.default).parsebytes(path.read_bytes()) for path in files]
    first = next(m for m in messages if "anna" in m["To"])
    assert isinstance(first, EmailMessage)
    assert [address.addr_spec for address in first["To"].addresses] == ["anna@example.test", "bernd@example.test"]
    assert first["From"] == FROM
    assert first["Subject"] == SUBJECT
    assert text_of(first) == BODY
    assert first.get_content_type() == "text/plain"
    assert first.get_content_charset() == "utf-8"
    assert first["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[^<>@\s]+@example-ess\.test>", first["Message-ID"])
    sent_at = email.utils.parsedate_to_datetime(first["Date"])
    assert sent_at.utcoffset() == timedelta(0)
    assert files[0].name.startswith(f"{sent_at:%Y%m%d}") or files[1].name.startswith(f"{sent_at:%Y%m%d}")
    assert b"\r\n" in files[0].read_bytes()  # RFC 5322 line ends


async def test_file_mailer_reports_an_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the folder should be", encoding="utf-8")

    with pytest.raises(ServiceUnavailable):
        await FileMailer(blocker, from_address=FROM).send(approval())


def test_build_mailer_follows_the_backend(tmp_path: Path) -> None:
    file_mailer = build_mailer(MailSettings(backend="file", folder=str(tmp_path)))
    smtp_mailer = build_mailer(MailSettings(backend="smtp"))

    assert isinstance(file_mailer, FileMailer)
    assert file_mailer.folder == tmp_path
    assert isinstance(smtp_mailer, SmtpMailer)
    assert isinstance(file_mailer, Mailer)
    assert isinstance(smtp_mailer, Mailer)
