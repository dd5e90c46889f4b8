"""The Directory port on LDAP: OpenLDAP (RFC 3062 Password Modify + ppolicy) and Active Directory (unicodePwd)."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeVar

from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE, Connection
from ldap3.utils.conv import escape_filter_chars

from ess.adapters.ldap.connections import DirectoryConnector
from ess.adapters.ldap.ppolicy import PPOLICY_REQUEST, PolicyError, response_from_result
from ess.domain.auth.model import is_plausible_login
from ess.domain.directory.model import (
    AccountStatus,
    AuthOutcome,
    DirectoryAccount,
    DirectoryPasswordRejected,
    DirectoryRejection,
)
from ess.domain.errors import AuthenticationFailed, NotFound, ServiceUnavailable

logger = logging.getLogger("ess.directory")
T = TypeVar("T")
Flavour = Literal["openldap", "activedirectory"]

SUCCESS, INVALID_CREDENTIALS, CONSTRAINT_VIOLATION, NO_SUCH_OBJECT, NO_SUCH_ATTRIBUTE = 0, 49, 19, 32, 16
INSUFFICIENT_ACCESS, UNWILLING_TO_PERFORM = 50, 53

# Active Directory: the "data" code in a failed bind's diagnostic message (MS-ADTS, [MS-ERREF] win32 codes).
AD_BIND_CODES: Final = {
    "52e": AuthOutcome.INVALID_CREDENTIALS,
    "525": AuthOutcome.INVALID_CREDENTIALS,  # no such user: indistinguishable on purpose
    "530": AuthOutcome.LOGON_NOT_PERMITTED,  # not permitted to log on at this time
    "531": AuthOutcome.LOGON_NOT_PERMITTED,  # not permitted to log on at this workstation
    "532": AuthOutcome.PASSWORD_EXPIRED,
    "533": AuthOutcome.DISABLED,
    "701": AuthOutcome.ACCOUNT_EXPIRED,
    "773": AuthOutcome.MUST_CHANGE,
    "775": AuthOutcome.LOCKED,
}
_AD_DATA = re.compile(r"data ([0-9a-f]{3,8})", re.IGNORECASE)
# LDAP_SERVER_POLICY_HINTS (MS-ADTS 3.1.1.3.4.1.27): value SEQUENCE { INTEGER 1 } makes AD (2012 R2 and later)
# apply the password history to resets by an administrator too. Non-critical: Samba 4.17 does not know it and would
# refuse every reset otherwise (it then resets without the history check; `ess directory check` says so).
AD_POLICY_HINTS_OID: Final = "1.2.840.113556.1.4.2239"
AD_POLICY_HINTS: Final = (AD_POLICY_HINTS_OID, False, b"\x30\x03\x02\x01\x01")
AD_LOCKED, AD_PASSWORD_EXPIRED, AD_DISABLED = 0x10, 0x800000, 0x2
AD_NEVER: Final = (0, 0x7FFFFFFFFFFFFFFF)
_FILETIME_EPOCH: Final = datetime(1601, 1, 1, tzinfo=UTC)
# AD answers a rejected password with 0000052D (policy) and a wrong old password with 00000056.
_AD_WRONG_OLD_PASSWORD = "00000056"  # noqa: S105 - an AD error code, not a password
OPENLDAP_PERMANENT_LOCK: Final = "000001010000Z"

PPOLICY_REJECTIONS: Final = {
    PolicyError.PASSWORD_TOO_SHORT: DirectoryRejection.TOO_SHORT,
    PolicyError.PASSWORD_TOO_LONG: DirectoryRejection.TOO_LONG,
    PolicyError.PASSWORD_IN_HISTORY: DirectoryRejection.IN_HISTORY,
    PolicyError.PASSWORD_TOO_YOUNG: DirectoryRejection.TOO_YOUNG,
    PolicyError.INSUFFICIENT_PASSWORD_QUALITY: DirectoryRejection.INSUFFICIENT_QUALITY,
    PolicyError.PASSWORD_MOD_NOT_ALLOWED: DirectoryRejection.NOT_ALLOWED,
}


def _password(value: str) -> bytes:
    # Bytes reach the server unchanged: ldap3 would apply SASLprep to str on binds and the exop but not to AD's
    # unicodePwd. ESS passes exactly what the user typed, the same way for set and bind.
    return value.encode("utf-8")


def _ad_password(value: str) -> bytes:
    return f'"{value}"'.encode("utf-16-le")


def filetime(value: str | None) -> datetime | None:
    """AD's 100-nanosecond ticks since 1601 as a UTC datetime; None for 0 and "never"."""
    if not value:
        return None
    ticks = int(value)
    if ticks in AD_NEVER or ticks < 0:
        return None
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def generalized_time(value: str | None) -> datetime | None:
    """LDAP GeneralizedTime (20261122101500Z, optionally with fractions) as a UTC datetime."""
    if not value or value == OPENLDAP_PERMANENT_LOCK:
        return None
    digits = value.rstrip("Z").split(".")[0]
    return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


