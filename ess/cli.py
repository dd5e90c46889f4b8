"""The `ess` command: serve, database migrations, HR import, the demo company, the embedded directory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import getpass
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click
from rich.console import Console

from ess.domain.errors import DomainError, ServiceUnavailable
from ess.domain.mail.model import MailStatus
from ess.domain.outbox.model import OutboxStatus
from ess.settings import Settings, SettingsError, load_settings

# The composition root, the adapters and the use cases are imported by the commands that run them, not here: the
# command line starts in a fraction of the time, and `ess serve` imports the app with the collector paused (below).
if TYPE_CHECKING:
    from ess.adapters.ldap.directory import Check
    from ess.bootstrap import Container
    from ess.domain.hr_import.importing import ImportResult
    from ess.domain.mail.delivery import SendReport
    from ess.domain.mail.model import QueuedMail
    from ess.domain.outbox.delivery import DeliveryReport
    from ess.domain.outbox.model import DirectoryChange
    from ess.domain.passwords.reminders import ReminderRun
    from ess.domain.privacy.retention import RetentionReport
    from ess.domain.profile.scheduled import ApplyDueResult
    from ess.domain.vacation.hr_changes import LeaveFollowUp
    from ess.domain.vacation.reminders import LeaveReminderRun
    from ess.domain.vacation.year_end import CloseYearResult

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
DEMO_COMPANY: Final = Path(__file__).resolve().parent / "demo" / "company.csv"
T = TypeVar("T")

err = Console(stderr=True)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _run(factory: Callable[[Container], Coroutine[Any, Any, T]], settings: Settings) -> T:
    from ess.adapters.stores import SharedStoreUnreachable  # noqa: PLC0415
    from ess.bootstrap import build_container  # noqa: PLC0415

    async def main() -> T:
        container = build_container(settings)
        try:
            await container.check_shared_store()
            return await factory(container)
        finally:
            await container.close()

    try:
        return asyncio.run(main())
    except SharedStoreUnreachable as exc:
        err.print(f"ESS refuses to start: {exc}", style="red", highlight=False, markup=False, soft_wrap=True)
        sys.exit(2)


@click.group()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file.")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None) -> None:
    """ESS - Employee Self-Service."""
    ctx.meta["config_file"] = config_file
    try:
        ctx.obj = load_settings(config_file)
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        sys.exit(2)


@main.command()
@click.option("--host", help="Overrides server.host / ESS_HOST.")
@click.option("--port", type=int, help="Overrides server.port / ESS_PORT.")
@click.option("--workers", type=click.IntRange(min=1), help="Server processes; overrides server.workers.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web pages and the API (SIGTERM: finish the requests in flight, then stop)."""
    import uvicorn  # noqa: PLC0415 - only the serve command needs the server

    settings = _settings(ctx)
    workers = workers or settings.server.workers
    if workers > 1 and settings.sessions.store != "redis":
        err.print(
            f'[red]ESS refuses to start: {workers} workers need sessions.store = "redis"; the '
            f"{settings.sessions.store} store is not shared between processes.[/red]",
            highlight=False,
        )
        sys.exit(2)
    with _collector_paused():
        from ess.app import create_app  # noqa: PLC0415 - keeps the other commands light
        from ess.routes.observability import log_config  # noqa: PLC0415

        _check_shared_store(settings)
        app = create_app(settings) if workers == 1 else None
    options: dict[str, Any] = {
        "host": host or settings.server.host,
        "port": port or settings.server.port,
        "proxy_headers": False,  # ESS decides itself which proxies to believe (server.trusted_proxies)
        "server_header": False,
        "log_level": settings.logging.level,
        "log_config": log_config(settings),
        "timeout_graceful_shutdown": settings.server.graceful_shutdown_seconds,
    }
    if app is not None:
        uvicorn.run(app, **options)
        return
    # Each worker process builds its own app from the same configuration file and environment, and counts its
    # requests into files in this folder, which /metrics adds up over all workers (prometheus_client multiprocess).
    if ctx.meta.get("config_file"):
        os.environ["ESS_CONFIG"] = str(ctx.meta["config_file"])
    metrics_dir = tempfile.mkdtemp(prefix="ess-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run("ess.app:create_app", factory=True, workers=workers, **options)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while the app is imported and built: the start makes a few hundred
    thousand objects that live as long as the process (modules, classes, routes, signature models) and hardly any
    garbage, and the collector, scanning them again and again as they accumulate, took 10-13 % of its CPU."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_shared_store(settings: Settings) -> None:
    """Stop with a clear message, before serving anything, when the configured Redis does not answer."""
    if settings.sessions.store != "redis":
        return

    async def check(container: Container) -> None:
        await container.check_shared_store()

    _run(check, settings)


@main.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


def _alembic_config(settings: Settings) -> Any:
    from alembic.config import Config  # noqa: PLC0415

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    config.attributes["database_url"] = settings.database.url
    return config


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Migrate the database to REVISION (default: the newest), then add the shipped help articles that are missing."""
    from alembic import command  # noqa: PLC0415

    settings = _settings(ctx)
    command.upgrade(_alembic_config(settings), revision)
    if revision == "head":
        added = _seed_help(settings)
        if added:
            click.echo(f"Help center: {added} shipped articles added.")


def _seed_help(settings: Settings) -> int:
    """The shipped help articles that are missing, published, with a review due in a year; edited ones stay."""
    from ess.adapters.help_content import shipped_articles  # noqa: PLC0415
    from ess.domain.help.articles import seed_articles  # noqa: PLC0415

    async def seed(container: Container) -> int:
        review_due = container.clock.today() + timedelta(days=365)
        return await seed_articles(shipped_articles(), review_due=review_due, deps=container.help)

    return _run(seed, settings)


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the database's current revision."""
    from alembic import command  # noqa: PLC0415

    command.current(_alembic_config(_settings(ctx)), verbose=False)


@main.group()
def hr() -> None:
    """HR records."""


@hr.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--requested-by", default="", help="Who asked for the import (recorded in the audit log).")
@click.pass_context
def hr_import(ctx: click.Context, file: Path, requested_by: str) -> None:
    """Import employees from a CSV or JSON FILE (see docs/hr-import.md). All rows valid, or nothing changes."""
    from ess.domain.hr_import.importing import ImportRejected  # noqa: PLC0415

    try:
        result = _import_file(_settings(ctx), file, _operator(), requested_by=requested_by)
    except ImportRejected as exc:
        err.print(f"[red]Import rejected: {exc.message}[/red]", highlight=False)
        label = "record" if file.suffix.lower() == ".json" else "line"
        for error in exc.errors:
            err.print(f"  {label} {error}", highlight=False, markup=False)
        sys.exit(1)
    except DomainError as exc:
        err.print(f"[red]Import rejected: {exc.message}[/red]", highlight=False)
        sys.exit(1)
    click.echo(
        f"Imported {result.total} employees from {file.name}: "
        f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
    )
    recalculated = [f for f in result.leave if f.corrections]
    if recalculated:
        click.echo(f"Leave recalculated for {len(recalculated)} employees (see their ledger for old -> new).")
    for follow_up in result.leave_conflicts:
        _print_leave_conflict(follow_up)


def _print_leave_conflict(follow_up: LeaveFollowUp) -> None:
    """One employee whose leave the import made overdrawn or impossible: imported all the same, for HR to decide."""
    from ess.domain.vacation.hr_changes import OUTSIDE_EMPLOYMENT  # noqa: PLC0415

    number = follow_up.employee.personnel_number
    for year, days in follow_up.overdrawn:
        err.print(f"[yellow]{number}: leave {year} overdrawn by {-days} days[/yellow]", highlight=False)
    for conflict in follow_up.conflicts:
        what = "outside the employment" if conflict.problem == OUTSIDE_EMPLOYMENT else "beyond the new entitlement"
        err.print(
            f"[yellow]{number}: {conflict.status.value} leave {conflict.start.isoformat()} to "
            f"{conflict.end.isoformat()} (request {conflict.request_id}) is {what}; HR decides, nothing was "
            f"cancelled[/yellow]",
            highlight=False,
        )


def _operator() -> str:
    """The audit log's actor for CLI commands: the operating-system account that ran them."""
    return "cli:" + getpass.getuser()


def _import_file(settings: Settings, file: Path, actor: str, *, requested_by: str = "") -> ImportResult:
    """The file is read as the import consumes it (a CSV of 100,000 rows is never held whole); a file that cannot be
    read is refused before anything is written, and recorded as such."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    from ess.adapters.hr_files import UnreadableHrFile, stream_hr_file  # noqa: PLC0415
    from ess.domain.hr_import.importing import ImportEmployees, import_employees, record_unreadable_import  # noqa: PLC0415

    records = stream_hr_file(file)

    async def run(container: Container) -> ImportResult:
        command = ImportEmployees(records=records, source_name=file.name, actor=actor, requested_by=requested_by)
        if not sys.stderr.isatty():
            return await import_employees(command, deps=container.hr_import)
        with Progress(
            TextColumn("Importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
        ) as progress:
            # On a terminal the file is read once more, a record at a time, for the bar's total.
            task = progress.add_task("import", total=sum(1 for _ in stream_hr_file(file)))
            return await import_employees(
                command, deps=container.hr_import, progress=lambda done: progress.update(task, completed=done)
            )

    try:
        return _run(run, settings)
    except UnreadableHrFile as exc:
        reason = exc.message

        async def audit(container: Container) -> None:
            await record_unreadable_import(file.name, actor, reason, deps=container.hr_import)

        _run(audit, settings)
        raise


@main.group()
def demo() -> None:
    """The fictional demo company."""


@demo.command("seed")
@click.pass_context
def demo_seed(ctx: click.Context) -> None:
    """Import the demo company and give every demo account the password demo-passwort-2026."""
    from ess.demo_history import DEMO_PASSWORD, seed_history  # noqa: PLC0415
    from ess.domain.vacation.year_end import grant_year  # noqa: PLC0415

    settings = _settings(ctx)
    if settings.mode == "production":
        err.print("[red]Refusing to seed demo accounts in production mode.[/red]")
        sys.exit(2)
    result = _import_file(settings, DEMO_COMPANY, _operator(), requested_by="ess demo seed")

    async def provision(container: Container) -> int:
        directory = container.local_directory
        if directory is None:
            raise click.ClickException("The demo accounts live in the local directory; directory.kind is not 'local'.")
        created = 0
        async with container.new_uow() as uow:
            employees = await uow.employees.by_personnel_numbers(sorted(await uow.employees.all_personnel_numbers()))
        existing = await directory.logins()
        for employee in employees.values():
            if employee.login in existing:
                continue
            groups = ["ess-admins"] if employee.login == "admin" else []
            await directory.provision(
                employee.login,
                password=DEMO_PASSWORD,
                email=employee.work_email,
                display_name=employee.display_name,
                groups=groups,
            )
            created += 1
        return created

    created = _run(provision, settings)

    async def grant(container: Container) -> int:
        return await grant_year(container.clock.today().year, deps=container.vacation)

    _run(grant, settings)
    history = _run(seed_history, settings)
    _seed_help(settings)
    if history:
        click.echo(
            "Demo history: leave taken this year, requests waiting for markus.weber, a bank change for HR, "
            "ivan.petrovic locked."
        )
    click.echo(f"Demo company ready: {result.total} employees, {created} new accounts (password {DEMO_PASSWORD}).")


@main.group()
def vacation() -> None:
    """Leave: yearly grants."""


@vacation.command("remind")
@click.pass_context
def vacation_remind(ctx: click.Context) -> None:
    """Remind managers of requests waiting too long; hand those waiting longer to the manager's deputy, or tell HR
    (run daily; a second run sends nothing twice)."""
    from ess.domain.vacation.reminders import remind_waiting  # noqa: PLC0415

    async def run(container: Container) -> LeaveReminderRun:
        return await remind_waiting(deps=container.vacation)

    done = _run(run, _settings(ctx))
    click.echo(
        f"Reminded {done.reminded} managers; handed {done.handed_over} requests to deputies; "
        f"told HR of {done.escalated} requests."
    )


@vacation.command("grant")
@click.argument("year", type=int)
@click.pass_context
def vacation_grant(ctx: click.Context, year: int) -> None:
    """Book YEAR's leave entitlement for everybody employed in it (safe to run again)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    from ess.domain.vacation.year_end import grant_year  # noqa: PLC0415

    async def run(container: Container) -> int:
        if not sys.stderr.isatty():
            return await grant_year(year, deps=container.vacation, actor=_operator())
        with Progress(TextColumn("Granting"), BarColumn(), MofNCompleteColumn(), console=err, transient=True) as bar:
            task = bar.add_task("grant", total=None)
            return await grant_year(
                year,
                deps=container.vacation,
                actor=_operator(),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    granted = _run(run, _settings(ctx))
    click.echo(f"Leave {year}: granted for {granted} employees (the others already had it).")


@vacation.command("close-year")
@click.argument("year", type=int)
@click.option(
    "--force",
    is_flag=True,
    help="Close a year that has not ended yet (audited; its last days can no longer be booked).",
)
@click.pass_context
def vacation_close_year(ctx: click.Context, year: int, force: bool) -> None:
    """Carry what is left of YEAR into the next year, with its legal expiry, for everybody employed in YEAR
    (safe to run again)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    from ess.domain.vacation.year_end import YearNotOver, close_year  # noqa: PLC0415

    async def run(container: Container) -> CloseYearResult:
        if not sys.stderr.isatty():
            return await close_year(year, deps=container.vacation, actor=_operator(), force=force)
        with Progress(TextColumn("Closing"), BarColumn(), MofNCompleteColumn(), console=err, transient=True) as bar:
            task = bar.add_task("close", total=None)
            return await close_year(
                year,
                deps=container.vacation,
                actor=_operator(),
                force=force,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    try:
        result = _run(run, _settings(ctx))
    except YearNotOver as exc:
        err.print(f"[red]{exc.message} (--force closes it anyway)[/red]", highlight=False)
        sys.exit(1)
    click.echo(f"Year {year} closed for {result.closed} employees: days carried over for {result.carried} of them.")
    if result.waiting:
        err.print(
            f"[yellow]Not closed for {len(result.waiting)} employees with undecided requests in {year}: "
            f"{', '.join(result.waiting)}. Decide them and run the command again.[/yellow]",
            highlight=False,
        )


@vacation.command("send-warnings")
@click.argument("year", type=int)
@click.pass_context
def vacation_send_warnings(ctx: click.Context, year: int) -> None:
    """Warn everyone in Germany with leave of YEAR left that it lapses (and record the warning as evidence)."""
    from ess.domain.vacation.year_end import send_expiry_warnings  # noqa: PLC0415

    async def run(container: Container) -> int:
        return await send_expiry_warnings(year, deps=container.vacation, actor=_operator())

    click.echo(f"Expiry warnings sent: {_run(run, _settings(ctx))}.")


@vacation.command("expire")
@click.pass_context
def vacation_expire(ctx: click.Context) -> None:
    """Book the lapse of carried-over days whose deadline has passed (safe to run daily)."""
    from ess.domain.privacy.retention import record_job  # noqa: PLC0415
    from ess.domain.vacation.year_end import expire_due  # noqa: PLC0415

    async def run(container: Container) -> Decimal:
        return await record_job(
            "vacation expire",
            lambda: expire_due(container.clock.today(), deps=container.vacation, actor=_operator()),
            lambda days: f"{days} days lapsed",
            deps=container.privacy,
        )

    click.echo(f"Days lapsed: {_run(run, _settings(ctx))}.")


@main.group()
def analytics() -> None:
    """Self-service analytics (docs/analytics.md)."""


@analytics.command("purge")
@click.pass_context
def analytics_purge(ctx: click.Context) -> None:
    """Delete journey events older than [retention] analytics_events_days now (`ess retention run` does it daily)."""
    from ess.domain.analytics.recording import delete_expired  # noqa: PLC0415

    async def run(container: Container) -> int:
        return await delete_expired(deps=container.analytics)

    click.echo(f"Journey events deleted: {_run(run, _settings(ctx))}.")


@main.group()
def directory() -> None:
    """The embedded (local) directory."""


@directory.command("set-password")
@click.argument("login")
@click.option("--email", default="", help="E-mail of the account (set when the account is created).")
@click.password_option(prompt="New password")
@click.pass_context
def directory_set_password(ctx: click.Context, login: str, email: str, password: str) -> None:
    """Create a local account or set its password (local directory only). The password policy applies."""
    from ess.domain.passwords.change import set_password_by_operator  # noqa: PLC0415
    from ess.domain.passwords.checks import PasswordRejected  # noqa: PLC0415

    async def run(container: Container) -> bool:
        local = container.local_directory
        if local is None:
            raise click.ClickException("directory.kind is not 'local'.")
        created = False
        if login not in await local.logins():
            async with container.new_uow() as uow:
                employee = await uow.employees.by_login(login)
            # Created with an unusable random password; the real one is set below through the policy.
            created = await local.provision(
                login,
                password=secrets.token_urlsafe(32),
                email=email or (employee.work_email if employee else ""),
                display_name=employee.display_name if employee else login,
            )
        await set_password_by_operator(login, password, operator=_operator(), deps=container.passwords)
        return created

    try:
        created = _run(run, _settings(ctx))
    except PasswordRejected as exc:
        err.print(f"[red]Password refused: {', '.join(p.value for p in exc.problems)}[/red]", highlight=False)
        sys.exit(1)
    click.echo(f"Account {login} {'created' if created else 'updated'}.")


async def sso_checks(container: Container) -> list[Check]:
    """Single sign-on, where configured: the provider's discovery document and keys, the service keytab."""
    # Imported here, not at start: ldap3 and joserfc are a noticeable part of `ess serve`'s cold start.
    from ess.adapters.ldap.directory import Check  # noqa: PLC0415
    from ess.adapters.oidc import OidcClient  # noqa: PLC0415

    checks = []
    oidc = container.auth.oidc
    if isinstance(oidc, OidcClient):
        name = "OpenID Connect provider (discovery document, signing keys)"
        try:
            checks.append(Check(name, ok=True, detail=await oidc.check()))
        except ServiceUnavailable as exc:
            checks.append(Check(name, ok=False, detail=str(exc)))
    check_keytab = getattr(container.auth.kerberos, "check", None)
    if check_keytab is not None:
        name = "Kerberos service keytab (Windows integrated login)"
        try:
            checks.append(Check(name, ok=True, detail=str(await asyncio.to_thread(check_keytab))))
        except ServiceUnavailable as exc:
            checks.append(Check(name, ok=False, detail=str(exc)))
    return checks


@directory.command("check")
@click.option("--login", "sample_login", help="An ordinary account to probe the service account's rights on.")
@click.pass_context
def directory_check(ctx: click.Context, sample_login: str | None) -> None:
    """Show what works with the configured directory; exit 1 when something the configuration needs does not."""
    from ess.adapters.ldap.directory import Check, diagnose  # noqa: PLC0415 - see sso_checks

    async def run(container: Container) -> list[Check]:
        if container.ldap_directory is None:
            count = len(await container.local_directory.logins()) if container.local_directory else 0
            checks = [Check("local directory (accounts in the ESS database)", ok=True, detail=f"{count} accounts")]
        else:
            checks = await asyncio.to_thread(diagnose, container.ldap_directory, sample_login)
        return checks + await sso_checks(container)

    checks = _run(run, _settings(ctx))
    out = Console()
    for check in checks:
        mark = {True: "[green]ok  [/green]", False: "[red]FAIL[/red]", None: "[yellow]?   [/yellow]"}[check.ok]
        out.print(f"{mark} {check.name}" + (f" - {check.detail}" if check.detail else ""), highlight=False)
    if any(check.ok is False for check in checks):
        sys.exit(1)


@main.group()
def outbox() -> None:
    """Changes waiting to be written to the directory (the write-back outbox)."""


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "-"


@outbox.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in OutboxStatus]),
    help="Only entries with this status (repeatable). Default: everything not applied.",
)
@click.option("--limit", default=100, show_default=True, help="At most this many entries, newest first.")
@click.pass_context
def outbox_list(ctx: click.Context, statuses: tuple[str, ...], limit: int) -> None:
    """Show outbox entries: what is waiting, what conflicts, what failed (times in UTC)."""
    wanted = [OutboxStatus(status) for status in statuses] or [
        OutboxStatus.PENDING,
        OutboxStatus.CONFLICT,
        OutboxStatus.FAILED,
    ]

    async def run(container: Container) -> list[DirectoryChange]:
        async with container.new_uow() as uow:
            return await uow.outbox.listing(wanted, limit)

    changes = _run(run, _settings(ctx))
    if not changes:
        click.echo("No entries.")
        return
    click.echo("ID\tSTATUS\tLOGIN\tFIELDS\tCREATED\tATTEMPTS\tNEXT ATTEMPT\tDETAIL")
    for change in changes:
        detail = change.last_error
        if change.conflicts:
            found = "; ".join(f"{name}={value!r}" for name, value in sorted(change.conflicts.items()))
            detail = f"directory holds {found}"
        click.echo(
            f"{change.id}\t{change.status.value}\t{change.login}\t{','.join(change.fields)}\t"
            f"{_when(change.created_at)}\t{change.attempts}\t{_when(change.next_attempt_at)}\t{detail}"
        )


