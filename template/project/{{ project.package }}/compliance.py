"""The HTTP behaviour real MCP clients depend on, in front of fastmcp's transport.

Each rule fixes a way a client gives up on a stock server, and each has a test in
tests/test_transport.py:

- CORS is the outermost layer, so browser clients (MCP Inspector) can read every answer,
  401s included, and `Mcp-Session-Id` / `WWW-Authenticate` are exposed to them.
- `GET /mcp` answers 405 with an `Allow` header: this server offers no SSE stream, and a
  501, a 400 or a stream that never sends makes clients drop the connection.
- `/mcp/` is served as `/mcp` (a 307 loses the POST body in some clients).
- Host and Origin are checked against PUBLIC_URL (DNS-rebinding protection) rather than
  the SDK's localhost-only default, which answers 421 to a real hostname.
- Bodies are read once, here, on every path: counted as they stream, so one past MAX_BODY_BYTES
  is a 413 whether or not it declares a Content-Length, before anything buffers it whole. On
  /mcp: wrong content type 415, malformed JSON -32700 (nested too deeply too), not JSON-RPC
  -32600, so the transport only ever sees well-formed messages. Elsewhere, JSON nested too deeply
  for Python's parser is an OAuth `invalid_request` (`invalid_client_metadata` at /register).
- `/.well-known/oauth-protected-resource` serves the document of `/mcp` (RFC 9728 §3.1
  puts it at the path-suffixed URL; several clients look only at the root).
- Under a path prefix (PUBLIC_URL=https://host/tools), requests reach the app with or without
  the prefix, so the proxy may pass paths through or strip them.
- No request ever gets a stack trace: an unexpected error is a JSON-RPC -32603.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import observe
from .settings import is_loopback

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000

CLAUDE_ORIGINS = ("https://claude.ai", "https://claude.com")
LOOPBACK_ORIGIN = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
PRM_PATH = "/.well-known/oauth-protected-resource"
MCP_HEADERS = ["Mcp-Session-Id", "WWW-Authenticate", "MCP-Protocol-Version", "X-Request-Id"]


def jsonrpc_error(status: int, code: int, message: str, id: Any = None, **headers: str) -> JSONResponse:
    body = {"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def invalid_message(message: Any) -> str | None:
    """Why `message` is not a JSON-RPC 2.0 message, or None if it is one."""
    if not isinstance(message, dict):
        return "a JSON-RPC message must be an object"
    if message.get("jsonrpc") != "2.0":
        return 'jsonrpc must be "2.0"'
    has_id = message.get("id") is not None
    if has_id and (isinstance(message["id"], bool) or not isinstance(message["id"], str | int)):
        return "id must be a string or an integer"
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            return "method must be a non-empty string"
        if "params" in message and not isinstance(message["params"], dict):
            return "params must be an object"
        return None
    if has_id and ("result" in message) != ("error" in message):
        return None
    return "a request needs a method"


class OriginPolicy:
    """Which Host headers and browser origins this server answers on /mcp."""

    def __init__(self, public_url: str, extra_hosts: Iterable[str] = (), extra_origins: Iterable[str] = ()) -> None:
        parts = urlsplit(public_url)
        default_port = "443" if parts.scheme == "https" else "80"
        host = parts.netloc.lower()
        self.hosts = {host, *extra_hosts}
        if ":" not in host.rsplit("]", 1)[-1]:
            self.hosts.add(f"{host}:{default_port}")
        # An origin has no path, even when PUBLIC_URL has a prefix.
        self.origins = [*CLAUDE_ORIGINS, f"{parts.scheme}://{parts.netloc}", *extra_origins]

    def host_allowed(self, host: str) -> bool:
        host = host.lower()
        name = host[1 : host.find("]")] if host.startswith("[") else host.split(":", 1)[0]
        # Loopback hosts cannot come from a DNS-rebinding attack, and local tools use them.
        return host in self.hosts or is_loopback(name)

    def origin_allowed(self, origin: str) -> bool:
        return origin in self.origins or re.fullmatch(LOOPBACK_ORIGIN, origin) is not None


class McpEndpoint:
    """Guards and normalises requests to the MCP endpoint; everything else passes through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: OriginPolicy,
        stateless: bool,
        max_body_bytes: int,
        path: str = "/mcp",
        prefix: str = "",
    ) -> None:
        self.app = app
        self.policy = policy
        self.path = path
        # RFC 9728 §3.1: the metadata of PUBLIC_URL/mcp sits at the well-known name plus that URL's path.
        self.metadata_path = PRM_PATH + prefix + path
        self.max_body_bytes = max_body_bytes
        # Sessions end with DELETE; stateless servers have none to end.
        self.allow = "POST" if stateless else "POST, DELETE"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        body = b""
        if "transfer-encoding" in headers or headers.get("content-length", "0") != "0":
            # Every endpoint, not just /mcp: registration and token requests are small too. The
            # body is read here, counted as it streams, before anything else can buffer it whole.
            length = headers.get("content-length", "")
            declared_too_large = length.isdigit() and int(length) > self.max_body_bytes
            read = None if declared_too_large else await read_body(receive, self.max_body_bytes)
            if read is None:
                message = f"Request body larger than {self.max_body_bytes} bytes"
                return await jsonrpc_error(413, INVALID_REQUEST, message)(scope, receive, send)
            body = read
            receive = replay(body, receive)
        path = scope["path"]
        if path == PRM_PATH:
            scope = {**scope, "path": self.metadata_path, "raw_path": self.metadata_path.encode()}
        if path == self.path + "/":
            scope = {**scope, "path": self.path, "raw_path": self.path.encode()}
        if scope["path"] != self.path:
            if body and too_deep(body, headers):
                # The OAuth endpoints parse JSON with recursion that a deep enough body exhausts.
                error = "invalid_client_metadata" if scope["path"].endswith("/register") else "invalid_request"
                description = "JSON nested too deeply"
                response = JSONResponse({"error": error, "error_description": description}, status_code=400)
                return await response(scope, receive, send)
            return await self.app(scope, receive, send)

        host = headers.get("host", "")
        if not self.policy.host_allowed(host):
            message = f"Host {host!r} is not this server's; set PUBLIC_URL (or ALLOWED_HOSTS) to the URL clients use"
            return await jsonrpc_error(421, SERVER_ERROR, message)(scope, receive, send)
        origin = headers.get("origin")
        if origin and not self.policy.origin_allowed(origin):
            message = f"Origin {origin!r} is not allowed; add it to ALLOWED_ORIGINS"
            return await jsonrpc_error(403, SERVER_ERROR, message)(scope, receive, send)

        method = scope["method"]
        if method == "POST":
            return await self._post(scope, receive, send, headers, body)
        if method == "DELETE" and "DELETE" in self.allow:
            return await self.app(scope, receive, send)
        message = f"Method Not Allowed: send JSON-RPC messages with POST ({method} has no meaning here)"
        response = jsonrpc_error(405, SERVER_ERROR, message, Allow=self.allow)
        await response(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send, headers: Headers, body: bytes) -> None:
        if media_type(headers) != "application/json":
            shown = media_type(headers) or "(none)"
            message = f"Unsupported Media Type {shown!r}: send Content-Type: application/json"
            return await jsonrpc_error(415, INVALID_REQUEST, message)(scope, receive, send)
        try:
            message = json.loads(body)
        except ValueError as exc:
            return await jsonrpc_error(400, PARSE_ERROR, f"Parse error: {exc}")(scope, receive, send)
        except RecursionError:
            return await jsonrpc_error(400, PARSE_ERROR, "Parse error: nested too deeply")(scope, receive, send)
        if isinstance(message, list):
            problem: str | None = "batches are not supported (removed in MCP 2025-06-18); send one message per POST"
        else:
            problem = invalid_message(message)
        if problem:
            id = message.get("id") if isinstance(message, dict) else None
            id = id if isinstance(id, str | int) and not isinstance(id, bool) else None
            return await jsonrpc_error(400, INVALID_REQUEST, f"Invalid Request: {problem}", id)(scope, receive, send)
        if "method" in message:
            params = message.get("params") or {}
            tool = params.get("name") if message["method"] == "tools/call" else None
            observe.note(mcp_method=message["method"], tool=tool if isinstance(tool, str) else None)
        if "method" in message and message.get("id", 0) is None:
            # Some clients send notifications with "id": null; JSON-RPC says no id at all.
            del message["id"]
            body = json.dumps(message).encode()
        await self.app(scope, replay(body, receive), _without_failed_sessions(send))