class LdapDirectory:
    """Implements the Directory port for one LDAP flavour."""

    def __init__(
        self,
        connector: DirectoryConnector,
        *,
        flavour: Flavour,
        user_base_dn: str,
        user_filter: str,
        login_attribute: str,
        email_attribute: str,
        group_base_dn: str,
        attributes: Mapping[str, str],
        default_policy_dn: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._connector = connector
        self._flavour = flavour
        self._user_base = user_base_dn
        self._user_filter = user_filter if user_filter.startswith("(") else f"({user_filter})"
        self._login_attr = login_attribute
        self._mail_attr = email_attribute
        self._group_base = group_base_dn or user_base_dn
        self._attributes = dict(attributes)
        self._default_policy_dn = default_policy_dn
        self._now = clock
        # Its own threads: calls stuck on a hung directory (until the socket timeout) never hold up the threads that
        # hash passwords or write files. A few more than the pool, for user binds.
        self._executor = ThreadPoolExecutor(max_workers=connector.pool_size + 4, thread_name_prefix="ess-ldap")

    @property
    def is_ad(self) -> bool:
        return self._flavour == "activedirectory"

    @property
    def user_base(self) -> str:
        return self._user_base

    @property
    def group_base(self) -> str:
        return self._group_base

    @property
    def connector(self) -> DirectoryConnector:
        return self._connector

    def find_entry(self, connection: Connection, login: str) -> dict[str, Any] | None:
        return self._find(connection, login)

    def probe_rights(self, connection: Connection, dn: str) -> list[Check]:
        """Can the service account reset, unlock and write each mapped attribute of `dn`? Each probe is refused by
        the server either for lack of rights (50) or for a harmless reason; nothing is changed."""
        if self.is_ad:
            # A value AD cannot accept (not a quoted UTF-16 string): the access check comes first.
            connection.modify(dn, {"unicodePwd": [(MODIFY_REPLACE, [b"x"])]})
            reset = connection.result.get("result") != INSUFFICIENT_ACCESS
            connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=["allowedAttributesEffective"])
            raw = connection.response[0]["raw_attributes"] if connection.response else {}
            writable = {
                (v.decode() if isinstance(v, bytes) else str(v)).lower()
                for key, values in raw.items()
                if key.lower() == "allowedattributeseffective"
                for v in values
            }
            connection.search("", "(objectClass=*)", search_scope=BASE, attributes=["supportedControl"])
            root = connection.response[0]["raw_attributes"] if connection.response else {}
            controls = {
                (v.decode() if isinstance(v, bytes) else str(v))
                for key, values in root.items()
                if key.lower() == "supportedcontrol"
                for v in values
            }
            hints = AD_POLICY_HINTS_OID in controls
            checks = [
                Check("right to reset passwords", ok=reset),
                Check("right to unlock", ok="lockouttime" in writable),
                Check(
                    "password history on resets (policy hints control)",
                    ok=True if hints else None,
                    detail="" if hints else "not supported by this server: resets skip the history check",
                ),
            ]
            checks += [
                Check(f"right to write {attribute} ({field})", ok=attribute.lower() in writable)
                for field, attribute in sorted(self._attributes.items())
            ]
            return checks
        bogus = "19700101000000Z"
        connection.modify(dn, {"userPassword": [(MODIFY_DELETE, [bogus])]})
        reset = connection.result.get("result") != INSUFFICIENT_ACCESS
        connection.modify(dn, {"pwdAccountLockedTime": [(MODIFY_DELETE, [bogus])]})
        unlock = connection.result.get("result") != INSUFFICIENT_ACCESS
        checks = [Check("right to reset passwords", ok=reset), Check("right to unlock", ok=unlock)]
        for field, attribute in sorted(self._attributes.items()):
            connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=[attribute])
            raw = connection.response[0]["raw_attributes"] if connection.response else {}
            current = next((list(v) for k, v in raw.items() if k.lower() == attribute.lower()), [])
            connection.modify(dn, {attribute: [(MODIFY_REPLACE, current)]})  # the same values again: a no-op
            ok = connection.result.get("result") in (SUCCESS, NO_SUCH_ATTRIBUTE)
            checks.append(Check(f"right to write {attribute} ({field})", ok=ok))
        return checks

    async def _blocking(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking ldap3 call on the directory's own threads."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(func, *args, **kwargs)
        )

    async def _service(self, operation: Callable[[Connection], T], *, idempotent: bool = True) -> T:
        return await self._blocking(self._connector.with_service, operation, idempotent=idempotent)

    # --- Lookup ------------------------------------------------------------------------------------------------

    def _find(self, connection: Connection, login: str, attributes: Sequence[str] = ()) -> dict[str, Any] | None:
        """The one entry whose login attribute is `login`, or None (also for two matches)."""
        if not is_plausible_login(login):
            return None
        search_filter = f"(&{self._user_filter}({self._login_attr}={escape_filter_chars(login)}))"
        return self._single(connection, search_filter, attributes)

    def _single(self, connection: Connection, search_filter: str, attributes: Sequence[str]) -> dict[str, Any] | None:
        connection.search(
            self._user_base,
            search_filter,
            search_scope=SUBTREE,
            attributes=list(attributes) or ["1.1"],
            size_limit=2,
        )
        entries = [e for e in connection.response or [] if e.get("type") == "searchResEntry"]
        return entries[0] if len(entries) == 1 else None

    def _dn(self, connection: Connection, login: str) -> str:
        entry = self._find(connection, login)
        if entry is None:
            raise NotFound("No such account.")
        return str(entry["dn"])

    async def find_account(self, login_or_email: str) -> DirectoryAccount | None:
        needle = login_or_email.strip()
        if not is_plausible_login(needle):
            return None
        value = escape_filter_chars(needle)
        search_filter = f"(&{self._user_filter}(|({self._login_attr}={value})({self._mail_attr}={value})))"
        wanted = [self._login_attr, self._mail_attr, "displayName"]

        def run(connection: Connection) -> DirectoryAccount | None:
            entry = self._single(connection, search_filter, wanted)
            if entry is None:
                return None
            raw = entry["raw_attributes"]
            return DirectoryAccount(
                login=_text(raw, self._login_attr).lower(),
                email=_text(raw, self._mail_attr),
                display_name=_text(raw, "displayName"),
            )

        return await self._service(run)

    # --- Authentication ----------------------------------------------------------------------------------------

    async def authenticate(self, login: str, password: str) -> AuthOutcome:
        if not password:
            return AuthOutcome.INVALID_CREDENTIALS  # an empty simple bind is an anonymous bind that "succeeds"
        entry = await self._service(lambda c: self._find(c, login))
        if entry is None:
            return AuthOutcome.INVALID_CREDENTIALS
        return await self._blocking(self._bind_outcome, str(entry["dn"]), password)

    def _bind_outcome(self, dn: str, password: str) -> AuthOutcome:
        controls = None if self.is_ad else [PPOLICY_REQUEST]
        with self._connector.user_connection(dn, _password(password), controls) as (connection, bound):
            return self._outcome(connection.result, bound)

    def _outcome(self, result: dict[str, Any], bound: bool) -> AuthOutcome:
        if not bound and result.get("result") != INVALID_CREDENTIALS:
            # busy, unavailable, confidentialityRequired, other...: the server's trouble, not a wrong password.
            logger.warning("The directory answered a bind with LDAP result %s", result.get("result"))
            raise ServiceUnavailable("The directory cannot check passwords right now.")
        if self.is_ad:
            if bound:
                return AuthOutcome.OK
            match = _AD_DATA.search(str(result.get("message", "")))
            return (
                AD_BIND_CODES.get(match.group(1).lower(), AuthOutcome.INVALID_CREDENTIALS)
                if match
                else (AuthOutcome.INVALID_CREDENTIALS)
            )
        policy = response_from_result(result)
        error = policy.error if policy else None
        if bound:
            return AuthOutcome.MUST_CHANGE if error is PolicyError.CHANGE_AFTER_RESET else AuthOutcome.OK
        # ppolicy reports these only after checking the password: expired means "right password, but expired".
        if error is PolicyError.PASSWORD_EXPIRED:
            return AuthOutcome.PASSWORD_EXPIRED
        if error is PolicyError.ACCOUNT_LOCKED:
            return AuthOutcome.LOCKED
        return AuthOutcome.INVALID_CREDENTIALS

    # --- Passwords ---------------------------------------------------------------------------------------------

    async def change_password(self, login: str, current: str, new: str) -> None:
        if not current:
            raise AuthenticationFailed("The current password is not correct.")
        try:
            dn = await self._service(lambda c: self._dn(c, login))
        except NotFound as exc:
            raise AuthenticationFailed("The current password is not correct.") from exc
        await self._blocking(self._change_as_user, dn, current, new)

    def _change_as_user(self, dn: str, current: str, new: str) -> None:
        controls = None if self.is_ad else [PPOLICY_REQUEST]
        with self._connector.user_connection(dn, _password(current), controls) as (connection, bound):
            outcome = self._outcome(connection.result, bound)
            if outcome is AuthOutcome.OK or (bound and outcome is AuthOutcome.MUST_CHANGE):
                result = self._self_change(connection, dn, current, new)
                self._check_password_result(result)
                return
        if outcome in (AuthOutcome.PASSWORD_EXPIRED, AuthOutcome.MUST_CHANGE):
            # The directory confirmed the current password but will not let the user bind with it. The change is
            # then made by the service account, still with the old password on AD (which checks it once more).
            result = self._connector.with_service(lambda c: self._expired_change(c, dn, current, new), idempotent=False)
            self._check_password_result(result)
            return
        raise AuthenticationFailed("The current password is not correct.")

    def _self_change(self, connection: Connection, dn: str, current: str, new: str) -> dict[str, Any]:
        if self.is_ad:
            connection.modify(
                dn,
                {"unicodePwd": [(MODIFY_DELETE, [_ad_password(current)]), (MODIFY_ADD, [_ad_password(new)])]},
            )
        else:
            connection.extend.standard.modify_password(
                user=dn, old_password=_password(current), new_password=_password(new), controls=[PPOLICY_REQUEST]
            )
        return dict(connection.result)

    def _expired_change(self, connection: Connection, dn: str, current: str, new: str) -> dict[str, Any]:
        if self.is_ad:
            return self._self_change(connection, dn, current, new)
        connection.extend.standard.modify_password(user=dn, new_password=_password(new), controls=[PPOLICY_REQUEST])
        result = dict(connection.result)
        if result.get("result") == SUCCESS:
            self._clear_must_change(connection, dn)
        return result

    def _check_password_result(self, result: dict[str, Any]) -> None:
        code = result.get("result")
        if code == SUCCESS:
            return
        message = str(result.get("message", ""))
        if self.is_ad:
            if _AD_WRONG_OLD_PASSWORD in message:
                raise AuthenticationFailed("The current password is not correct.")
            if code in (CONSTRAINT_VIOLATION, UNWILLING_TO_PERFORM):
                raise DirectoryPasswordRejected(DirectoryRejection.POLICY)
        else:
            policy = response_from_result(result)
            if policy and policy.error in PPOLICY_REJECTIONS:
                raise DirectoryPasswordRejected(PPOLICY_REJECTIONS[policy.error])
            if code == CONSTRAINT_VIOLATION:
                raise DirectoryPasswordRejected(DirectoryRejection.POLICY)
            if code == INVALID_CREDENTIALS or (code == UNWILLING_TO_PERFORM and "old password" in message):
                raise AuthenticationFailed("The current password is not correct.")
        logger.error("The directory refused a password operation (LDAP result %s)", code)
        raise ServiceUnavailable("The directory refused the password change.")

    async def reset_password(self, login: str, new: str) -> None:
        def run(connection: Connection) -> dict[str, Any]:
            dn = self._dn(connection, login)
            if self.is_ad:
                connection.modify(dn, {"unicodePwd": [(MODIFY_REPLACE, [_ad_password(new)])]}, [AD_POLICY_HINTS])
                return dict(connection.result)
            connection.extend.standard.modify_password(user=dn, new_password=_password(new), controls=[PPOLICY_REQUEST])
            result = dict(connection.result)
            if result.get("result") == SUCCESS:
                # With pwdMustChange the server flags an administrator's reset as "change at next login"; in
                # self-service the user chose this password, so the flag would only lock them out again.
                self._clear_must_change(connection, dn)
            return result

        self._check_password_result(await self._service(run, idempotent=False))

    def _clear_must_change(self, connection: Connection, dn: str) -> None:
        connection.modify(dn, {"pwdReset": [(MODIFY_REPLACE, [])]})
        if connection.result.get("result") not in (SUCCESS, NO_SUCH_ATTRIBUTE):
            logger.warning("Could not clear pwdReset (LDAP result %s)", connection.result.get("result"))

    async def unlock(self, login: str) -> None:
        def run(connection: Connection) -> int:
            dn = self._dn(connection, login)
            if self.is_ad:
                connection.modify(dn, {"lockoutTime": [(MODIFY_REPLACE, ["0"])]})
            else:
                # Removing the lock time also clears pwdFailureTime, which clients may not modify themselves.
                connection.modify(dn, {"pwdAccountLockedTime": [(MODIFY_REPLACE, [])]})
            return int(connection.result.get("result", -1))

        code = await self._service(run)
        if code not in (SUCCESS, NO_SUCH_ATTRIBUTE):
            logger.error("The directory refused to unlock an account (LDAP result %s)", code)
            raise ServiceUnavailable("The directory refused to unlock the account.")

    # --- Status and groups -------------------------------------------------------------------------------------

    async def account_status(self, login: str) -> AccountStatus:
        return await self._service(lambda c: self._status(c, login))

    def _status(self, connection: Connection, login: str) -> AccountStatus:
        now = self._now()
        if self.is_ad:
            dn = self._dn(connection, login)
            wanted = [
                "userAccountControl",
                "msDS-User-Account-Control-Computed",
                "msDS-UserPasswordExpiryTimeComputed",
                "pwdLastSet",
                "accountExpires",
            ]
            # Constructed attributes are only computed for base-scope searches.
            connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=wanted)
            raw = connection.response[0]["raw_attributes"] if connection.response else {}
            uac = int(_text(raw, "userAccountControl") or 0)
            computed = int(_text(raw, "msDS-User-Account-Control-Computed") or 0)
            account_expires = filetime(_text(raw, "accountExpires"))
            last_set = _text(raw, "pwdLastSet")
            return AccountStatus(
                login=login,
                locked=bool(computed & AD_LOCKED),
                disabled=bool(uac & AD_DISABLED) or (account_expires is not None and account_expires <= now),
                password_expired=bool(computed & AD_PASSWORD_EXPIRED),
                must_change=last_set == "0",
                password_expires_at=filetime(_text(raw, "msDS-UserPasswordExpiryTimeComputed")),
                password_changed_at=filetime(last_set),
            )
        entry = self._find(
            connection,
            login,
            ["pwdAccountLockedTime", "pwdChangedTime", "pwdReset", "pwdPolicySubentry", "pwdEndTime", "pwdStartTime"],
        )
        if entry is None:
            raise NotFound("No such account.")
        raw = entry["raw_attributes"]
        policy = self._policy(connection, _text(raw, "pwdPolicySubentry") or self._default_policy_dn)
        locked_at_text = _text(raw, "pwdAccountLockedTime")
        locked, locked_until = False, None
        if locked_at_text:
            duration = int(policy.get("pwdLockoutDuration", "0") or 0)
            locked_at = generalized_time(locked_at_text)
            if locked_at is None or duration == 0:
                locked = True  # permanent until an administrator (or ESS) unlocks
            else:
                locked_until = locked_at + timedelta(seconds=duration)
                locked = now < locked_until
        changed_at = generalized_time(_text(raw, "pwdChangedTime"))
        max_age = int(policy.get("pwdMaxAge", "0") or 0)
        expires_at = changed_at + timedelta(seconds=max_age) if changed_at and max_age else None
        start, end = generalized_time(_text(raw, "pwdStartTime")), generalized_time(_text(raw, "pwdEndTime"))
        return AccountStatus(
            login=login,
            locked=locked,
            disabled=(start is not None and now < start) or (end is not None and now >= end),
            password_expired=expires_at is not None and expires_at <= now,
            must_change=_text(raw, "pwdReset").upper() == "TRUE",
            locked_until=locked_until if locked else None,
            password_expires_at=expires_at,
            password_changed_at=changed_at,
        )

    def _policy(self, connection: Connection, policy_dn: str) -> dict[str, str]:
        if not policy_dn:
            return {}
        connection.search(
            policy_dn, "(objectClass=*)", search_scope=BASE, attributes=["pwdMaxAge", "pwdLockoutDuration"]
        )
        if not connection.response:
            return {}
        raw = connection.response[0].get("raw_attributes", {})
        return {name: _text(raw, name) for name in ("pwdMaxAge", "pwdLockoutDuration")}

    async def groups(self, login: str) -> frozenset[str]:
        def run(connection: Connection) -> frozenset[str]:
            entry = self._find(connection, login)
            if entry is None:
                return frozenset()
            dn = escape_filter_chars(str(entry["dn"]))
            # On AD the matching rule "in chain" also finds groups the user is in through other groups.
            search_filter = (
                f"(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={dn}))"
                if self.is_ad
                else "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
                f"(|(member={dn})(uniqueMember={dn})))"
            )
            connection.search(self._group_base, search_filter, search_scope=SUBTREE, attributes=["cn"])
            return frozenset(
                _text(e["raw_attributes"], "cn") for e in connection.response or [] if e.get("type") == "searchResEntry"
            )

        return await self._service(run)

    # --- Mapped attributes -------------------------------------------------------------------------------------

    async def read_attributes(self, login: str, fields: Sequence[str]) -> dict[str, str]:
        mapped = {field: self._attributes[field] for field in fields if field in self._attributes}

        def run(connection: Connection) -> dict[str, str]:
            entry = self._find(connection, login, list(mapped.values()))
            if entry is None:
                raise NotFound("No such account.")
            return {field: _text(entry["raw_attributes"], attribute) for field, attribute in mapped.items()}

        return await self._service(run)

    async def write_attributes(self, login: str, values: Mapping[str, str]) -> None:
        changes = {
            self._attributes[field]: [(MODIFY_REPLACE, [value] if value else [])]
            for field, value in values.items()
            if field in self._attributes
        }
        if not changes:
            return

        def run(connection: Connection) -> int:
            dn = self._dn(connection, login)
            connection.modify(dn, changes)
            return int(connection.result.get("result", -1))

        code = await self._service(run, idempotent=False)
        if code == INSUFFICIENT_ACCESS:
            logger.error("The service account may not write %s", ", ".join(sorted(changes)))
        if code not in (SUCCESS, NO_SUCH_ATTRIBUTE):
            raise ServiceUnavailable("The directory refused the change.")

    async def ping(self) -> None:
        def run(connection: Connection) -> None:
            connection.search(self._user_base, "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
            if connection.result.get("result") not in (SUCCESS, NO_SUCH_OBJECT):
                raise ServiceUnavailable("The directory does not answer searches.")

        await self._service(run)

    def close(self) -> None:
        self._connector.close()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _text(raw: Mapping[str, Any], name: str) -> str:
    """The first value of an attribute as text ("" when absent); attribute names are matched case-insensitively."""
    for key, values in raw.items():
        if key.lower() == name.lower() and values:
            value = values[0]
            return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return ""


@dataclass(frozen=True, slots=True)
class Check:
    """One line of `ess directory check`: what was tried, whether it worked (None: could not be tried), and why."""

    name: str
    ok: bool | None
    detail: str = ""


def diagnose(directory: LdapDirectory, sample_login: str | None) -> list[Check]:
    """What works with the configured directory. Blocking: run it in a thread. Changes nothing: rights are probed
    with operations the server must refuse either for lack of rights (50) or for a harmless reason."""
    connector = directory.connector
    checks = [_check_uri(connector, index) for index in range(len(connector.uris))]
    if not any(check.ok for check in checks):
        return checks
    try:
        checks += connector.with_service(lambda c: _diagnose_as_service(directory, c, sample_login))
    except ServiceUnavailable as exc:
        checks.append(Check("service account bind", ok=False, detail=exc.message))
    return checks


def _check_uri(connector: DirectoryConnector, index: int) -> Check:
    uri = connector.uris[index]
    try:
        connection = connector.open_uri(index)
    except ServiceUnavailable:
        return Check(f"connect + TLS {uri}", ok=False, detail="no answer, or the certificate was not trusted")
    try:
        cipher = connection.socket.cipher() if hasattr(connection.socket, "cipher") else None
        return Check(f"connect + TLS {uri}", ok=cipher is not None, detail=cipher[1] if cipher else "not encrypted")
    finally:
        connection.unbind()


def _diagnose_as_service(directory: LdapDirectory, connection: Connection, sample_login: str | None) -> list[Check]:
    checks = [Check("service account bind", ok=True, detail=str(connection.user))]
    for name, base in (("user base", directory.user_base), ("group base", directory.group_base)):
        connection.search(base, "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
        checks.append(Check(f"{name} {base}", ok=connection.result.get("result") == SUCCESS))
    if not sample_login:
        checks.append(Check("rights on an account", ok=None, detail="give --login to probe reset/unlock/write rights"))
        return checks
    entry = directory.find_entry(connection, sample_login)
    checks.append(Check(f"find account {sample_login!r}", ok=entry is not None))
    if entry is None:
        return checks
    dn = str(entry["dn"])
    checks += directory.probe_rights(connection, dn)
    return checks