@outbox.command("retry")
@click.argument("change_id", type=int, required=False)
@click.option("--all", "retry_all", is_flag=True, help="Every failed entry.")
@click.option("--force", is_flag=True, help="Overwrite the directory's values (one conflicting entry, after checking).")
@click.pass_context
def outbox_retry(ctx: click.Context, change_id: int | None, retry_all: bool, force: bool) -> None:
    """Make entry CHANGE_ID (or with --all every failed entry) due now and try to apply it at once."""
    from ess.domain.outbox.delivery import deliver_due  # noqa: PLC0415
    from ess.domain.outbox.retry import retry  # noqa: PLC0415

    if (change_id is None) == (not retry_all):
        raise click.UsageError("Give either an entry ID or --all.")
    if force and change_id is None:
        raise click.UsageError("--force needs one entry ID: a person decides each conflict.")

    async def run(container: Container) -> tuple[int, DeliveryReport]:
        count = await retry(change_id, deps=container.outbox, force=force, actor=_operator())
        return count, await deliver_due(deps=container.outbox)

    try:
        count, report = _run(run, _settings(ctx))
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]", highlight=False)
        sys.exit(1)
    click.echo(
        f"{count} entries due again. Applied now: {len(report.applied)}, conflicts: {len(report.conflicts)}, "
        f"still waiting: {len(report.deferred)}, failed: {len(report.failed)}."
    )
    if report.conflicts or report.failed:
        sys.exit(1)


