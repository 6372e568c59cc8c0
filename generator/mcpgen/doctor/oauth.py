"""Registration, authorization and token: the OAuth steps Claude takes once it found the server.

Guards against a registration endpoint that refuses Claude's exact request (a public client, its
callback, a loopback redirect on any port), an authorize endpoint that redirects to a foreign URL or
lets a request without PKCE through, and token endpoint answers Claude cannot parse (errors that are
not 400 JSON, `token_type` not exactly "Bearer", `expires_in` not an integer).

This is the only place the doctor changes anything on a server: at most one client registration,
named "mcpgen-doctor", deleted again when the server offers RFC 7592 management.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import advice
from .clients import Client
from .context import CLIENT_NAME, Context
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

CLAUDE_AI_CALLBACKS = ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"]
INSPECTOR_CALLBACK = "http://localhost:6274/oauth/callback"
FOREIGN_REDIRECT = "https://mcpgen-doctor.invalid/callback"
BOGUS_CODE = "mcpgen-doctor-bogus-code"


def redirect_uris(ctx: Context) -> dict[Client, list[str]]:
    """The callbacks each selected client registers (Claude Code: a loopback port of its choosing)."""
    uris = {
        Client.CLAUDE_AI: CLAUDE_AI_CALLBACKS,
        Client.CLAUDE_CODE: [ctx.loopback_redirect],
        Client.INSPECTOR: [INSPECTOR_CALLBACK],
    }
    return {client: uris[client] for client in uris if ctx.wants(client)}


def registered_uris(ctx: Context, per_client: dict[Client, list[str]]) -> list[str]:
    """Every selected client's callbacks, and the loopback --login signs in with whichever are selected."""
    uris = [uri for group in per_client.values() for uri in group]
    if ctx.opener is not None and ctx.loopback_redirect not in uris:
        uris.append(ctx.loopback_redirect)
    return uris


def registration_request(uris: list[str]) -> dict[str, Any]:
    """claude.ai's DCR request, byte for byte but for the client name and the redirect URIs."""
    return {
        "client_name": CLIENT_NAME,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "claudeai",
        "redirect_uris": uris,
    }


def _endpoint(ctx: Context, key: str) -> str | None:
    value = (ctx.as_metadata or {}).get(key)
    return value if isinstance(value, str) else None


def _no_oauth(ctx: Context) -> str | None:
    if not ctx.oauth_offered:
        return "no OAuth offered (see discovery)"
    if ctx.as_metadata is None:
        return "no authorization server metadata (see discovery)"
    return None


def registration(ctx: Context) -> list[Check]:
    id, title = "registration.dcr", "dynamic client registration with claude.ai's request"
    if why := _no_oauth(ctx):
        return [skipped("registration.dcr", "client registration", why)]
    if ctx.preregistered:
        # The user's client id stands in for a registration; its redirect is the loopback it was registered with.
        ctx.redirect_uris = [ctx.loopback_redirect]
        return [skipped(id, title, f"--client-id: the client {ctx.client_id} registered beforehand is used")]
    endpoint = _endpoint(ctx, "registration_endpoint")
    if endpoint is None:
        return [skipped(id, title, "no registration_endpoint (see discovery)")]
    if not ctx.register:
        return [skipped(id, title, "--no-register: not tried, so nothing was registered")]
    per_client = redirect_uris(ctx)
    uris = registered_uris(ctx, per_client)
    answer = ctx.probe.send(
        "POST", endpoint, json_body=registration_request(uris), headers={"Accept": "application/json"}
    )
    document = answer.json() if answer.status in (200, 201) else None
    if not isinstance(document, dict) or not isinstance(document.get("client_id"), str):
        return [_refused(answer, uris)]
    ctx.client_id = document["client_id"]
    ctx.redirect_uris = uris
    ctx.registration = document
    found = [passed(id, title, f"{answer.status}, client_id {ctx.client_id} (client_name {CLIENT_NAME})")]
    found.append(_public_client(document))
    for client, wanted in per_client.items():
        found.append(_redirects_kept(client, wanted, document))
    return found


