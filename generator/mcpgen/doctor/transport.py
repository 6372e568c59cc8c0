"""Transport: can a client reach the endpoint and agree on how to talk (Streamable HTTP, POST only)?

Guards against the failures that end a connection before any MCP message is understood: the 501
(or 400, or silent stream) that makes Claude's GET fallback give up, Accept headers compared as one
exact string, a 307 on `/mcp/`, a Host allowlist that refuses the real hostname, plain http where
claude.ai needs https.
"""

from __future__ import annotations

from . import advice
from .clients import CLAUDE, Client
from .context import Auth, Context
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

LENIENT_ACCEPTS = {
    "*/*": "*/*",
    "q-values": "application/json;q=0.9, text/event-stream;q=0.8",
    "reversed order": "text/event-stream, application/json",
}
# Long enough for any server to start an answer; short enough that a stream that never sends is caught.
HANG_SECONDS = 2.0


def checks(ctx: Context) -> list[Check]:
    found = [reachable(ctx)]
    if ctx.anonymous is None or ctx.anonymous.status is None:
        return found
    if ctx.probe.token:
        found.append(token_accepted(ctx))
    found += [https(ctx), get_is_405(ctx), bad_accept(ctx), missing_accept(ctx), lenient_accept(ctx)]
    found.append(trailing_slash(ctx))
    return found


def reachable(ctx: Context) -> Check:
    """The first thing every client does: POST initialize. Anything but 200 or 401 stops it there."""
    id, title = "transport.initialize", "POST initialize"
    first = ctx.anonymous = ctx.initialize(bearer=False)
    ctx.handshake = ctx.initialize() if ctx.probe.token else first
    if first.status is None:
        return problem(
            Status.FAIL,
            id,
            title,
            first.describe(),
            "nothing answered at this URL, so no client can connect",
            "check the URL (the MCP endpoint, usually ending in /mcp), that the server runs and that its port "
            "is reachable from here",
        )
    if first.status == 200 and first.result() is not None:
        ctx.auth = Auth.NONE
        ctx.handshake = first
    if ctx.authorized and ctx.handshake is not None:
        ctx.adopt(ctx.handshake)
    if first.status == 401:
        ctx.auth = Auth.REQUIRED
        return passed(id, title, "401: credentials required (see discovery)")
    if ctx.auth is Auth.NONE:
        return passed(id, title, "200 without credentials (no auth)")
    if _stalled(first):
        return problem(
            Status.FAIL, id, title, f"{first.describe()}: {first.error}", *_refusal(first), [advice.TRANSPORT_SPEC]
        )
    detail = f"{first.describe()}: {first.snippet()}"
    return problem(Status.FAIL, id, title, detail, *_refusal(first), [advice.TRANSPORT_SPEC])


def _stalled(answer: Exchange) -> tuple[str, str] | None:
    """Cause and fix when initialize got a 200 whose body never brought the result (a stalled SSE answer)."""
    if answer.status != 200 or answer.result() is not None or not answer.error:
        return None
    return (
        f"initialize was answered 200 ({answer.media_type or 'no content type'}), but the JSON-RPC result did not "
        f"arrive: {answer.error}; clients time out here",
        "send the initialize result on the stream right away (or answer with application/json), and check that "
        "no proxy buffers text/event-stream (nginx: proxy_buffering off)",
    )


def _refusal(answer: Exchange) -> tuple[str, str]:
    """Cause and fix for an initialize that got neither a result nor a 401."""
    if stalled := _stalled(answer):
        return stalled
    status = answer.status or 0
    if status == 421:
        return (
            "the server refuses this Host header (421 Misdirected Request): a DNS-rebinding allowlist that only "
            "knows localhost, the MCP SDK's default when it binds 127.0.0.1",
            "allow the hostname clients use (the SDK's transport security settings, or build the allowlist from "
            "your public URL)",
        )
    if 300 <= status < 400:
        return (
            f"initialize is redirected to {answer.header('location') or '(no Location)'}; clients do not follow "
            "redirects on POST reliably",
            "give clients the final URL, or serve the endpoint at this one",
        )
    if status in (404, 405):
        return (
            "there is no MCP endpoint that takes POST at this URL",
            "point the doctor (and your clients) at the Streamable HTTP endpoint, usually https://host/mcp",
        )
    if status == 403:
        return (
            "initialize is refused with 403; clients expect 401 with WWW-Authenticate to start OAuth",
            "answer unauthenticated requests with 401 and a WWW-Authenticate: Bearer header",
        )
    if status >= 500:
        return ("the server failed on a plain initialize", "read the server's log for the error behind this answer")
    return (
        f"initialize got {status} instead of a JSON-RPC result, so the connection ends here",
        "answer initialize with 200 and a JSON-RPC result (or 401 when a token is needed)",
    )