@main.group()
def mail() -> None:
    """Mails in the queue: every mail is committed there first and sent by the workers, with retries."""


@mail.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([status.value for status in MailStatus]),
    help="Only mails with this status (repeatable). Default: everything not sent.",
)
@click.option("--limit", default=100, show_default=True, help="At most this many mails, newest first.")
@click.pass_context
def mail_list(ctx: click.Context, statuses: tuple[str, ...], limit: int) -> None:
    """Show queued mails: what is waiting and what failed (times in UTC; never the text, which may hold a link)."""
    wanted = [MailStatus(status) for status in statuses] or [MailStatus.PENDING, MailStatus.FAILED]

    async def run(container: Container) -> list[QueuedMail]:
        async with container.new_uow() as uow:
            return await uow.mail.listing(wanted, limit)

    mails = _run(run, _settings(ctx))
    if not mails:
        click.echo("No mails.")
        return
    click.echo("ID\tSTATUS\tKIND\tTO\tCREATED\tATTEMPTS\tNEXT ATTEMPT\tDETAIL")
    for queued in mails:
        click.echo(
            f"{queued.id}\t{queued.status.value}\t{queued.kind}\t{','.join(queued.to)}\t{_when(queued.created_at)}\t"
            f"{queued.attempts}\t{_when(queued.next_attempt_at)}\t{queued.last_error}"
        )