def _refused(answer: Exchange, uris: list[str]) -> Check:
    text = answer.text.lower()
    if "token_endpoint_auth_method" in text or "public client" in text:
        cause = (
            "the registration of a public client (token_endpoint_auth_method none) is refused; Claude is a public "
            "client and cannot keep a secret, so it can never register"
        )
        fix = 'accept token_endpoint_auth_method "none" and require no client authentication at the token endpoint'
    elif "redirect" in text:
        cause = f"a redirect URI Claude uses is refused ({', '.join(uris)})"
        fix = "accept the claude.ai/claude.com callbacks and loopback redirects on any port"
    else:
        cause = "Claude's registration request is refused, so it has no client id and OAuth stops at 'Configure'"
        fix = "accept the request shown in the field guide §2 and answer 201 with a client_id"
    return problem(
        Status.FAIL,
        "registration.dcr",
        "dynamic client registration with claude.ai's request",
        f"{answer.describe()}: {answer.snippet()}",
        cause,
        fix,
        [advice.DCR, advice.REDIRECTS, advice.RFC7591],
        advice.DCR_RESPONSE,
    )


def cleanup(ctx: Context) -> str | None:
    """Delete the doctor's registration when the server allows it (RFC 7592); say what was left behind."""
    if ctx.registration is None:
        return None
    uri, token = ctx.registration.get("registration_client_uri"), ctx.registration.get("registration_access_token")
    name = f"registered one client, client_name {CLIENT_NAME!r}, client_id {ctx.client_id}"
    if isinstance(uri, str) and isinstance(token, str):
        answer = ctx.probe.send("DELETE", uri, headers={"Authorization": f"Bearer {token}"})
        if answer.status in (200, 204):
            return f"{name}; deleted it again (RFC 7592)"
    return f"{name}; the server offers no way to delete it: remove it by hand if registrations are kept"


def _public_client(document: dict[str, Any]) -> Check:
    id, title = "registration.public-client", "registered as a public client"
    method = document.get("token_endpoint_auth_method", "none")
    if method == "none":
        return passed(id, title, "token_endpoint_auth_method none")
    return problem(
        Status.FAIL,
        id,
        title,
        f"token_endpoint_auth_method {method!r}",
        "the server turned Claude's public-client registration into a confidential one: Claude has no secret "
        "to send, so every token request will fail",
        'keep token_endpoint_auth_method "none" for clients that ask for it',
        [advice.DCR, advice.MISTAKES],
        advice.DCR_RESPONSE,
    )


def _redirects_kept(client: Client, wanted: list[str], document: dict[str, Any]) -> Check:
    id, title = f"registration.redirects.{client.value}", f"{CLIENT_NAMES_SHORT[client]} callback registered"
    registered = document.get("redirect_uris")
    if not isinstance(registered, list):
        return problem(
            Status.WARN,
            id,
            title,
            "redirect_uris not echoed in the registration response",
            "RFC 7591 answers with the registered metadata; without it the client cannot tell what was kept",
            "echo the registered client metadata, redirect_uris included",
            [advice.RFC7591],
        )
    missing = [uri for uri in wanted if uri not in registered]
    if not missing:
        return passed(id, title, ", ".join(wanted))
    return problem(
        Status.FAIL,
        id,
        title,
        f"dropped: {', '.join(missing)}",
        f"the registration kept other redirect URIs but not {CLIENT_NAMES_SHORT[client]}'s, so its login ends in "
        "'redirect URI not registered'",
        "register the callbacks exactly as sent: claude.ai/claude.com, loopback on any port, the Inspector's",
        [advice.REDIRECTS, advice.RFC8252],
    )


