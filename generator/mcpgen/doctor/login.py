"""--login: a real sign-in as Claude Code does it, then the token's use, one refresh and its revocation.

The authorization code flow of RFC 6749 §4.1 with PKCE S256 (RFC 7636) and the `resource` of
RFC 8707, redirected to a loopback port (RFC 8252 §7.3) where the doctor listens; the user signs in
in their browser. The token response is then checked by the token stage (Claude's parser: token_type
exactly "Bearer", integer expires_in, a refresh_token), the access token is used for initialize and
tools/list, and refreshed once (RFC 6749 §6). `run.diagnose` then runs the transport, session and
protocol checks again with the token, and at the end `revoke` revokes what was obtained (RFC 7009)
where the server offers it. Without --login this stage is skipped: the doctor never signs in by itself.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import advice
from .context import Context, initialize_request
from .oauth import pkce_pair
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

# How long the user has to sign in once the browser opened.
SIGN_IN_SECONDS = 300.0
Opener = Callable[[str], None]


class _Callback(BaseHTTPRequestHandler):
    """The loopback redirect target: keeps the query of the first request to the callback path."""

    server: _CallbackServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.server.path:
            self.send_error(404)
            return
        self.server.query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        body = b"mcpgen doctor: signed in. You can close this window."
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the report says what happened."""


class _CallbackServer(HTTPServer):
    def __init__(self, port: int, path: str) -> None:
        super().__init__(("127.0.0.1", port), _Callback)
        self.path = path
        self.query: dict[str, str] = {}
        self.arrived = threading.Event()


def _loopback_redirect(ctx: Context) -> str | None:
    for uri in ctx.redirect_uris:
        host = urlsplit(uri).hostname
        if urlsplit(uri).scheme == "http" and host in ("localhost", "127.0.0.1"):
            return uri
    return None


def checks(ctx: Context) -> list[Check]:
    id, title = "login.sign-in", "sign-in as Claude Code does it"
    if ctx.opener is None:
        return [skipped(id, title, "not tried: --login signs in through your browser")]
    meta = ctx.as_metadata or {}
    authorize, token = meta.get("authorization_endpoint"), meta.get("token_endpoint")
    if not ctx.oauth_offered or not isinstance(authorize, str) or not isinstance(token, str):
        return [skipped(id, title, "no authorization and token endpoints (see discovery)")]
    redirect = _loopback_redirect(ctx)
    if ctx.client_id is None or redirect is None:
        return [skipped(id, title, "no client registered with Claude Code's loopback redirect (see registration)")]
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": ctx.client_id,
        "redirect_uri": redirect,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "resource": ctx.url,
    }
    scopes = (ctx.prm or {}).get("scopes_supported")
    if isinstance(scopes, list) and scopes:
        query["scope"] = " ".join(map(str, scopes))
    parts = urlsplit(redirect)
    try:
        callback = _CallbackServer(parts.port or 80, parts.path or "/")
    except OSError as exc:
        return [skipped(id, title, f"cannot listen on {redirect}: {exc}")]
    thread = threading.Thread(target=callback.serve_forever, daemon=True)
    thread.start()
    try:
        ctx.opener(authorize + ("&" if urlsplit(authorize).query else "?") + urlencode(query))
        arrived = callback.arrived.wait(SIGN_IN_SECONDS)
    finally:
        callback.shutdown()
        callback.server_close()
    returned = callback.query
    if not arrived or returned.get("state") != state or "code" not in returned:
        detail = "no redirect back within the time allowed" if not arrived else f"redirected back with {returned}"
        return [
            problem(
                Status.FAIL,
                id,
                title,
                detail,
                "the sign-in did not end at the client's loopback redirect with a code and its state, so Claude "
                "Code never gets a token",
                "after sign-in and consent, redirect to the registered redirect_uri (any loopback port) with code "
                "and the client's state",
                [advice.REDIRECTS, advice.RFC8252],
            )
        ]
    found = [passed(id, title, f"code received at {redirect}")]
    form = {
        "grant_type": "authorization_code",
        "code": returned["code"],
        "redirect_uri": redirect,
        "client_id": ctx.client_id,
        "code_verifier": verifier,
        "resource": ctx.url,
    }
    answer = ctx.probe.send("POST", token, form=form, headers={"Accept": "application/json"})
    tokens = answer.json() if answer.status == 200 else None
    access = tokens.get("access_token") if isinstance(tokens, dict) else None
    if not isinstance(tokens, dict) or not isinstance(access, str):
        found.append(
            problem(
                Status.FAIL,
                "login.exchange",
                "the code is exchanged for a token",
                f"{answer.describe()}: {answer.snippet()}",
                "the token endpoint refuses the code it just issued (with its PKCE verifier and resource)",
                "accept the code once, for the client and redirect_uri it was issued to, with the S256 verifier",
                [advice.TOKEN, advice.RFC7636],
                advice.TOKEN_RESPONSE,
            )
        )
        return found
    ctx.token_response = answer
    found.append(passed("login.exchange", "the code is exchanged for a token", f"{answer.status}"))
    found.append(_use(ctx, access))
    refresh = tokens.get("refresh_token")
    refresh = refresh if isinstance(refresh, str) else None
    if refresh is not None:
        check, new_access, new_refresh = _refresh(ctx, token, refresh)
        found.append(check)
        access, refresh = new_access or access, new_refresh or refresh
    # run.diagnose connects again with this token, and revokes it at the end.
    ctx.signed_in = (access, refresh)
    return found