@mail.command("retry")
@click.argument("mail_id", type=int, required=False)
@click.option("--all", "retry_all", is_flag=True, help="Every failed mail.")
@click.pass_context
def mail_retry(ctx: click.Context, mail_id: int | None, retry_all: bool) -> None:
    """Make mail MAIL_ID (or with --all every failed mail) due now and try to send it at once."""
    from ess.domain.mail.delivery import send_due  # noqa: PLC0415
    from ess.domain.mail.retry import retry  # noqa: PLC0415

    if (mail_id is None) == (not retry_all):
        raise click.UsageError("Give either a mail ID or --all.")

    async def run(container: Container) -> tuple[int, SendReport]:
        count = await retry(mail_id, deps=container.mail, actor=_operator())
        return count, await send_due(deps=container.mail)

    try:
        count, report = _run(run, _settings(ctx))
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]", highlight=False)
        sys.exit(1)
    click.echo(
        f"{count} mails due again. Sent now: {len(report.sent)}, still waiting: {len(report.deferred)}, "
        f"failed: {len(report.failed)}."
    )
    if report.deferred or report.failed:
        sys.exit(1)


@main.group()
def profile() -> None:
    """Employees' personal data."""


@profile.command("apply-due")
@click.pass_context
def profile_apply_due(ctx: click.Context) -> None:
    """Apply approved personal-data changes whose effective date has come (run daily, e.g. at 00:05)."""
    from ess.domain.outbox.delivery import deliver_due  # noqa: PLC0415
    from ess.domain.privacy.retention import record_job  # noqa: PLC0415
    from ess.domain.profile.scheduled import apply_due  # noqa: PLC0415

    async def job(container: Container) -> tuple[ApplyDueResult, DeliveryReport]:
        result = await apply_due(deps=container.profile, actor=_operator())
        # Directory fields go out now if the directory answers; otherwise the server's outbox worker retries.
        return result, await deliver_due(deps=container.outbox)

    async def run(container: Container) -> tuple[ApplyDueResult, DeliveryReport]:
        return await record_job(
            "profile apply-due",
            lambda: job(container),
            lambda done: f"{done[0].applied} applied, {done[0].stale} stale",
            deps=container.privacy,
        )

    result, report = _run(run, _settings(ctx))
    click.echo(
        f"Changes applied: {result.applied}; not applied because the data changed meanwhile: {result.stale}. "
        f"Directory updates applied: {len(report.applied)}, waiting: {len(report.deferred)}."
    )


