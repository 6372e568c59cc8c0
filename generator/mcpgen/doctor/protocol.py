"""Protocol versions and JSON-RPC: which generations the server serves, and how it answers bad input.

Guards against a server that only speaks one revision (clients of another cannot connect), a
2026-07-28 probe that hangs (new clients send it first), and malformed messages answered with a
500, a stack trace or a wrong JSON-RPC error code instead of -32700 / -32600 / -32601.
"""

from __future__ import annotations

from typing import Any

from . import advice
from .context import CLIENT_NAME, HANDSHAKE_VERSION, Context
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

HANDSHAKE_GENERATIONS = ("2025-03-26", HANDSHAKE_VERSION, "2025-11-25")
STATELESS_VERSION = "2026-07-28"
META = "io.modelcontextprotocol/"


def stateless_request(method: str, id: int) -> tuple[dict[str, Any], dict[str, str]]:
    """A 2026-07-28 request as the official client sends it: version and client in `_meta`, method in a header."""
    body = {
        "jsonrpc": "2.0",
        "id": id,
        "method": method,
        "params": {
            "_meta": {
                f"{META}protocolVersion": STATELESS_VERSION,
                f"{META}clientInfo": {"name": CLIENT_NAME, "version": "1"},
                f"{META}clientCapabilities": {},
            }
        },
    }
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": STATELESS_VERSION,
        "Mcp-Method": method,
    }
    return body, headers


def checks(ctx: Context) -> list[Check]:
    if not ctx.authorized:
        return [skipped("protocol.versions", "protocol versions and JSON-RPC errors", ctx.needs_token())]
    served: list[str] = []
    found = [handshake(ctx, served), stateless(ctx, served)]
    found.insert(0, passed("protocol.generations", "generations served", ", ".join(served) or "none"))
    if not ctx.open_session():
        return [*found, skipped("protocol.errors", "JSON-RPC errors", "a new session could not be opened")]
    found += [
        error_code(ctx, "protocol.parse-error", "malformed JSON", b'{"jsonrpc": "2.0", "id": 1, "method": ', -32700),
        error_code(ctx, "protocol.invalid-request", "a message without a method", {"jsonrpc": "2.0", "id": 1}, -32600),
        error_code(
            ctx,
            "protocol.unknown-method",
            "an unknown method",
            {"jsonrpc": "2.0", "id": 7, "method": "mcpgen-doctor/no-such-method"},
            -32601,
        ),
    ]
    return found


def _version(answer: Exchange) -> str | None:
    version = (answer.result() or {}).get("protocolVersion")
    return version if isinstance(version, str) else None


def handshake(ctx: Context, served: list[str]) -> Check:
    """The initialize generations: 2025-06-18 is what Claude speaks today; others are reported."""
    id, title = "protocol.2025-06-18", "initialize at 2025-06-18"
    answers = {HANDSHAKE_VERSION: ctx.handshake}
    for version in HANDSHAKE_GENERATIONS:
        if version != HANDSHAKE_VERSION:
            answers[version] = ctx.initialize(version)
    served += [version for version, answer in answers.items() if answer is not None and _version(answer) == version]
    served.sort()
    current = answers[HANDSHAKE_VERSION]
    negotiated = _version(current) if current is not None else None
    if negotiated == HANDSHAKE_VERSION:
        return passed(id, title, "negotiated 2025-06-18")
    return problem(
        Status.WARN if negotiated else Status.FAIL,
        id,
        title,
        f"the server answered protocolVersion {negotiated or '(none)'}",
        "2025-06-18 brings the MCP-Protocol-Version header and the OAuth resource rules Claude relies on; a "
        "server that negotiates another version makes clients fall back or give up",
        "support 2025-06-18 (the official SDKs do); answer initialize with the client's version when you speak it",
        [advice.HANDSHAKE, advice.TRANSPORT_SPEC],
    )


def stateless(ctx: Context, served: list[str]) -> Check:
    """New clients probe `server/discover` at 2026-07-28 first, then fall back to initialize on an error."""
    id, title = "protocol.2026-07-28", "2026-07-28 per-request calls"
    body, headers = stateless_request("server/discover", 20)
    discover = ctx.post(body, headers)
    if discover.status is None:
        return problem(
            Status.FAIL,
            id,
            title,
            f"server/discover: {discover.describe()}",
            "the server does not answer the first request 2026-07-28 clients send, so they time out instead of "
            "falling back to initialize",
            "answer an unknown method or version with a JSON-RPC error (-32601 or -32022) right away",
            [advice.VERSIONS_SPEC],
        )
    versions = (discover.result() or {}).get("supportedVersions")
    if discover.status != 200 or not isinstance(versions, list) or STATELESS_VERSION not in versions:
        code = discover.error_code()
        answer = f"{discover.status}" + (f", JSON-RPC error {code}" if code is not None else "")
        if discover.status >= 500:
            return problem(
                Status.WARN,
                id,
                title,
                f"server/discover: {answer}",
                "the server fails on the 2026-07-28 probe; clients fall back to initialize, but a 5xx looks like an "
                "outage in logs and monitoring",
                "answer unknown methods with JSON-RPC -32601 (or serve 2026-07-28)",
                [advice.VERSIONS_SPEC],
            )
        return passed(id, title, f"not served (server/discover: {answer}); clients fall back to initialize")
    body, headers = stateless_request("tools/list", 21)
    listed = ctx.post(body, headers)
    if listed.status == 200 and isinstance((listed.result() or {}).get("tools"), list):
        served.append(f"{STATELESS_VERSION} (per request)")
        return passed(id, title, "server/discover and tools/list served without a session")
    return problem(
        Status.FAIL,
        id,
        title,
        f"server/discover lists {STATELESS_VERSION}, but tools/list per request: {listed.describe()}",
        "the server advertises the stateless generation but does not serve a request on its own",
        "serve 2026-07-28 requests without a session (version and client info come in params._meta)",
        [advice.VERSIONS_SPEC],
    )


def error_code(ctx: Context, id: str, what: str, body: Any, expected: int) -> Check:
    """Bad input gets a JSON-RPC error with the right code, and never a 5xx."""
    title = f"{what} gets JSON-RPC {expected}"
    answer = ctx.post(body)
    code = answer.error_code()
    if code == expected and answer.status is not None and answer.status < 500:
        return passed(id, title, f"{answer.status}, {code}")
    if answer.status is None or answer.status >= 500:
        return problem(
            Status.FAIL,
            id,
            title,
            f"{answer.describe()}: {answer.snippet()}",
            "bad input makes the server fail (5xx): clients see an outage, and the answer may leak a stack trace",
            f"validate the message before dispatch and answer JSON-RPC {expected} with a 4xx (or 200)",
            [advice.TRANSPORT_SPEC],
        )
    return problem(
        Status.WARN,
        id,
        title,
        f"{answer.describe()}, JSON-RPC error {code if code is not None else '(none)'}: {answer.snippet()}",
        f"clients and logs classify errors by code; {expected} says exactly what was wrong",
        f"answer {what} with JSON-RPC error {expected}",
        [advice.TRANSPORT_SPEC],
    )
