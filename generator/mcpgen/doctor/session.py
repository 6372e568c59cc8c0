"""Session: the three-step handshake and what a stateful server owes the client afterwards.

Guards against the failures that end a session right after it starts: no `Mcp-Session-Id` from a
server that then demands one, a `notifications/initialized` answered with a body instead of 202, a
session that does not survive the next call, and session errors (400 for a missing id, 404 for an
unknown one) that leave clients stuck instead of re-initializing.
"""

from __future__ import annotations

import statistics
from typing import Any

from . import advice
from .context import Context
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

TOOLS_LIST_CALLS = 10
UNKNOWN_SESSION = "mcpgen-doctor-unknown-session"


def tools_list(id: int = 2) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "method": "tools/list"}


def checks(ctx: Context) -> list[Check]:
    if not ctx.authorized:
        return [skipped("session.handshake", "the session handshake", ctx.needs_token())]
    found = [session_id(ctx)]
    if found[0].status is Status.FAIL:
        return [*found, skipped("session.rest", "the other session checks", "no usable session")]
    found += [initialized(ctx), tools_list_latency(ctx)]
    if ctx.stateful:
        found += [missing_id(ctx), unknown_id(ctx), delete(ctx)]
    else:
        found.append(skipped("session.errors", "missing, unknown and ended sessions", "stateless: no session ids"))
    return found


def session_id(ctx: Context) -> Check:
    """A stateful server must name the session on initialize, or every later request is refused."""
    id, title = "session.id", "initialize returns Mcp-Session-Id"
    if ctx.session_id:
        return passed(id, title, f"yes: stateful ({ctx.session_id[:12]}...)")
    answer = ctx.post(tools_list(), ctx.headers())
    if answer.status == 200 and answer.result() is not None:
        return passed(id, title, "no: a stateless server (tools/list without a session id is served)")
    return problem(
        Status.FAIL,
        id,
        title,
        f"no Mcp-Session-Id on initialize, then tools/list without one: {answer.describe()}: {answer.snippet()}",
        "the server keeps sessions but never tells the client the id, so every request after initialize is "
        "refused and the session 'terminates' at once",
        "send Mcp-Session-Id on the initialize response (or run stateless: stateless_http=True, no ids at all)",
        [advice.HANDSHAKE, advice.MISTAKES],
        advice.SESSION_ID,
    )


def initialized(ctx: Context) -> Check:
    """Step three of the handshake is a notification: 202 Accepted, no body."""
    id, title = "session.initialized", "notifications/initialized gets 202, no body"
    answer = ctx.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    if answer.status == 202 and not answer.body.strip():
        return passed(id, title, "202")
    detail = answer.describe() + (f" with a body: {answer.snippet()}" if answer.body.strip() else "")
    return problem(
        Status.FAIL,
        id,
        title,
        detail,
        "notifications have no id and get no JSON-RPC answer: clients expect 202 Accepted with an empty body, "
        "and a 200 with a body (or an error) makes them drop the session",
        "answer notifications (messages without an id) with 202 and no body",
        [advice.HANDSHAKE, advice.CHECKLIST],
        advice.INITIALIZED_202,
    )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def tools_list_latency(ctx: Context) -> Check:
    """The session must serve call after call (a new transport per request loses it)."""
    id, title = "session.tools-list", f"{TOOLS_LIST_CALLS} tools/list calls in a row"
    answers: list[Exchange] = []
    for number in range(TOOLS_LIST_CALLS):
        answer = ctx.post(tools_list(100 + number))
        answers.append(answer)
        if answer.status != 200 or not isinstance((answer.result() or {}).get("tools"), list):
            return problem(
                Status.FAIL,
                id,
                title,
                f"call {number + 1}: {answer.describe()}: {answer.snippet()}",
                "the session does not serve the next call: typically a new transport is created per request "
                "instead of reusing the one stored under the session id",
                "keep one transport per session id and route every request carrying that id to it",
                [advice.MISTAKES, advice.CHECKLIST],
            )
    millis = [answer.seconds * 1000 for answer in answers]
    tools = len((answers[-1].result() or {}).get("tools", []))
    summary = (
        f"{tools} tools; p50 {statistics.median(millis):.0f} ms, p95 {_percentile(millis, 0.95):.0f} ms, "
        f"max {max(millis):.0f} ms"
    )
    return passed(id, title, summary)


def missing_id(ctx: Context) -> Check:
    id, title = "session.missing-id", "a request without Mcp-Session-Id gets 400"
    answer = ctx.post(tools_list(3), ctx.headers(session=False, MCP_Protocol_Version=ctx.protocol_version))
    if answer.status == 400:
        return passed(id, title, "400")
    return problem(
        Status.FAIL if answer.status is None or answer.status >= 500 else Status.WARN,
        id,
        title,
        answer.describe(),
        "servers that require a session id should answer a request without one with 400 Bad Request",
        "check the header before routing: missing -> 400, unknown -> 404",
        [advice.HANDSHAKE, advice.TRANSPORT_SPEC],
        advice.SESSION_ERRORS,
    )


def unknown_id(ctx: Context) -> Check:
    """404 is the signal to start a new session; a 400 strands a client whose session ended (restart, deploy)."""
    id, title = "session.unknown-id", "an unknown Mcp-Session-Id gets 404"
    answer = ctx.post(tools_list(4), ctx.headers(Mcp_Session_Id=UNKNOWN_SESSION))
    if answer.status == 404:
        return passed(id, title, "404")
    if answer.status is not None and answer.status < 300:
        cause = "the server serves a session id it never issued, so an ended session is never reported as ended"
    else:
        cause = (
            "clients start a new session only when an old id gets 404; any other answer leaves them stuck after "
            "a server restart or deploy"
        )
    return problem(
        Status.FAIL if answer.status is None or answer.status >= 500 else Status.WARN,
        id,
        title,
        answer.describe(),
        cause,
        "answer an unknown or ended session id with 404 Not Found",
        [advice.HANDSHAKE, advice.TRANSPORT_SPEC],
        advice.SESSION_ERRORS,
    )


def delete(ctx: Context) -> Check:
    id, title = "session.delete", "DELETE ends the session"
    session = ctx.session_id or ""
    answer = ctx.probe.send("DELETE", ctx.url, headers={"Mcp-Session-Id": session}, bearer=True)
    if answer.status == 405:
        return passed(id, title, "405: clients may not end sessions (allowed by the spec)")
    after = ctx.post(tools_list(5))
    if answer.status is not None and 200 <= answer.status < 300:
        if session in ctx.sessions:
            ctx.sessions.remove(session)
        if after.status == 404:
            return passed(id, title, f"{answer.status}, then 404 for the ended session")
        return problem(
            Status.WARN,
            id,
            title,
            f"{answer.status}, then {after.describe()} for the ended session",
            "the session still answers after DELETE",
            "drop the session on DELETE and answer its id with 404 afterwards",
            [advice.TRANSPORT_SPEC],
            advice.SESSION_ERRORS,
        )
    return problem(
        Status.FAIL if answer.status is None or answer.status >= 500 else Status.WARN,
        id,
        title,
        f"{answer.describe()}: {answer.snippet()}",
        "DELETE with the session id should end the session (2xx), or be refused with 405",
        "end the session on DELETE, or answer 405 with Allow: POST",
        [advice.TRANSPORT_SPEC],
        advice.SESSION_ERRORS,
    )