def _use(ctx: Context, access: str) -> Check:
    """The new access token opens a session and lists the tools; the session is ended again."""
    id, title = "login.token-works", "the access token is accepted"
    headers = {**ctx.headers(session=False), "Authorization": f"Bearer {access}"}
    handshake = ctx.probe.send("POST", ctx.url, headers=headers, json_body=initialize_request())
    session = handshake.header("mcp-session-id")
    listed: Exchange | None = None
    if handshake.status == 200 and handshake.result() is not None:
        version = str((handshake.result() or {}).get("protocolVersion", ""))
        follow = {**headers, "MCP-Protocol-Version": version, **({"Mcp-Session-Id": session} if session else {})}
        ctx.probe.send(
            "POST", ctx.url, headers=follow, json_body={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        listed = ctx.probe.send(
            "POST", ctx.url, headers=follow, json_body={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        )
        if session:
            ctx.probe.send("DELETE", ctx.url, headers={"Authorization": f"Bearer {access}", "Mcp-Session-Id": session})
    if listed is not None and isinstance((listed.result() or {}).get("tools"), list):
        return passed(id, title, f"initialize and tools/list: {len((listed.result() or {})['tools'])} tools")
    failed = listed if listed is not None else handshake
    return problem(
        Status.FAIL,
        id,
        title,
        f"{failed.describe()}: {failed.snippet()}",
        "the server refuses the token its own authorization server just issued (audience or resource, issuer, "
        "or signature not as the server expects)",
        "validate tokens against the issuer and the resource this server advertises",
        [advice.AUTH_SPEC],
    )


def _refresh(ctx: Context, endpoint: str, refresh: str) -> tuple[Check, str | None, str | None]:
    """One refresh (RFC 6749 §6): a new access token, and the rotated refresh token if the server rotates."""
    id, title = "login.refresh", "the refresh token is honoured once"
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": ctx.client_id or "",
        "resource": ctx.url,
    }
    answer = ctx.probe.send("POST", endpoint, form=form, headers={"Accept": "application/json"})
    body = answer.json() if answer.status == 200 else None
    access = body.get("access_token") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(access, str) and body.get("token_type") == "Bearer":
        rotated = body.get("refresh_token")
        return (
            passed(id, title, f"{answer.status}, new access token"),
            access,
            rotated if isinstance(rotated, str) else None,
        )
    return (
        problem(
            Status.FAIL,
            id,
            title,
            f"{answer.describe()}: {answer.snippet()}",
            "Claude refreshes when the access token expires; a refused refresh sends the user back to sign-in "
            '(and a token_type other than exactly "Bearer" is not parsed)',
            "honour refresh_token grants for the client they were issued to, and answer as the code exchange does",
            [advice.TOKEN],
            advice.TOKEN_RESPONSE,
        ),
        None,
        None,
    )


def revoke(ctx: Context) -> Check | None:
    """Leave nothing usable behind: revoke the refresh token (and the access token) where RFC 7009 is offered."""
    if ctx.signed_in is None:
        return None
    access, refresh = ctx.signed_in
    id, title = "login.revoke", "what the doctor obtained is revoked"
    endpoint = (ctx.as_metadata or {}).get("revocation_endpoint")
    if not isinstance(endpoint, str):
        return skipped(id, title, "no revocation_endpoint: the doctor's tokens expire on their own")
    answers = [
        ctx.probe.send(
            "POST",
            endpoint,
            form={"token": value, "token_type_hint": hint, "client_id": ctx.client_id or ""},
        )
        for value, hint in ((refresh, "refresh_token"), (access, "access_token"))
        if value
    ]
    if all(answer.status == 200 for answer in answers):
        return passed(id, title, f"{len(answers)} tokens revoked")
    return problem(
        Status.WARN,
        id,
        title,
        "; ".join(f"{answer.describe()}: {answer.snippet(100)}" for answer in answers),
        "RFC 7009 answers 200 to a revocation (even for a token already invalid); the doctor's tokens may still "
        "be valid until they expire",
        "answer revocation requests with 200 and invalidate the token",
        [advice.TOKEN],
    )
