"""The operator console (admin role, checked in the use cases): settings without secrets, the directory check,
outbox entries with retry and conflict resolution, the mail queue, the HR import as an upload, the daily jobs."""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from ess.domain.console.operations import (
    check_directory,
    import_hr_upload,
    job_runs,
    open_changes,
    open_mails,
    preview_hr_upload,
    retry_directory_change,
    retry_queued_mail,
    settings_overview,
)
from ess.domain.console.ports import ConsoleDeps, DirectoryCheck
from ess.domain.errors import DomainError, InvalidInput
from ess.domain.hr_import.importing import ImportPreview, ImportRejected, ImportResult
from ess.routes.guards import current_principal, requires_login
from ess.routes.problems import ID_MAX, ID_MIN
from ess.routes.rendering import client_of, page_context, url_to

MAX_UPLOAD: Final = 20 * 1024 * 1024
DONE_CODES: Final = frozenset({"applied", "retried", "refused"})


class RetryForm(msgspec.Struct):
    force: str = ""


class ImportForm(msgspec.Struct):
    file: UploadFile | None = None
    action: str = "preview"


class ConsolePagesController(Controller):
    path = "/admin"
    include_in_schema = False
    guards = [requires_login]

    async def _render(
        self,
        request: Request[Any, Any, Any],
        console: ConsoleDeps,
        *,
        checks: list[DirectoryCheck] | None = None,
        message: str = "",
    ) -> Template:
        principal = current_principal(request)
        return Template(
            template_name="console.html",
            context=page_context(
                request,
                settings_lines=settings_overview(principal, deps=console),
                jobs=await job_runs(principal, deps=console),
                changes=await open_changes(principal, deps=console),
                mails=await open_mails(principal, deps=console),
                checks=checks,
                message=message,
            ),
        )

    @get("", operation_id="consolePage", name="console")
    async def page(self, request: Request[Any, Any, Any], console: NamedDependency[ConsoleDeps]) -> Template:
        """Everything at a glance: settings, daily jobs, open outbox entries and mails."""
        done = request.query_params.get("done", "")
        return await self._render(request, console, message=done if done in DONE_CODES else "")

    @post("/directory-check", operation_id="consoleDirectoryCheck", name="console_directory_check", status_code=200)
    async def directory_check(self, request: Request[Any, Any, Any], console: NamedDependency[ConsoleDeps]) -> Template:
        """Run the directory check (as `ess directory check`) and show its results."""
        checks = await check_directory(current_principal(request), client=client_of(request), deps=console)
        return await self._render(request, console, checks=checks)

    @post("/outbox/{change_id:int}/retry", operation_id="consoleOutboxRetry", name="console_outbox_retry")
    async def outbox_retry(
        self,
        request: Request[Any, Any, Any],
        console: NamedDependency[ConsoleDeps],
        change_id: FromPath[int],
        data: URLEncodedBody[RetryForm],
    ) -> Redirect:
        """Try an entry again; with force, overwrite the directory's values (a conflict a person looked at)."""
        if not ID_MIN <= change_id <= ID_MAX:
            return Redirect(url_to(request, "console"), status_code=303)
        try:
            report = await retry_directory_change(
                current_principal(request), change_id, force=data.force == "yes", deps=console
            )
            done = "applied" if change_id in report.applied else "retried"
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            done = "refused"
        return Redirect(url_to(request, "console") + "?done=" + done + "#outbox", status_code=303)

    @post("/mail/{mail_id:int}/retry", operation_id="consoleMailRetry", name="console_mail_retry")
    async def mail_retry(
        self, request: Request[Any, Any, Any], console: NamedDependency[ConsoleDeps], mail_id: FromPath[int]
    ) -> Redirect:
        """Send a given-up mail again."""
        done = "retried"
        if ID_MIN <= mail_id <= ID_MAX:
            try:
                await retry_queued_mail(current_principal(request), mail_id, deps=console)
            except DomainError as exc:
                if exc.code == "permission_denied":
                    raise
                done = "refused"
        return Redirect(url_to(request, "console") + "?done=" + done + "#mail", status_code=303)

    @get("/hr-import", operation_id="consoleImportPage", name="console_import")
    async def import_page(self, request: Request[Any, Any, Any], console: NamedDependency[ConsoleDeps]) -> Template:
        """The upload form."""
        settings_overview(current_principal(request), deps=console)  # admins only
        return Template(
            template_name="console_import.html",
            context=page_context(request, preview=None, result=None, errors=[], problem="", file_name=""),
        )

    @post("/hr-import", operation_id="consoleImportUpload", name="console_import_upload", status_code=200)
    async def import_upload(
        self,
        request: Request[Any, Any, Any],
        console: NamedDependency[ConsoleDeps],
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        """Preview (nothing changes) or import (all or nothing) the uploaded file; every bad row is listed."""
        principal = current_principal(request)
        settings_overview(principal, deps=console)  # admins only, before the file is read
        preview: ImportPreview | None = None
        result: ImportResult | None = None
        errors: list[str] = []
        problem = ""
        content = await data.file.read() if data.file is not None else b""
        name = (data.file.filename if data.file is not None else "") or "upload.csv"
        if not content:
            problem = "empty"
        elif len(content) > MAX_UPLOAD:
            problem = "too_large"
        else:
            try:
                if data.action == "import":
                    result = await import_hr_upload(principal, content, name, deps=console)
                else:
                    preview = await preview_hr_upload(principal, content, name, deps=console)
                    errors = [str(error) for error in preview.errors]
            except ImportRejected as exc:
                errors = [str(error) for error in exc.errors]
            except InvalidInput as exc:
                problem, errors = "unreadable", [exc.message]
        return Template(
            template_name="console_import.html",
            context=page_context(
                request, preview=preview, result=result, errors=errors, problem=problem, file_name=name[:200]
            ),
        )