def token_accepted(ctx: Context) -> Check:
    source = "--login token" if ctx.signed_in else "--token"
    id, title = "transport.token", f"the {source} is accepted"
    answer = ctx.handshake
    if answer is None or answer.status is None:
        return skipped(id, title, "no answer to the authorized initialize")
    if ctx.auth is Auth.NONE:
        return passed(id, title, "the server needs no token (it was sent anyway)")
    if ctx.authorized:
        return passed(id, title, "200 with the token")
    first = ctx.anonymous
    if first is not None and first.status == answer.status and answer.status not in (200, 401):
        return skipped(id, title, f"initialize got {answer.status} with or without it (see POST initialize)")
    if stalled := _stalled(answer):
        detail = f"{answer.describe()}: {answer.error}"
        return problem(Status.FAIL, id, title, detail, *stalled, [advice.TRANSPORT_SPEC])
    return problem(
        Status.FAIL,
        id,
        title,
        f"{answer.describe()}: {answer.snippet()}",
        f"the server refuses the {source}, so none of the checks that need a session can run",
        "pass a valid key or access token (a fresh one: access tokens expire)",
    )


def https(ctx: Context) -> Check:
    """claude.ai connects from Anthropic's servers, over the internet, and only to https URLs."""
    id, title = "transport.https", "https for claude.ai"
    if not ctx.wants(Client.CLAUDE_AI):
        return skipped(id, title, "claude.ai is not among the selected clients")
    if ctx.https:
        return passed(id, title, "the URL is https")
    if ctx.loopback:
        detail = f"{ctx.parts.hostname} is loopback: fine for local tests; claude.ai needs the deployed https URL"
        if ctx.clients == {Client.CLAUDE_AI}:
            cause = "claude.ai reaches servers from the internet, so it can never connect to a loopback URL"
            fix = "deploy behind https and run the doctor against the public URL"
            return problem(Status.WARN, id, title, detail, cause, fix, [advice.REDIRECTS])
        return skipped(id, title, detail)
    return problem(
        Status.FAIL,
        id,
        title,
        f"{ctx.url} is plain http on a public host",
        "claude.ai only connects to https servers, and tokens would cross the network in clear text",
        "serve behind a TLS-terminating proxy (with forwarded headers trusted) and use the https URL",
        [advice.AUTH_SPEC],
    )


