"""CORS: can a browser-based client (MCP Inspector's web UI in direct mode) read the server's answers?

claude.ai connects from Anthropic's servers and Claude Code and Desktop are native, so CORS never
stops them: a CORS failure breaks only the browser-based clients and is a warning for the others.

Guards against a preflight that auth answers with 401, a preflight that does not allow the MCP
headers (Authorization is never covered by `*`), and responses, 401s included, that hide
`Mcp-Session-Id` and `WWW-Authenticate` from the page: the client then cannot continue the session
or find the OAuth metadata.
"""

from __future__ import annotations

from . import advice
from .clients import BROWSER, NAMES, Client
from .context import Auth, Context
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

ORIGINS = {Client.INSPECTOR: "http://localhost:6274"}
REQUIRED_HEADERS = ["authorization", "content-type", "mcp-session-id", "mcp-protocol-version"]
# Sent by 2026-07-28 clients only.
NEWER_HEADERS = ["mcp-method", "mcp-name"]


def checks(ctx: Context) -> list[Check]:
    """Always probed, as the Inspector's page would: a failure for it, a warning when it is not selected."""
    found: list[Check] = []
    for client, origin in ORIGINS.items():
        found += [preflight(ctx, client, origin), exposed(ctx, client, origin)]
    return found


def _listed(header: str) -> set[str]:
    return {item.strip().lower() for item in header.split(",") if item.strip()}


def _allows_origin(answer: Exchange, origin: str) -> bool:
    return answer.header("access-control-allow-origin") in (origin, "*")


def preflight(ctx: Context, client: Client, origin: str) -> Check:
    id, title = f"cors.preflight.{client.value}", f"preflight from {origin}"
    answer = ctx.probe.send(
        "OPTIONS",
        ctx.url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ", ".join(REQUIRED_HEADERS + NEWER_HEADERS),
        },
    )
    allowed_headers = _listed(answer.header("access-control-allow-headers"))
    methods = _listed(answer.header("access-control-allow-methods"))
    missing = [h for h in REQUIRED_HEADERS + NEWER_HEADERS if h not in allowed_headers]
    if "*" in allowed_headers:
        missing = [h for h in missing if h == "authorization"]  # the wildcard never covers Authorization
    problems: list[str] = []
    if answer.status is None or not 200 <= answer.status < 300:
        problems.append(f"answered {answer.status or answer.error}")
    if not _allows_origin(answer, origin):
        problems.append(f"Access-Control-Allow-Origin {answer.header('access-control-allow-origin') or '(missing)'}")
    if "post" not in methods and "*" not in methods:
        problems.append("POST not in Access-Control-Allow-Methods")
    required_missing = [h for h in missing if h in REQUIRED_HEADERS]
    if required_missing:
        problems.append(f"headers not allowed: {', '.join(required_missing)}")
    if not problems and not missing:
        return passed(id, title, f"{answer.status}, MCP headers allowed")
    newer_only = not problems
    detail = "; ".join(problems) or f"not allowed: {', '.join(missing)} (sent by 2026-07-28 clients)"
    cause = (
        "2026-07-28 browser clients send Mcp-Method and Mcp-Name on every request; the browser blocks those requests"
        if newer_only
        else f"the browser blocks every request {origin} makes, so {client_name(client)} cannot connect (claude.ai, "
        "Claude Code and Desktop are not browsers: CORS does not affect them)"
    )
    if answer.status == 401:
        cause += " (the preflight is answered by auth: preflights carry no credentials, so CORS must come first)"
    return problem(
        Status.WARN if newer_only else Status.FAIL,
        id,
        title,
        detail,
        cause,
        "put CORS outermost, answer OPTIONS before auth, allow the client's origin and the MCP headers by name "
        "(Authorization is not covered by *)",
        [advice.PRACTICES, advice.FETCH_CORS],
        advice.CORS,
        breaks=BROWSER,
    )


def client_name(client: Client) -> str:
    return NAMES.get(client, client.value)


def exposed(ctx: Context, client: Client, origin: str) -> Check:
    """The page can only read headers the server exposes: the session id, and the 401's challenge."""
    id, title = f"cors.expose.{client.value}", f"responses to {origin} expose the MCP headers"
    answers: list[tuple[str, Exchange]] = []
    if ctx.auth is Auth.REQUIRED:
        answers.append(
            ("WWW-Authenticate", ctx.initialize(headers={**ctx.headers(session=False), "Origin": origin}, bearer=False))
        )
    if ctx.authorized and ctx.stateful:
        answers.append(("Mcp-Session-Id", ctx.initialize(headers={**ctx.headers(session=False), "Origin": origin})))
    if not answers:
        if not ctx.authorized:
            return skipped(id, title, ctx.needs_token())
        answer = ctx.initialize(headers={**ctx.headers(session=False), "Origin": origin})
        if _allows_origin(answer, origin):
            return passed(id, title, "allowed; nothing to expose (no auth, no session id)")
        answers.append(("", answer))
    problems: list[str] = []
    for header, answer in answers:
        if not _allows_origin(answer, origin):
            allow = answer.header("access-control-allow-origin") or "(missing)"
            problems.append(f"{answer.describe()} has Access-Control-Allow-Origin {allow}")
            continue
        exposed_headers = _listed(answer.header("access-control-expose-headers"))
        if header and header.lower() not in exposed_headers and "*" not in exposed_headers:
            problems.append(f"{answer.describe()} does not expose {header}")
    if not problems:
        return passed(id, title, ", ".join(header for header, _ in answers))
    return problem(
        Status.FAIL,
        id,
        title,
        "; ".join(problems),
        f"{client_name(client)} runs in a browser: it cannot read the session id (every later request fails) or "
        "the 401's WWW-Authenticate (it never finds the OAuth metadata) unless the response exposes them "
        "(claude.ai, Claude Code and Desktop are not browsers: CORS does not affect them)",
        "send Access-Control-Expose-Headers: Mcp-Session-Id, WWW-Authenticate on every response, 401s included",
        [advice.PRACTICES, advice.FETCH_CORS],
        advice.CORS,
        breaks=BROWSER,
    )
