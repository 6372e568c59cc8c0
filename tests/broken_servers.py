"""A small MCP server with an OAuth authorization server, correct by default, that can make one seed mistake.

`make_app(flaw)` builds it; each flaw reproduces one mistake from the field guide, and
tests/test_doctor.py checks that `mcpgen doctor` names it. The server speaks just enough MCP
(initialize, notifications, tools/list, sessions) and OAuth (metadata, DCR, authorize, token) for
the doctor's probes; it never logs anyone in. `serve(app)` runs it with uvicorn on a free
loopback port in a thread.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp

TOKEN = "good-token"
VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25"]

FLAWS = {
    "get-501": "GET /mcp answers 501 Not Implemented (the seed's root cause)",
    "get-hangs": "GET /mcp opens an SSE stream that never sends",
    "exact-accept": "Accept compared as one exact string",
    "initialized-200": "notifications/initialized answered 200 with a body",
    "no-session-id": "stateful, but initialize sends no Mcp-Session-Id",
    "no-prm": "no protected resource metadata (404 at both URLs) while /mcp answers 401",
    "expires-in-string": 'the token endpoint answers with expires_in "3600"',
    "token-type-lowercase": 'the token endpoint answers with token_type "bearer"',
    "no-cors-expose": "CORS without Access-Control-Expose-Headers",
    "dcr-rejects-none": "registration refuses token_endpoint_auth_method none",
    "slash-307": "POST /mcp/ is redirected with a 307",
    "trace-in-400": "malformed JSON answered with a 400 HTML page holding a Python traceback",
    "initialize-stalls": "initialize answered 200 with an event stream that never sends the result",
    "issuer-unreachable": "the resource metadata names an authorization server where nothing listens",
    "host-421": "every MCP request refused with 421 (a Host allowlist that does not know the host clients use)",
}
TRACE_PAGE = """<html><body><h1>400 Bad Request</h1><pre>Traceback (most recent call last):
  File "/srv/broken/.venv/lib/python3.12/site-packages/broken/app.py", line 41, in post
    message = json.loads(body)