CLIENT_NAMES_SHORT = {Client.CLAUDE_AI: "claude.ai", Client.CLAUDE_CODE: "Claude Code", Client.INSPECTOR: "Inspector"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(ctx: Context, endpoint: str, **params: str) -> Exchange:
    query = {"response_type": "code", "client_id": ctx.client_id or "", "state": secrets.token_urlsafe(12)}
    query["resource"] = ctx.url
    query.update(params)
    separator = "&" if urlsplit(endpoint).query else "?"
    return ctx.probe.send("GET", endpoint + separator + urlencode(query), headers={"Accept": "text/html"})


def authorization(ctx: Context) -> list[Check]:
    if why := _no_oauth(ctx):
        return [skipped("authorization.checks", "the authorize endpoint", why)]
    endpoint = _endpoint(ctx, "authorization_endpoint")
    if endpoint is None:
        return [skipped("authorization.checks", "the authorize endpoint", "no authorization_endpoint advertised")]
    if ctx.client_id is None:
        return [skipped("authorization.checks", "the authorize endpoint", "no client was registered to try it with")]
    return [foreign_redirect(ctx, endpoint), missing_pkce(ctx, endpoint)]


def foreign_redirect(ctx: Context, endpoint: str) -> Check:
    """An authorize request with an unregistered redirect must end on an error page, never at that URL."""
    id, title = "authorization.foreign-redirect", "a foreign redirect_uri is refused"
    _, challenge = pkce_pair()
    answer = _authorize(
        ctx, endpoint, redirect_uri=FOREIGN_REDIRECT, code_challenge=challenge, code_challenge_method="S256"
    )
    location = answer.header("location")
    if answer.status is not None and 400 <= answer.status < 500:
        return passed(id, title, f"{answer.status} error page")
    if location.startswith(FOREIGN_REDIRECT.rsplit("/", 1)[0]):
        return problem(
            Status.FAIL,
            id,
            title,
            f"{answer.status} to {location}",
            "the authorize endpoint redirects to a redirect_uri the client never registered: an open redirector "
            "that can hand authorization codes (or errors) to anyone",
            "compare redirect_uri with the client's registered URIs (exactly; loopback: any port) and show an "
            "error page, without redirecting, when it does not match",
            [advice.REDIRECTS, advice.RFC6749_AUTHORIZE],
        )
    if answer.status is None or answer.status >= 500:
        return problem(
            Status.FAIL,
            id,
            title,
            answer.describe(),
            "the authorize endpoint fails on an unregistered redirect_uri",
            "answer it with a 400 error page",
            [advice.RFC6749_AUTHORIZE],
        )
    return problem(
        Status.WARN,
        id,
        title,
        f"{answer.status}" + (f" to {location}" if location else " (a page)"),
        "the server shows a page or sends the user on before refusing the redirect_uri, so the doctor cannot see "
        "whether it is refused later",
        "validate client_id and redirect_uri first, and answer a mismatch with an error page",
        [advice.RFC6749_AUTHORIZE],
    )


def missing_pkce(ctx: Context, endpoint: str) -> Check:
    """OAuth 2.1 and MCP require PKCE: an authorize request without a code_challenge must get an error."""
    id, title = "authorization.pkce-required", "a request without PKCE is refused"
    redirect = ctx.redirect_uris[0]
    answer = _authorize(ctx, endpoint, redirect_uri=redirect)
    location = answer.header("location")
    query = parse_qs(urlsplit(location).query)
    if answer.status is not None and 400 <= answer.status < 500:
        return passed(id, title, f"{answer.status} error page")
    if location.startswith(redirect) and "error" in query:
        return passed(id, title, f"redirected back with error={query['error'][0]}")
    if location.startswith(redirect) and "code" in query:
        status = Status.FAIL
        cause = "an authorization code was issued without a code_challenge: PKCE is not enforced"
    elif answer.status is None or answer.status >= 500:
        status = Status.FAIL
        cause = "the authorize endpoint fails on a request without code_challenge"
    else:
        status = Status.WARN
        cause = "the server goes on to a login page without checking for PKCE first; the doctor cannot see whether it is enforced later"
    return problem(
        status,
        id,
        title,
        f"{answer.status}" + (f" to {location}" if location else ""),
        cause,
        "refuse authorize requests without code_challenge (S256) with error=invalid_request, and verify the "
        "code_verifier at the token endpoint",
        [advice.DCR, advice.RFC7636],
    )


def token(ctx: Context) -> list[Check]:
    if why := _no_oauth(ctx):
        return [skipped("token.checks", "the token endpoint", why)]
    endpoint = _endpoint(ctx, "token_endpoint")
    if endpoint is None:
        return [
            problem(
                Status.FAIL,
                "token.endpoint",
                "token endpoint advertised",
                "no token_endpoint in the authorization server metadata",
                "clients cannot exchange the authorization code for a token",
                "advertise token_endpoint",
                [advice.RFC8414],
                advice.AS_METADATA,
            )
        ]
    found = [bogus_code(ctx, endpoint)]
    found += response_shape(ctx)
    return found


def bogus_code(ctx: Context, endpoint: str) -> Check:
    """A made-up code must get 400 JSON with `error` (RFC 6749 §5.2); clients parse that, not a 401 or HTML."""
    id, title = "token.error", "a bogus code gets 400 JSON with error"
    verifier, _ = pkce_pair()
    form = {
        "grant_type": "authorization_code",
        "code": BOGUS_CODE,
        "redirect_uri": ctx.redirect_uris[0] if ctx.redirect_uris else CLAUDE_AI_CALLBACKS[0],
        "client_id": ctx.client_id or CLIENT_NAME,
        "code_verifier": verifier,
        "resource": ctx.url,
    }
    answer = ctx.probe.send("POST", endpoint, form=form, headers={"Accept": "application/json"})
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    if answer.status == 200:
        ctx.token_response = answer
        return problem(
            Status.FAIL,
            id,
            title,
            f"200: {answer.snippet()}",
            "the token endpoint issued a token for an authorization code it never gave out (and without checking "
            "the PKCE verifier)",
            "look the code up, check it was issued to this client and redirect_uri, verify the code_verifier "
            "against the stored S256 challenge, and answer 400 invalid_grant otherwise",
            [advice.TOKEN, advice.RFC6749_ERRORS],
            advice.TOKEN_ERROR,
        )
    unregistered = ctx.client_id is None and answer.status == 401 and error == "invalid_client"
    if (answer.status == 400 or unregistered) and isinstance(error, str):
        return passed(id, title, f"{answer.status}, error={error}")
    return problem(
        Status.WARN,
        id,
        title,
        f"{answer.describe()}: {answer.snippet()}",
        "token errors should be 400 with a JSON body naming the error (invalid_grant for a bad code): clients "
        "show that to the user, while a 401 (stock fastmcp), a 500 or an HTML page reads as a broken server; "
        "a sign-in with a valid code is not affected, so no client breaks here",
        'answer token errors with 400, Content-Type application/json and {"error": ..., "error_description": ...}',
        [advice.RFC6749_ERRORS, advice.TOKEN],
        advice.TOKEN_ERROR,
    )


def response_shape(ctx: Context) -> list[Check]:
    """Claude's token parser: access_token, token_type exactly "Bearer", expires_in an integer."""
    answer = ctx.token_response
    ids = ["token.access-token", "token.token-type", "token.expires-in", "token.refresh-token"]
    if answer is None:
        why = (
            "no token response is observable without a real login, which the doctor never does; the rules: "
            'access_token, token_type exactly "Bearer", expires_in an integer, a refresh_token'
        )
        return [skipped("token.response", "token response format", why)]
    body = answer.json()
    body = body if isinstance(body, dict) else {}
    checks: list[Check] = []
    access, kind, expires = body.get("access_token"), body.get("token_type"), body.get("expires_in")
    rules = [
        (isinstance(access, str) and bool(access), f"access_token {access!r}", "there is no access token to send"),
        (
            kind == "Bearer",
            f"token_type {kind!r}",
            'claude.ai expects token_type exactly "Bearer" (case-sensitive); "bearer" or "JWT" leave it at \'Configure\'',
        ),
        (
            isinstance(expires, int) and not isinstance(expires, bool),
            f"expires_in {expires!r}",
            'expires_in must be an integer number of seconds; a string such as "3600" makes claude.ai fail silently',
        ),
    ]
    titles = ["access_token present", 'token_type is exactly "Bearer"', "expires_in is an integer"]
    # The MCP SDKs (Claude Code and Inspector are built on the TypeScript one) accept "bearer" and a numeric
    # string; claude.ai's parser, per the field guide, does not.
    lenient = "; the MCP SDK clients (Claude Code, Inspector) accept it, claude.ai does not"
    breaks: list[Iterable[Client]] = [(), [Client.CLAUDE_AI], [Client.CLAUDE_AI]]
    for id, title, (ok, detail, cause), broken in zip(ids, titles, rules, breaks, strict=False):
        if ok:
            checks.append(passed(id, title, detail))
        else:
            checks.append(
                problem(
                    Status.FAIL,
                    id,
                    title,
                    detail,
                    cause + (lenient if broken else ""),
                    "return the token response exactly as shown",
                    [advice.TOKEN, advice.CONFIGURE],
                    advice.TOKEN_RESPONSE,
                    breaks=broken,
                )
            )
    if isinstance(body.get("refresh_token"), str):
        checks.append(passed(ids[3], "refresh_token issued", ""))
    else:
        checks.append(
            problem(
                Status.WARN,
                ids[3],
                "refresh_token issued",
                "no refresh_token",
                "without a refresh token the user logs in again whenever the access token expires",
                "issue (and rotate) refresh tokens",
                [advice.TOKEN, advice.MISTAKES],
            )
        )
    return checks