@main.group()
def password() -> None:
    """Password jobs."""


@password.command("remind")
@click.pass_context
def password_remind(ctx: click.Context) -> None:
    """E-mail everyone whose directory password expires soon ([passwords] remind_offsets_days, each offset once).
    Prints one summary line; exits 1 when the directory could not answer for some accounts (run it again later)."""
    from ess.domain.passwords.reminders import send_password_reminders  # noqa: PLC0415
    from ess.domain.privacy.retention import record_job  # noqa: PLC0415

    settings = _settings(ctx)

    async def run(container: Container) -> ReminderRun:
        return await record_job(
            "password remind",
            lambda: send_password_reminders(
                offsets=settings.passwords.remind_offsets_days, deps=container.passwords, actor=_operator()
            ),
            lambda done: done.summary,
            deps=container.privacy,
        )

    result = _run(run, settings)
    click.echo(result.summary)
    if result.failed:
        sys.exit(1)


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the audit events' hash chain from the oldest kept event to the newest; exits 1 and names the first
    event that breaks it (altered, removed or inserted)."""
    from ess.domain.privacy.audit_trail import verify_chain  # noqa: PLC0415

    async def run(container: Container) -> Any:
        return await verify_chain(deps=container.privacy)

    report = _run(run, _settings(ctx))
    if report.first_break is not None:
        err.print(
            f"[red]Audit chain broken at event {report.first_break.id}: {report.first_break.reason}. "
            f"{report.checked} events before it are intact.[/red]",
            highlight=False,
        )
        sys.exit(1)
    click.echo(f"Audit chain intact: {report.checked} events; newest hash {report.head}.")


@main.group()
def retention() -> None:
    """Retention and deletion ([retention] in the settings; docs/privacy.md)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what is due; delete nothing.")
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool) -> None:
    """Delete what is older than its retention period (run daily); the deletions are audited by count."""
    from ess.domain.privacy.retention import record_job, run_retention  # noqa: PLC0415

    async def run(container: Container) -> RetentionReport:
        if dry_run:
            return await run_retention(dry_run=True, deps=container.privacy)
        return await record_job(
            "retention run",
            lambda: run_retention(deps=container.privacy),
            lambda done: ", ".join(f"{key}: {count}" for key, count in done.counts.items()) or "nothing configured",
            deps=container.privacy,
        )

    report = _run(run, _settings(ctx))
    verb = "due" if report.dry_run else "deleted"
    for key, count in report.counts.items():
        click.echo(f"{key}: {count} {verb}")
    click.echo(f"{'Dry run: nothing deleted' if report.dry_run else 'Deleted'}; {report.total} records {verb}.")


@main.group("help-requests")
def help_requests() -> None:
    """Requests to HR and IT."""


@help_requests.command("daily")
@click.pass_context
def help_requests_daily(ctx: click.Context) -> None:
    """Remind HR and IT of requests waiting longer than [help_requests] remind_after_hours, and delete closed
    requests older than [retention] help_requests_days (run daily; `ess retention run` deletes them too)."""
    from ess.domain.help_requests import upkeep  # noqa: PLC0415

    async def run(container: Container) -> tuple[int, int]:
        return (
            await upkeep.remind_waiting(deps=container.help_requests),
            await upkeep.delete_expired(deps=container.help_requests),
        )

    reminded, deleted = _run(run, _settings(ctx))
    click.echo(f"Help requests: {reminded} reminded; {deleted} closed requests deleted after the retention period.")


if __name__ == "__main__":
    main()
