"""Drive the stages in the order a client connects, and leave the server as it was found."""

from __future__ import annotations

import time
from collections.abc import Callable

from . import cors, discovery, leaks, login, oauth, protocol, session, transport
from .clients import Client
from .context import CLIENT_NAME, Context
from .probe import Probe
from .report import Check, Report, Stage, Status, skipped

StageChecks = Callable[[Context], list[Check]]
STAGES: list[tuple[str, str, StageChecks]] = [
    ("transport", "transport", transport.checks),
    ("session", "session", session.checks),
    ("protocol", "protocol versions", protocol.checks),
    ("discovery", "discovery", discovery.checks),
    ("registration", "registration", oauth.registration),
    ("authorization", "authorization", oauth.authorization),
    ("login", "sign-in (--login)", login.checks),
    ("token", "token", oauth.token),
    ("cors", "CORS", cors.checks),
    ("leaks", "leaks", leaks.checks),
]
# The stages whose checks need a served initialize: run again once --login obtained a token.
BEHIND_AUTH = ("transport", "session", "protocol")
PROMISE = (
    f"read-only probes, except at most one OAuth client registration named {CLIENT_NAME!r} (only when the server "
    "offers dynamic client registration; none with --no-register); MCP sessions it opens are ended with DELETE"
)
PROMISE_NO_REGISTER = (
    "read-only probes (--no-register or --client-id: no registration); MCP sessions it opens are ended with DELETE"
)


def clients_of(choice: Client) -> frozenset[Client]:
    if choice is Client.ALL:
        return frozenset({Client.CLAUDE_AI, Client.CLAUDE_CODE, Client.INSPECTOR})
    return frozenset({choice})


def attribute(check: Check, selected: frozenset[Client]) -> Check:
    """Name the selected clients a failure breaks; a failure that breaks none of them is only a warning."""
    if check.status is not Status.FAIL:
        check.breaks = []
    elif check.breaks:
        check.breaks = [client for client in check.breaks if client in selected]
        if not check.breaks:
            check.status = Status.WARN
    else:
        check.breaks = sorted(selected)
    return check


def again_with_token(ctx: Context, report: Report, access: str) -> None:
    """--login obtained a token: connect again with it, and let the checks behind auth replace their skips."""
    ctx.end_sessions()
    ctx.probe.token = access
    ctx.reset_connection()
    for name, title, run in STAGES:
        if name in BEHIND_AUTH:
            checks = [attribute(check, ctx.clients) for check in run(ctx)]
            index = report.stages.index(report.stage(name))
            report.stages[index] = Stage(name=name, title=f"{title} (with the --login token)", checks=checks)


def diagnose(
    url: str,
    *,
    token: str | None = None,
    client: Client = Client.ALL,
    timeout: float = 10.0,
    register: bool = True,
    opener: login.Opener | None = None,
    client_id: str | None = None,
    callback_port: int | None = None,
) -> Report:
    """Probe the MCP endpoint at `url` as `client` would; never raises for anything the server does.

    `opener` (--login) shows the user the authorize URL; `client_id` is a client registered beforehand
    (no registration is tried), whose redirect is http://localhost:`callback_port`/callback.
    """
    started = time.monotonic()
    probe = Probe(timeout, token)
    ctx = Context(url=url, probe=probe, clients=clients_of(client), register=register, opener=opener)
    ctx.client_id, ctx.preregistered, ctx.callback_port = client_id, client_id is not None, callback_port
    promise = PROMISE if register and client_id is None else PROMISE_NO_REGISTER
    report = Report(url=url, client=client.value, clients=sorted(ctx.clients), notes=[promise])
    try:
        for name, title, run in STAGES:
            if ctx.anonymous is not None and ctx.anonymous.status is None:
                checks = [skipped(f"{name}.unreachable", title, "the server did not answer")]
            else:
                checks = run(ctx)
            report.stages.append(Stage(name=name, title=title, checks=[attribute(c, ctx.clients) for c in checks]))
            if name == "login" and ctx.signed_in is not None:
                again_with_token(ctx, report, ctx.signed_in[0])
        ctx.end_sessions()
        if revoked := login.revoke(ctx):
            report.stage("login").checks.append(revoked)
    finally:
        if note := oauth.cleanup(ctx):
            report.notes.append(note)
        ctx.end_sessions()
        probe.close()
    if ctx.loopback and Client.CLAUDE_AI in ctx.clients:
        ctx.notes.append(
            "claude.ai reaches servers from the internet: its verdict holds once this server is deployed at https"
        )
    report.notes += ctx.notes
    report.requests = len(probe.exchanges)
    report.seconds = round(time.monotonic() - started, 2)
    return report