def get_is_405(ctx: Context) -> Check:
    """What a client's GET gets: 405 with Allow, or an SSE stream (for a stateful server: with the session id).

    Only a 501 is known to break a client here (Claude ends the session: the field guide's root cause).
    The official SDK clients open the GET stream with the session id after initialize and carry on
    whatever it answers, so every other answer is at most a warning.
    """
    id, title = "transport.get", "GET gets 405 with Allow, or an SSE stream"
    wait = min(HANG_SECONDS, ctx.probe.timeout)
    answer = ctx.probe.send(
        "GET", ctx.url, headers={"Accept": "text/event-stream"}, bearer=True, first_byte_timeout=wait
    )
    status = answer.status
    if status == 405:
        allow = answer.header("allow")
        if "POST" in allow.upper():
            return passed(id, title, f"Allow: {allow}")
        return problem(
            Status.WARN,
            id,
            title,
            f"405 with Allow: {allow or '(missing)'}",
            "a 405 should name the methods that work (Allow: POST); the SDK clients do not read it, but the field "
            "guide's checklist and HTTP itself expect it",
            "add an Allow header: POST (POST, DELETE when sessions can be ended)",
            [advice.GET_FALLBACK, advice.CHECKLIST],
            advice.GET_405,
        )
    if status == 401 and not ctx.authorized:
        return skipped(id, title, f"401 without a token; {ctx.needs_token()}")
    if status == 200 and answer.media_type == "text/event-stream" and not answer.hung:
        return passed(id, title, "200: the server offers an SSE stream (allowed), and it sends")
    if status == 501:
        return problem(
            Status.FAIL,
            id,
            title,
            f"{answer.describe()}: {answer.snippet()}",
            "501 Not Implemented tells Claude the server does not understand GET at all: its transport detection "
            "treats that as a broken server and ends the session right after OAuth ('Configure' stays). This is "
            "the field guide's root cause",
            "answer GET /mcp with 405 Method Not Allowed and Allow: POST (POST, DELETE with sessions)",
            [advice.GET_FALLBACK, advice.MISTAKES],
            advice.GET_405,
            breaks=CLAUDE,
        )
    if ctx.stateful and status in (400, 404):
        return _session_stream(ctx, id, title, answer, wait)
    if answer.hung or status is None:
        return problem(
            Status.WARN,
            id,
            title,
            f"GET {ctx.parts.path or '/'} opened a response that sent nothing within {wait:g} s",
            "the official SDK clients work with a silent stream (they only listen on it), but a client that falls "
            "back to the legacy SSE transport waits on it for an 'endpoint' event until it times out (the bare "
            "MCP SDK does this for stateless servers)",
            "answer GET with 405 and Allow: POST unless you really push server messages on this stream",
            [advice.GET_FALLBACK, advice.TRANSPORT_SPEC],
            advice.GET_405,
        )
    return problem(
        Status.WARN,
        id,
        title,
        f"{answer.describe()}: {answer.snippet()}",
        f"clients carry on after a {status} to GET (they only lose the stream of server messages), but 405 says "
        "'POST only' unambiguously, and Claude's fallback looks for it",
        "answer GET /mcp with 405 Method Not Allowed and Allow: POST (POST, DELETE with sessions), JSON-RPC error body",
        [advice.GET_FALLBACK, advice.MISTAKES],
        advice.GET_405,
    )


def _session_stream(ctx: Context, id: str, title: str, sessionless: Exchange, wait: float) -> Check:
    """A stateful server refuses a GET without its session id (as the spec says); with the id it must serve it."""
    headers = {"Accept": "text/event-stream", "MCP-Protocol-Version": ctx.protocol_version}
    headers["Mcp-Session-Id"] = ctx.session_id or ""
    answer = ctx.probe.send("GET", ctx.url, headers=headers, bearer=True, first_byte_timeout=wait)
    first = f"{sessionless.status} without a session id"
    if answer.status == 405 or (answer.status in (200, None) and answer.hung):
        what = "405" if answer.status == 405 else "an open SSE stream"
        return passed(id, title, f"{first} (stateful, as the spec says), {what} with it")
    if answer.status == 200 and answer.media_type == "text/event-stream":
        return passed(id, title, f"{first} (stateful, as the spec says), an SSE stream with it")
    return problem(
        Status.WARN,
        id,
        title,
        f"{first}; with it: {answer.describe()}: {answer.snippet()}",
        "clients open the GET stream with the session id to receive server messages; they carry on without it, "
        "but lose notifications and server requests",
        "with a valid session id, answer GET with an SSE stream, or 405 with Allow: POST",
        [advice.TRANSPORT_SPEC],
        advice.GET_405,
    )


def _needs_access(ctx: Context, id: str, title: str) -> Check | None:
    if not ctx.authorized:
        return skipped(id, title, ctx.needs_token())
    return None


def bad_accept(ctx: Context) -> Check:
    """A client that cannot read JSON or SSE must be told so (406), not sent a body it cannot use."""
    id, title = "transport.accept-406", "Accept: text/html gets 406"
    if skip := _needs_access(ctx, id, title):
        return skip
    answer = ctx.initialize(headers=ctx.headers(session=False, Accept="text/html"))
    if answer.status == 406:
        return passed(id, title, "406")
    return problem(
        Status.WARN,
        id,
        title,
        answer.describe(),
        "the server ignores Accept: it should refuse a client that accepts neither application/json nor "
        "text/event-stream with 406 Not Acceptable (no real client sends such a header, so none breaks)",
        "parse Accept and answer 406 when it allows neither JSON nor SSE (see the lenient matching snippet)",
        [advice.CHECKLIST, advice.TRANSPORT_SPEC],
        advice.LENIENT_ACCEPT,
    )


