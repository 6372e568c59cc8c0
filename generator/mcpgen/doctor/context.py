"""What one diagnosis knows: the target, the clients whose rules apply, and what earlier stages learned."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .clients import Client
from .probe import Exchange, Probe
from .report import Status

ACCEPT = "application/json, text/event-stream"
# What Claude sends today; the 2026-07-28 per-request generation is probed separately.
HANDSHAKE_VERSION = "2025-06-18"
CLIENT_NAME = "mcpgen-doctor"


class Auth(StrEnum):
    UNKNOWN = "unknown"
    NONE = "none"  # initialize is served without credentials
    REQUIRED = "required"  # 401: a bearer token is needed; discovery decides whether OAuth is offered


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolves_to_loopback(host: str) -> bool:
    """A name such as localhost.example.test whose every address is loopback (e.g. in /etc/hosts)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(is_loopback(str(address).split("%")[0]) for address in addresses)


def free_loopback_port() -> int:
    """A port nothing listens on now, as Claude Code picks one for its redirect (RFC 8252 §7.3)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def initialize_request(version: str = HANDSHAKE_VERSION, id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": CLIENT_NAME, "version": "1"},
        },
    }


@dataclass
class Context:
    url: str
    probe: Probe
    clients: frozenset[Client]
    auth: Auth = Auth.UNKNOWN
    register: bool = True  # False (--no-register): never POST to the registration endpoint
    # --login: shows the user the authorize URL (opens their browser); None: the doctor never signs in.
    opener: Callable[[str], None] | None = None
    # The initialize sent without credentials, and the one sent as the doctor's client (with --token).
    anonymous: Exchange | None = None
    handshake: Exchange | None = None
    session_id: str | None = None
    stateful: bool = False
    protocol_version: str = HANDSHAKE_VERSION
    # OAuth discovery: documents found and where; offered=False means a bearer scheme without OAuth.
    oauth_offered: bool = False
    prm: dict[str, Any] | None = None
    as_metadata: dict[str, Any] | None = None
    as_url: str | None = None
    client_id: str | None = None
    # --client-id: a client registered beforehand (no DCR), whose redirect is the loopback on callback_port.
    preregistered: bool = False
    callback_port: int | None = None
    registration: dict[str, Any] | None = None
    redirect_uris: list[str] = field(default_factory=list)
    token_response: Exchange | None = None
    # What --login obtained (access token, refresh token), kept to use and then revoke at the end.
    signed_in: tuple[str, str | None] | None = None
    notes: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    loopback_port: int = field(default_factory=lambda: free_loopback_port())

    @property
    def loopback_redirect(self) -> str:
        """Claude Code's redirect: a loopback port of its choosing (--callback-port fixes it)."""
        return f"http://localhost:{self.callback_port or self.loopback_port}/callback"

    @property
    def parts(self) -> SplitResult:
        return urlsplit(self.url)

    @property
    def origin(self) -> str:
        return f"{self.parts.scheme}://{self.parts.netloc}"

    @property
    def https(self) -> bool:
        return self.parts.scheme == "https"

    @property
    def loopback(self) -> bool:
        host = self.parts.hostname or ""
        return is_loopback(host) or resolves_to_loopback(host)

    @property
    def authorized(self) -> bool:
        """The doctor's own requests are served (no auth, or --token accepted)."""
        return self.handshake is not None and self.handshake.status == 200 and self.handshake.result() is not None

    def wants(self, *clients: Client) -> bool:
        return bool(self.clients.intersection(clients))

    def severity(self, *clients: Client) -> Status:
        """FAIL when a selected client needs this; else only a warning."""
        return Status.FAIL if self.wants(*clients) else Status.WARN

    def headers(self, session: bool = True, **extra: str) -> dict[str, str]:
        """The headers of an MCP POST after the handshake (session id and negotiated version)."""
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if session:
            headers["MCP-Protocol-Version"] = self.protocol_version
            if self.session_id:
                headers["Mcp-Session-Id"] = self.session_id
        return {**headers, **{name.replace("_", "-"): value for name, value in extra.items()}}

    def post(
        self, body: Any, headers: dict[str, str] | None = None, url: str | None = None, bearer: bool = True
    ) -> Exchange:
        """POST to the MCP endpoint (bytes are sent as they are); remembers sessions to end them later."""
        sent = headers if headers is not None else self.headers()
        target = url or self.url
        if isinstance(body, bytes):
            sent = {"Content-Type": "application/json", **sent}
            exchange = self.probe.send("POST", target, headers=sent, content=body, bearer=bearer)
        else:
            exchange = self.probe.send("POST", target, headers=sent, json_body=body, bearer=bearer)
        session = exchange.header("mcp-session-id")
        if session and exchange.status == 200 and session not in self.sessions:
            self.sessions.append(session)
        return exchange

    def initialize(
        self, version: str = HANDSHAKE_VERSION, headers: dict[str, str] | None = None, **options: Any
    ) -> Exchange:
        return self.post(initialize_request(version), headers or self.headers(session=False), **options)

    def adopt(self, handshake: Exchange) -> None:
        """Continue as the client whose initialize this was: its session id and negotiated version."""
        self.session_id = handshake.header("mcp-session-id") or None
        self.stateful = self.session_id is not None
        version = (handshake.result() or {}).get("protocolVersion")
        self.protocol_version = version if isinstance(version, str) else HANDSHAKE_VERSION

    def open_session(self) -> bool:
        """A fresh handshake (initialize, then notifications/initialized); False if it failed."""
        handshake = self.initialize()
        if handshake.status != 200 or handshake.result() is None:
            return False
        self.adopt(handshake)
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return True

    def end_sessions(self) -> None:
        """DELETE every session the doctor opened, so it leaves none behind."""
        for session in self.sessions:
            self.probe.send("DELETE", self.url, headers={"Mcp-Session-Id": session}, bearer=True)
        self.sessions.clear()

    def needs_token(self) -> str:
        """Why the checks that need a served initialize are skipped."""
        answer = self.handshake or self.anonymous
        if answer is not None and answer.status not in (None, 401, 200):
            return f"initialize got {answer.status} (see POST initialize), so there is no session to check"
        if self.opener is not None:
            return "the server requires a bearer token and --login obtained none (see sign-in)"
        return (
            "the server requires a bearer token: rerun with --login (OAuth) or --token T "
            "(an API key, or an access token from a client that completed OAuth)"
        )

    def reset_connection(self) -> None:
        """Forget the handshake, to connect again from the start (after --login obtained a token)."""
        self.anonymous = self.handshake = None
        self.auth = Auth.UNKNOWN
        self.session_id = None
        self.stateful = False
        self.protocol_version = HANDSHAKE_VERSION