json.decoder.JSONDecodeError: Expecting value: line 1 column 39 (char 38)</pre></body></html>"""
# Nothing listens on the discard port of loopback.
NOWHERE = "http://127.0.0.1:9"


def rpc_error(status: int, code: int, message: str, id: Any = None, **headers: str) -> JSONResponse:
    return JSONResponse({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}, status, headers)


def accepts_json(accept: str) -> bool:
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(types & {"application/json", "application/*", "*/*"})


def loopback_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")


async def silence() -> AsyncIterator[bytes]:
    """An event stream that stays open and never sends."""
    while True:
        await asyncio.sleep(3600)
        yield b""


class Server:
    """One server's state: its sessions and its registered clients."""

    def __init__(self, base: str, flaw: str | None) -> None:
        self.base = base
        self.flaw = flaw
        self.sessions: set[str] = set()
        self.clients: dict[str, dict[str, Any]] = {}

    # MCP ---------------------------------------------------------------------------------------

    async def mcp(self, request: Request) -> Response:
        if request.method == "GET":
            return await self.get(request)
        if request.method == "DELETE":
            session = request.headers.get("mcp-session-id", "")
            if session not in self.sessions:
                return rpc_error(404, -32001, "Session not found")
            self.sessions.discard(session)
            return Response(status_code=200)
        if request.url.path.endswith("/") and self.flaw == "slash-307":
            return RedirectResponse(f"{self.base}/mcp", status_code=307)
        return await self.post(request)

    async def get(self, request: Request) -> Response:
        if self.flaw == "get-501":
            return PlainTextResponse("Not Implemented", status_code=501)
        if self.flaw == "get-hangs":
            return StreamingResponse(silence(), media_type="text/event-stream")
        return rpc_error(405, -32000, "Method Not Allowed", Allow="POST, DELETE")

    def challenge(self, request: Request) -> Response:
        params = 'resource_metadata="' + self.base + '/.well-known/oauth-protected-resource/mcp"'
        if self.flaw == "no-prm":
            params = 'realm="mcp"'
        if request.headers.get("authorization"):
            params += ', error="invalid_token"'
        return Response(status_code=401, headers={"WWW-Authenticate": f"Bearer {params}"})

    async def post(self, request: Request) -> Response:
        if self.flaw == "host-421":
            return PlainTextResponse("Invalid Host header", status_code=421)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.challenge(request)
        accept = request.headers.get("accept", "")
        if self.flaw == "exact-accept":
            if accept != "application/json, text/event-stream":
                return rpc_error(406, -32600, "Not Acceptable")
        elif not accepts_json(accept):
            return rpc_error(406, -32600, "Not Acceptable: accept application/json")
        try:
            message = json.loads(await request.body())
        except ValueError:
            if self.flaw == "trace-in-400":
                return HTMLResponse(TRACE_PAGE, status_code=400)
            return rpc_error(400, -32700, "Parse error")
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or "method" not in message:
            return rpc_error(400, -32600, "Invalid Request")
        if message["method"] == "initialize":
            return self.initialize(message)
        session = request.headers.get("mcp-session-id")
        if not session:
            return rpc_error(400, -32000, "Bad Request: missing Mcp-Session-Id")
        if session not in self.sessions:
            return rpc_error(404, -32001, "Session not found")
        if "id" not in message:
            if self.flaw == "initialized-200":
                return JSONResponse({"jsonrpc": "2.0", "result": {}})
            return Response(status_code=202)
        if message["method"] == "tools/list":
            tool = {"name": "echo", "description": "Echo.", "inputSchema": {"type": "object"}}
            return JSONResponse({"jsonrpc": "2.0", "id": message["id"], "result": {"tools": [tool]}})
        return rpc_error(200, -32601, "Method not found", message["id"])

    def initialize(self, message: dict[str, Any]) -> Response:
        if self.flaw == "initialize-stalls":
            return StreamingResponse(silence(), media_type="text/event-stream")
        asked = (message.get("params") or {}).get("protocolVersion")
        result = {
            "protocolVersion": asked if asked in VERSIONS else VERSIONS[-1],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "broken", "version": "0"},
        }
        session = secrets.token_hex(8)
        self.sessions.add(session)
        headers = {} if self.flaw == "no-session-id" else {"Mcp-Session-Id": session}
        return JSONResponse({"jsonrpc": "2.0", "id": message.get("id"), "result": result}, headers=headers)

    # OAuth -------------------------------------------------------------------------------------

    async def protected_resource(self, request: Request) -> Response:
        issuer = NOWHERE if self.flaw == "issuer-unreachable" else self.base
        return JSONResponse({"resource": f"{self.base}/mcp", "authorization_servers": [issuer]})

    async def authorization_server(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.base,
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "registration_endpoint": f"{self.base}/register",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
            }
        )

    async def register(self, request: Request) -> Response:
        metadata = json.loads(await request.body())
        if self.flaw == "dcr-rejects-none" and metadata.get("token_endpoint_auth_method") == "none":
            error = "token_endpoint_auth_method 'none' is not supported; use client_secret_basic"
            return JSONResponse({"error": "invalid_client_metadata", "error_description": error}, 400)
        for uri in metadata.get("redirect_uris", []):
            if not (uri.startswith(("https://claude.ai/", "https://claude.com/")) or loopback_redirect(uri)):
                return JSONResponse({"error": "invalid_redirect_uri", "error_description": uri}, 400)
        client = {**metadata, "client_id": secrets.token_hex(8), "client_id_issued_at": int(time.time())}
        self.clients[client["client_id"]] = client
        return JSONResponse(client, 201)

    def redirect_allowed(self, client: dict[str, Any], uri: str) -> bool:
        registered: list[str] = client["redirect_uris"]
        if loopback_redirect(uri):
            return any(urlsplit(r)._replace(netloc="") == urlsplit(uri)._replace(netloc="") for r in registered)
        return uri in registered

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        client = self.clients.get(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        if client is None or not self.redirect_allowed(client, redirect):
            return HTMLResponse("<h1>Invalid client or redirect_uri</h1>", status_code=400)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            error = {
                "error": "invalid_request",
                "error_description": "PKCE S256 required",
                "state": query.get("state", ""),
            }
            return RedirectResponse(f"{redirect}?{urlencode(error)}", status_code=302)
        return HTMLResponse("<h1>Log in</h1>")

    async def token(self, request: Request) -> Response:
        if self.flaw == "expires-in-string":
            return JSONResponse(
                {"access_token": "t", "token_type": "Bearer", "expires_in": "3600", "refresh_token": "r"}
            )
        if self.flaw == "token-type-lowercase":
            return JSONResponse({"access_token": "t", "token_type": "bearer", "expires_in": 3600, "refresh_token": "r"})
        return JSONResponse({"error": "invalid_grant", "error_description": "unknown code"}, 400)


def make_app(base: str, flaw: str | None = None) -> ASGIApp:
    """The server at `base` (its public URL), correct except for `flaw` (a key of FLAWS)."""
    assert flaw is None or flaw in FLAWS, flaw
    server = Server(base, flaw)
    routes = [
        Route("/mcp", server.mcp, methods=["GET", "POST", "DELETE"]),
        Route("/mcp/", server.mcp, methods=["GET", "POST", "DELETE"]),
        Route("/.well-known/oauth-authorization-server", server.authorization_server),
        Route("/register", server.register, methods=["POST"]),
        Route("/authorize", server.authorize),
        Route("/token", server.token, methods=["POST"]),
    ]
    if flaw != "no-prm":
        routes.append(Route("/.well-known/oauth-protected-resource", server.protected_resource))
        routes.append(Route("/.well-known/oauth-protected-resource/mcp", server.protected_resource))
    app = Starlette(routes=routes)
    app.router.redirect_slashes = False
    expose = [] if flaw == "no-cors-expose" else ["Mcp-Session-Id", "WWW-Authenticate"]
    return CORSMiddleware(
        app,
        allow_origins=["https://claude.ai", "https://claude.com", "http://localhost:6274"],
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Mcp-Session-Id",
            "MCP-Protocol-Version",
            "Mcp-Method",
            "Mcp-Name",
        ],
        expose_headers=expose,
    )


@contextmanager
def serve(flaw: str | None = None) -> Iterator[str]:
    """Run the server with `flaw` on a free loopback port in a thread; yields its MCP URL."""
    sock = socket.socket()
    # Accepted connections inherit it; without it every answer waits 40 ms for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        make_app(base, flaw), log_level="warning", access_log=False, timeout_graceful_shutdown=1, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {flaw or 'reference'} server did not start")
        time.sleep(0.02)
    try:
        yield f"{base}/mcp"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