def missing_accept(ctx: Context) -> Check:
    id, title = "transport.accept-missing", "no Accept header gets 406"
    if skip := _needs_access(ctx, id, title):
        return skip
    answer = ctx.initialize(headers=ctx.headers(session=False, Accept=""))
    if answer.status == 406:
        return passed(id, title, "406")
    if answer.status is not None and answer.status < 500:
        return problem(
            Status.WARN,
            id,
            title,
            answer.describe(),
            "the field guide's checklist expects 406 when Accept is missing (the transport spec requires clients "
            "to send it); accepting it anyway is harmless for real clients",
            "answer 406 when Accept is absent, or leave it: no MCP client omits it",
            [advice.CHECKLIST],
        )
    return problem(
        Status.WARN,
        id,
        title,
        answer.describe(),
        "a request without Accept makes the server fail (no MCP client omits it, so none breaks)",
        "treat a missing Accept like any unsuitable one: 406",
        [advice.CHECKLIST],
    )


def lenient_accept(ctx: Context) -> Check:
    """Clients send `*/*`, q-values and either order; an exact string comparison refuses them all."""
    id, title = "transport.accept-lenient", "lenient Accept matching"
    if skip := _needs_access(ctx, id, title):
        return skip
    results = {
        name: ctx.initialize(headers=ctx.headers(session=False, Accept=value))
        for name, value in LENIENT_ACCEPTS.items()
    }
    detail = ", ".join(f"{name}: {answer.status or answer.error}" for name, answer in results.items())
    refused = [name for name, answer in results.items() if answer.status != 200]
    if not refused:
        return passed(id, title, detail)
    if refused == ["*/*"]:
        return problem(
            Status.WARN,
            id,
            title,
            detail,
            "Accept: */* is refused: the clients send both types by name, so none breaks, but a header that "
            "allows everything should not get 406 (the TypeScript SDK's servers do this)",
            "treat */* (and application/*, text/*) as allowing JSON and SSE",
            [advice.MISTAKES],
            advice.LENIENT_ACCEPT,
        )
    return problem(
        Status.FAIL,
        id,
        title,
        detail,
        f"Accept is compared too strictly ({', '.join(refused)} refused): a header that allows JSON and SSE "
        "in another spelling gets 406, and clients that send it cannot connect",
        "parse the media ranges in Accept (wildcards, parameters, any order) instead of matching one string",
        [advice.MISTAKES, advice.PRACTICES],
        advice.LENIENT_ACCEPT,
    )


def trailing_slash(ctx: Context) -> Check:
    """Clients and proxies add or drop a trailing slash; a 307 on POST loses the body or the auth header."""
    other = ctx.url[:-1] if ctx.url.endswith("/") else ctx.url + "/"
    path = other.split("://", 1)[-1].partition("/")[2]
    id, title = "transport.trailing-slash", f"POST /{path} is served without a redirect"
    answer = ctx.initialize(url=other, bearer=True)
    expected = ctx.handshake.status if ctx.handshake else 200
    if answer.status == expected:
        return passed(id, title, f"{answer.status}, same as the endpoint itself")
    if answer.status is not None and 300 <= answer.status < 400:
        return problem(
            Status.WARN,
            id,
            title,
            f"{answer.status} to {answer.header('location') or '(no Location)'}",
            "the SDK clients follow a 307 on the same origin with the body and the Authorization header, but a user "
            "who pastes the other spelling depends on every client and proxy doing so (Starlette mounts answer "
            "/mcp/ with a 307 by default)",
            "serve both /mcp and /mcp/ with the same handler (rewrite the path before routing)",
            [advice.TRANSPORT_SPEC],
        )
    return problem(
        Status.WARN,
        id,
        title,
        f"{answer.describe()} (the endpoint itself: {expected})",
        "the other spelling of the URL is not served; users who paste it get an error",
        "serve both spellings of the endpoint path",
    )