def _without_failed_sessions(send: Send) -> Send:
    """A refused request opened no session: drop the Mcp-Session-Id the transport puts on some 4xx."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] >= 400:
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"mcp-session-id"]
            message = {**message, "headers": headers}
        await send(message)

    return sending


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def too_deep(body: bytes, headers: Headers) -> bool:
    """Whether a JSON body nests deeper than Python's parser can follow (about 1,000 levels)."""
    if media_type(headers) != "application/json":
        return False
    try:
        json.loads(body)
    except RecursionError:
        return True
    except ValueError:
        pass  # malformed: the endpoint answers that itself
    return False


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A `receive` that yields the already-read body, then waits on the real connection."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class ErrorShield:
    """Turns an unexpected exception into a JSON-RPC error; the trace goes to the log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not started:
                await jsonrpc_error(500, INTERNAL_ERROR, "Internal error")(scope, receive, send)


class StripPrefix:
    """Serves `/tools/mcp` as `/mcp` when PUBLIC_URL ends in /tools; unprefixed paths pass as they are.

    Well-known URLs stay at the root, where RFC 8414 and RFC 9728 put them.
    """

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
            path = path[len(self.prefix) :] or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


class ClientIpHeader:
    """Hands the address in the proxy's own header (Fly-Client-IP) to uvicorn's proxy middleware as the
    only X-Forwarded-For entry; that middleware believes it only from FORWARDED_ALLOW_IPS."""

    def __init__(self, app: ASGIApp, header: str) -> None:
        self.app = app
        self.header = header.lower().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = [value for name, value in scope["headers"] if name == self.header]
            if found:
                headers = [(name, value) for name, value in scope["headers"] if name != b"x-forwarded-for"]
                scope = {**scope, "headers": [*headers, (b"x-forwarded-for", found[-1])]}
        await self.app(scope, receive, send)


def behind_proxy(app: ASGIApp, trusted: str, client_ip_header: str = "") -> ASGIApp:
    """The client's address and scheme as the proxy in front saw them, from that proxy only.

    uvicorn (0.35 and later) walks X-Forwarded-For from the right and takes the first address that is
    not a trusted proxy: what a client writes there itself sits to the left of what the proxy adds,
    so it is never reached. "*" in `trusted` would take the leftmost entry, the client's own claim.
    """
    # uvicorn types ASGI apps more narrowly than Starlette; they are the same callables.
    forwarded = cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=trusted))
    return ClientIpHeader(forwarded, client_ip_header) if client_ip_header else forwarded


def wrap(app: ASGIApp, *, policy: OriginPolicy, stateless: bool, max_body_bytes: int, prefix: str = "") -> ASGIApp:
    """The compliance layers around fastmcp's app, CORS outermost."""
    guarded = McpEndpoint(app, policy=policy, stateless=stateless, max_body_bytes=max_body_bytes, prefix=prefix)
    return CORSMiddleware(
        ErrorShield(guarded),
        allow_origins=policy.origins,
        allow_origin_regex=LOOPBACK_ORIGIN,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        # Any request header: clients add their own (Mcp-Method, Mcp-Name, tracing) and no cookies are used.
        allow_headers=["*"],
        expose_headers=MCP_HEADERS,
        max_age=86400,
    )
