"""Connections to the directory: failover over several URIs, TLS with CA validation, a pool for the service account,
short-lived connections for user binds. Everything here blocks; callers run it in a worker thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ldap3 import NONE, SIMPLE, SYNC, Connection, Server, Tls
from ldap3.core.exceptions import LDAPCommunicationError, LDAPExceptionError, LDAPStartTLSError

from ess.domain.errors import ServiceUnavailable

logger = logging.getLogger("ess.directory")
T = TypeVar("T")

# ldap3 errors that mean "this connection is gone", as opposed to an answer from the server.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (LDAPCommunicationError, LDAPStartTLSError, ssl.SSLError, OSError)


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    uris: tuple[str, ...]
    start_tls: bool
    ca_file: str
    verify_tls: bool
    connect_timeout: float
    operation_timeout: float
    bind_dn: str
    bind_password: str
    pool_size: int


class DirectoryConnector:
    def __init__(self, settings: ConnectionSettings) -> None:
        if not settings.uris:
            raise ValueError("at least one LDAP URI is needed")
        self._settings = settings
        tls = Tls(
            validate=ssl.CERT_REQUIRED if settings.verify_tls else ssl.CERT_NONE,
            ca_certs_file=settings.ca_file or None,
            version=ssl.PROTOCOL_TLS_CLIENT,
        )
        self._servers = [self._server(uri, tls) for uri in settings.uris]
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def _server(self, uri: str, tls: Tls) -> Server:
        parts = urlsplit(uri)
        if parts.scheme not in {"ldap", "ldaps"} or not parts.hostname:
            raise ValueError(f"not an ldap:// or ldaps:// URI: {uri}")
        use_ssl = parts.scheme == "ldaps"
        return Server(
            parts.hostname,
            port=parts.port or (636 if use_ssl else 389),
            use_ssl=use_ssl,
            tls=tls,
            get_info=NONE,  # no schema download: faster, and nothing depends on it
            connect_timeout=self._settings.connect_timeout,
        )

    @property
    def uris(self) -> tuple[str, ...]:
        return self._settings.uris

    @property
    def pool_size(self) -> int:
        return self._settings.pool_size

    def open_uri(self, index: int) -> Connection:
        """An open, encrypted connection to one particular server (for diagnostics): no failover."""
        server = self._servers[index]
        server.reset_availability()
        connection = Connection(
            server, client_strategy=SYNC, raise_exceptions=False, receive_timeout=self._receive_timeout()
        )
        try:
            connection.open()
            if self._settings.start_tls and not server.ssl and not connection.start_tls():
                raise LDAPStartTLSError("StartTLS refused")
        except CONNECTION_ERRORS as exc:
            _close(connection)
            raise ServiceUnavailable("The directory server does not answer.") from exc
        return connection

    def _receive_timeout(self) -> int:
        return max(1, round(self._settings.operation_timeout))  # ldap3 packs it as an int

    def open(self, user: str | None = None, password: bytes | None = None) -> Connection:
        """An open, encrypted, not yet bound connection to the first server that answers."""
        failures: list[str] = []
        for server in self._servers:
            # ldap3 remembers addresses that failed once and skips them; ESS decides about failover itself.
            server.reset_availability()
            connection = Connection(
                server,
                user=user,
                password=password,
                authentication=SIMPLE if user else None,
                client_strategy=SYNC,
                raise_exceptions=False,
                receive_timeout=self._receive_timeout(),
                auto_referrals=False,
                check_names=True,
            )
            try:
                connection.open()
                # Without it the first request after the TLS handshake (the bind) waits ~40 ms for a delayed ACK.
                connection.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._settings.start_tls and not server.ssl and not connection.start_tls():
                    raise LDAPStartTLSError("StartTLS refused")
            except CONNECTION_ERRORS as exc:
                failures.append(f"{server.host}:{server.port} ({type(exc).__name__})")
                _close(connection)
                continue
            return connection
        logger.warning("No directory server answered: %s", ", ".join(failures))
        raise ServiceUnavailable("The directory is not reachable.")

    @contextmanager
    def user_connection(
        self, dn: str, password: bytes, controls: list[Any] | None = None
    ) -> Iterator[tuple[Connection, bool]]:
        """Bind as a user on a fresh connection; yields (connection, bound). Always closed afterwards, also when
        the bind failed (a failed ldap3 bind leaves its socket open)."""
        connection = self.open(dn, password)
        try:
            try:
                bound = bool(connection.bind(controls=controls))
            except CONNECTION_ERRORS as exc:
                raise ServiceUnavailable("The directory is not reachable.") from exc
            yield connection, bound
        finally:
            _close(connection)

    def _bound_service_connection(self) -> Connection:
        connection = self.open(self._settings.bind_dn, self._settings.bind_password.encode("utf-8"))
        try:
            bound = connection.bind()
        except CONNECTION_ERRORS as exc:
            _close(connection)
            raise ServiceUnavailable("The directory is not reachable.") from exc
        if not bound:
            code = connection.result.get("result")
            _close(connection)
            # A configuration problem, not an outage of the user's making: say so in the log, never the password.
            logger.error("The ESS service account could not bind (LDAP result %s)", code)
            raise ServiceUnavailable("The directory refused the service account.")
        return connection

    def with_service(self, operation: Callable[[Connection], T], *, idempotent: bool = True) -> T:
        """Run `operation` on a pooled service-account connection. When a connection broke (server restarted), the
        whole pool is dropped, and an idempotent operation is tried once more on a fresh connection. Writes are not
        repeated: their first attempt may have reached the server even though the answer was lost."""
        for attempt in (1, 2):
            with self._lock:
                connection = self._idle.pop() if self._idle and attempt == 1 else None
            if connection is None:
                connection = self._bound_service_connection()
            try:
                result = operation(connection)
            except CONNECTION_ERRORS as exc:
                _close(connection)
                self.close()  # the other pooled connections went down with the same server
                if attempt == 2 or not idempotent:
                    raise ServiceUnavailable("The directory is not reachable.") from exc
                continue
            except BaseException:
                _close(connection)
                raise
            with self._lock:
                if len(self._idle) < self._settings.pool_size:
                    self._idle.append(connection)
                    connection = None
            if connection is not None:
                _close(connection)
            return result
        raise ServiceUnavailable("The directory is not reachable.")  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            _close(connection)


def _close(connection: Connection) -> None:
    with contextlib.suppress(LDAPExceptionError, OSError):
        connection.unbind()
    # A broken or never-opened connection may still hold its socket (ldap3 leaves it open on failures).
    sock = getattr(connection, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
