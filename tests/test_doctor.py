"""`mcpgen doctor` against real servers: generated ones pass, each broken one is told its mistake and fix.

The generated servers are the three examples rendered by `mcpgen new` and started with `serve` on
free loopback ports; the broken ones come from tests/broken_servers.py (one seed mistake each) and
run with uvicorn in threads. Every server starts once per module.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpgen.doctor.clients import BROWSER, Client
from mcpgen.doctor.context import Context, resolves_to_loopback
from mcpgen.doctor.discovery import prm_https, prm_resource, prm_urls, resource_matches, www_authenticate_param
from mcpgen.doctor.probe import Probe
from mcpgen.doctor.report import Check, Report, Stage, Status, problem, render_text
from mcpgen.doctor.run import attribute, clients_of, diagnose

from . import broken_servers, serving
from .conftest import mcpgen, require_or_skip

OK = {Status.PASS, Status.SKIP}


@dataclass(frozen=True)
class Example:
    spec: str
    package: str
    key_var: str | None = None


EXAMPLES = [
    Example("notes", "notes"),
    Example("public-data", "almanac"),
    Example("team-tools", "team_tools", "API_KEYS"),
]


@dataclass(frozen=True)
class Running:
    url: str
    key: str | None


@pytest.fixture(scope="module")
def generated(
    new_project: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Running]]:
    """The examples, rendered and served at once (their start-ups overlap)."""
    started: dict[str, tuple[serving.Served, str | None]] = {}
    try:
        for example in EXAMPLES:
            project = new_project(example.spec)
            served = serving.start(project, example.package, tmp_path_factory.mktemp(f"doctor-{example.spec}"))
            key = served.dotenv[example.key_var].split(",")[0] if example.key_var else None
            started[example.spec] = (served, key)
        for served, _ in started.values():
            serving.wait_healthy(served)
        yield {spec: Running(f"{served.url}/mcp", key) for spec, (served, key) in started.items()}
    finally:
        for served, _ in started.values():
            serving.stop(served)


@pytest.fixture(scope="module")
def broken() -> Iterator[dict[str | None, str]]:
    """Every broken server, and the correct reference (key None), each on its own port."""
    with ExitStack() as stack:
        yield {flaw: stack.enter_context(broken_servers.serve(flaw)) for flaw in [None, *broken_servers.FLAWS]}


def doctor(*args: str) -> tuple[int, str]:
    return mcpgen("doctor", *args)


def doctor_json(*args: str) -> tuple[int, Report]:
    code, output = mcpgen("doctor", *args, "--json")
    return code, Report.model_validate_json(output)


def not_ok(report: Report) -> dict[str, Status]:
    return {check.id: check.status for check in report.checks() if check.status not in OK}


# Generated servers ----------------------------------------------------------------------------


@pytest.mark.parametrize("example", [example.spec for example in EXAMPLES])
def test_generated_servers_pass(generated: dict[str, Running], example: str) -> None:
    server = generated[example]
    args = [server.url, *(["--token", server.key] if server.key else [])]
    code, output = doctor(*args)
    assert code == 0, output
    assert "FAIL" not in output and "no failures" in output
    code, report = doctor_json(*args)
    assert code == 0 and report.ok
    # claude.ai cannot use a static key (OAuth only): a warning under --client all, not a failure.
    assert not_ok(report) == ({"discovery.oauth": Status.WARN} if server.key else {}), output
    assert "p95" in report.check("session.tools-list").detail
    assert "2026-07-28" in report.check("protocol.generations").detail
    assert "2025-06-18" in report.check("protocol.generations").detail
    stateless = example == "public-data"
    assert ("stateless" in report.check("session.id").detail) == stateless
    if not stateless:
        assert report.check("session.delete").status is Status.PASS
    assert report.check("transport.get").status is Status.PASS


def test_static_keys_per_client(generated: dict[str, Running]) -> None:
    server = generated["team-tools"]
    assert server.key
    code, report = doctor_json(server.url, "--token", server.key, "--client", "claude-code")
    assert code == 0 and not not_ok(report)
    code, report = doctor_json(server.url, "--token", server.key, "--client", "claude-ai")
    assert code == 1
    # ... and claude.ai cannot reach a loopback URL at all.
    assert not_ok(report) == {"discovery.oauth": Status.FAIL, "transport.https": Status.WARN}
    assert "OAuth only" in (report.check("discovery.oauth").cause or "")


def test_without_a_token_the_session_checks_skip(generated: dict[str, Running]) -> None:
    code, report = doctor_json(generated["team-tools"].url, "--client", "inspector")
    assert code == 0
    assert report.check("transport.initialize").detail.startswith("401")
    skipped = report.check("session.handshake")
    assert skipped.status is Status.SKIP and "--token" in skipped.detail


# Broken servers -------------------------------------------------------------------------------


def test_the_reference_server_passes(broken: dict[str | None, str]) -> None:
    code, output = doctor(broken[None], "--token", broken_servers.TOKEN)
    assert code == 0, output
    code, report = doctor_json(broken[None], "--token", broken_servers.TOKEN)
    assert not not_ok(report), report.model_dump_json(indent=2)
    # It went through every OAuth step, with one registration it names.
    for id in ("discovery.as-metadata", "registration.dcr", "authorization.foreign-redirect", "token.error"):
        assert report.check(id).status is Status.PASS, id
    assert "mcpgen-doctor" in report.check("registration.dcr").detail
    assert any("registered one client" in note and "mcpgen-doctor" in note for note in report.notes)
    assert any("at most one OAuth client registration" in note for note in report.notes)


def test_no_register_changes_nothing(broken: dict[str | None, str]) -> None:
    code, report = doctor_json(broken[None], "--token", broken_servers.TOKEN, "--no-register")
    assert code == 0
    skip = report.check("registration.dcr")
    assert skip.status is Status.SKIP and "--no-register" in skip.detail
    assert not any("registered one client" in note for note in report.notes)
    assert report.check("token.error").status is Status.PASS


@dataclass(frozen=True)
class Expected:
    failing: set[str]  # every FAIL (empty: the flaw breaks no client, and is a warning)
    check: str  # the problem whose explanation is checked
    cause: list[str]  # fragments of its cause
    fix: str  # a fragment of its fix
    see: str  # a fragment of one reference


EXPECTED = {
    "get-501": Expected({"transport.get"}, "transport.get", ["501", "root cause", "Configure"], "405", "§6"),
    "get-hangs": Expected(set(), "transport.get", ["silent stream", "endpoint"], "405", "§6"),
    "exact-accept": Expected(
        {"transport.accept-lenient"}, "transport.accept-lenient", ["*/*", "too strictly"], "media ranges", "§10"
    ),
    "initialized-200": Expected(
        {"session.initialized"}, "session.initialized", ["202", "body"], "202 and no body", "§4"
    ),
    "no-session-id": Expected({"session.id"}, "session.id", ["never tells the client the id"], "Mcp-Session-Id", "§4"),
    "no-prm": Expected(
        {"discovery.prm-path", "discovery.prm-root"},
        "discovery.prm-path",
        ["no protected resource metadata", "Configure"],
        "/.well-known/oauth-protected-resource/mcp",
        "RFC 9728",
    ),
    "expires-in-string": Expected(
        {"token.error", "token.expires-in"}, "token.expires-in", ["integer", '"3600"'], "exactly as shown", "§8"
    ),
    "token-type-lowercase": Expected(
        {"token.error", "token.token-type"}, "token.token-type", ['"Bearer"', '"bearer"'], "exactly as shown", "§8"
    ),
    "no-cors-expose": Expected(
        {"cors.expose.inspector"},
        "cors.expose.inspector",
        ["browser", "session id", "WWW-Authenticate", "not browsers"],
        "Access-Control-Expose-Headers: Mcp-Session-Id, WWW-Authenticate",
        "§10",
    ),
    "dcr-rejects-none": Expected(
        {"registration.dcr"}, "registration.dcr", ["public client", "none"], 'token_endpoint_auth_method "none"', "§2"
    ),
    "slash-307": Expected(set(), "transport.trailing-slash", ["follow a 307", "307"], "/mcp/", "transports"),
    "trace-in-400": Expected(set(), "leaks.traces", ["stack trace", "unhandled"], "log the trace", "transports"),
    "initialize-stalls": Expected(
        {"transport.token"}, "transport.token", ["did not arrive", "time out"], "proxy_buffering off", "transports"
    ),
    "host-421": Expected(
        {"transport.initialize"}, "transport.initialize", ["421", "allowlist"], "hostname", "transports"
    ),
    "issuer-unreachable": Expected(
        {"discovery.as-metadata"}, "discovery.as-metadata", ["does not answer from here"], "resolves", "RFC 9728"
    ),
}


def test_every_flaw_has_an_expectation() -> None:
    assert set(EXPECTED) == set(broken_servers.FLAWS)


@pytest.mark.parametrize("flaw", list(EXPECTED))
def test_broken_server_is_told_its_mistake(broken: dict[str | None, str], flaw: str) -> None:
    expected = EXPECTED[flaw]
    code, report = doctor_json(broken[flaw], "--token", broken_servers.TOKEN, "--timeout", "3")
    assert code == (1 if expected.failing else 0)
    failing = {id for id, status in not_ok(report).items() if status is Status.FAIL}
    assert failing == expected.failing, report.model_dump_json(indent=2)
    check = report.check(expected.check)
    assert check.status is (Status.FAIL if expected.failing else Status.WARN)
    for fragment in expected.cause:
        assert fragment in (check.cause or ""), (fragment, check.cause)
    assert expected.fix in (check.fix or ""), check.fix
    assert any(expected.see in ref for ref in check.see), check.see
    code, output = doctor(broken[flaw], "--token", broken_servers.TOKEN, "--timeout", "3")
    label = "FAIL" if expected.failing else "warn"
    assert f"{label}  {check.title}" in output
    assert "cause: " in output and "fix: " in output
    assert ("failures found" in output) == bool(expected.failing)


def test_a_token_response_the_sdks_accept_breaks_only_claude_ai(broken: dict[str | None, str]) -> None:
    for flaw, id in (("token-type-lowercase", "token.token-type"), ("expires-in-string", "token.expires-in")):
        _, report = doctor_json(broken[flaw], "--token", broken_servers.TOKEN)
        assert report.check(id).breaks == ["claude-ai"] and "claude.ai does not" in (report.check(id).cause or "")
        _, report = doctor_json(broken[flaw], "--token", broken_servers.TOKEN, "--client", "claude-code")
        assert report.check(id).status is Status.WARN


def test_skips_after_a_refused_initialize_give_its_answer(broken: dict[str | None, str]) -> None:
    _, report = doctor_json(broken["host-421"], "--token", broken_servers.TOKEN)
    skip = report.check("session.handshake")
    assert skip.status is Status.SKIP and "initialize got 421" in skip.detail and "token" not in skip.detail


def test_a_hanging_stream_costs_seconds_not_the_timeout(broken: dict[str | None, str]) -> None:
    started = time.monotonic()
    code, report = doctor_json(broken["get-hangs"], "--token", broken_servers.TOKEN, "--timeout", "30")
    assert code == 0 and "sent nothing within 2 s" in report.check("transport.get").detail
    assert time.monotonic() - started < 10


# The command itself ---------------------------------------------------------------------------


def test_nothing_listening_is_a_failure_not_a_crash() -> None:
    code, report = doctor_json(f"http://127.0.0.1:{serving.free_port()}/mcp", "--timeout", "2")
    assert code == 1
    assert report.check("transport.initialize").status is Status.FAIL
    assert {stage.checks[0].status for stage in report.stages[1:]} == {Status.SKIP}


def test_a_bad_url_is_bad_input() -> None:
    code, output = doctor("localhost:8000/mcp")
    assert code == 2 and "not an http(s) URL" in output


def test_help_names_the_options_and_stays_light() -> None:
    code, output = doctor("--help")
    assert code == 0
    for option in (
        "--token",
        "--client",
        "--json",
        "--timeout",
        "--no-register",
        "--login",
        "--client-id",
        "--callback-port",
        "claude-ai",
        "claude-code",
        "inspector",
    ):
        assert option in output
    probe = "import sys; from mcpgen.cli import app; print(sorted(m for m in sys.modules if m == 'httpx' or m.startswith('mcpgen.doctor.') and m != 'mcpgen.doctor.clients'))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# Rules that need an https deployment, checked on their inputs ----------------------------------


def context(url: str, prm: dict[str, object]) -> Context:
    ctx = Context(url=url, probe=Probe(1.0), clients=frozenset({Client.CLAUDE_AI}))
    ctx.prm = prm
    ctx.probe.close()
    return ctx


def test_http_behind_an_https_proxy_is_named() -> None:
    ctx = context(
        "https://mcp.example.com/mcp",
        {"resource": "http://mcp.example.com/mcp", "authorization_servers": ["http://mcp.example.com"]},
    )
    check = prm_resource(ctx)
    assert check.status is Status.FAIL and "proxy" in (check.cause or "") and "PUBLIC_URL" in (check.fix or "")
    check = prm_https(ctx)
    assert check.status is Status.FAIL and "http://mcp.example.com" in check.detail
    internal = context(
        "https://mcp.example.com/mcp", {"resource": "http://10.0.0.5:8000/mcp", "authorization_servers": ["x"]}
    )
    assert "host" in (prm_resource(internal).cause or "")


def test_discovery_helpers() -> None:
    assert resource_matches("https://a.example/mcp", "https://a.example/mcp/")
    assert resource_matches("https://a.example/mcp", "https://a.example")
    assert not resource_matches("https://a.example/mcp", "https://a.example/other")
    assert not resource_matches("https://a.example/mcp", "http://a.example/mcp")
    assert prm_urls("https://a.example/mcp/") == (
        "https://a.example/.well-known/oauth-protected-resource/mcp",
        "https://a.example/.well-known/oauth-protected-resource",
    )
    header = 'Bearer error="invalid_token", resource_metadata="https://a.example/.well-known/x"'
    assert www_authenticate_param(header, "resource_metadata") == "https://a.example/.well-known/x"
    assert www_authenticate_param("Bearer", "resource_metadata") is None


def test_the_builtin_authorization_server_passes_the_oauth_checks(
    new_project: Callable[[str], Path], tmp_path: Path
) -> None:
    with serving.serve(new_project("journal"), "journal", tmp_path) as served:
        code, report = doctor_json(f"{served.url}/mcp")
    assert code == 0, report
    assert not [c for c in report.checks() if c.status not in OK]
    ids = {c.id for c in report.checks()}
    for check in (
        "discovery.resource-metadata",
        "discovery.prm-resource",
        "discovery.as-metadata",
        "discovery.as-issuer",
        "discovery.as-none",
        "discovery.as-registration",
        "registration.dcr",
        "registration.public-client",
        "authorization.foreign-redirect",
        "authorization.pkce-required",
        "token.error",
    ):
        assert check in ids and report.check(check).status is Status.PASS, (check, sorted(ids))


# Per client -----------------------------------------------------------------------------------


def test_a_failure_breaks_the_clients_it_names_and_warns_the_others() -> None:
    def cors_failure() -> Check:
        return problem(Status.FAIL, "cors.x", "CORS", "", "cause", "fix", breaks=BROWSER)

    everyone = clients_of(Client.ALL)
    assert attribute(cors_failure(), everyone).breaks == ["inspector"]
    native = attribute(cors_failure(), frozenset({Client.CLAUDE_CODE}))
    assert native.status is Status.WARN and native.breaks == []
    general = attribute(problem(Status.FAIL, "x", "x", "", "c", "f"), everyone)
    assert general.breaks == sorted(everyone)
    report = Report(url="http://127.0.0.1/mcp", client="all", clients=sorted(everyone))
    report.stages.append(Stage(name="cors", title="CORS", checks=[attribute(cors_failure(), everyone)]))
    assert report.verdicts == {"claude-ai": [], "claude-code": [], "inspector": ["cors.x"]}
    text = render_text(report)
    assert "claude-code  would connect (no failures)" in text
    assert "inspector    would break at cors.x" in text


def test_a_name_for_loopback_is_not_a_public_host() -> None:
    assert resolves_to_loopback("localhost")
    assert not resolves_to_loopback("mcpgen-doctor.invalid")
    name = socket.gethostname()
    if not resolves_to_loopback(name):
        pytest.skip(f"{name} does not resolve to loopback here")
    ctx = Context(url=f"http://{name}:8000/mcp", probe=Probe(1.0), clients=frozenset({Client.CLAUDE_AI}))
    ctx.probe.close()
    assert ctx.loopback


def test_login_signs_in_uses_refreshes_and_revokes(new_project: Callable[[str], Path], tmp_path: Path) -> None:
    """--login against the builtin authorization server, a test user signing in in headless Chromium."""
    from .test_browser import CHROMIUM, CHROMIUM_ARGS

    if shutil.which(CHROMIUM) is None:
        require_or_skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    project = new_project("journal")
    with serving.serve(project, "journal", tmp_path) as served:
        env = os.environ | served.dotenv | {"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(project)}
        command = [sys.executable, "-m", "journal", "users", "add", "ada", "--password-stdin"]
        subprocess.run(command, input="a long password\n", env=env, cwd=tmp_path, check=True, text=True, timeout=60)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

            def sign_in(url: str) -> None:
                page = browser.new_page()
                page.goto(url)
                page.fill("#username", "ada")
                page.fill("#password", "a long password")
                page.click("button[type=submit]")
                page.wait_for_url("**/oauth/consent**")
                page.click("button[value=allow]")
                page.wait_for_function("document.body.innerText.includes('signed in')")

            report = diagnose(f"{served.url}/mcp", opener=sign_in)
            browser.close()
    assert report.ok, render_text(report)
    for id in ("login.sign-in", "login.exchange", "login.token-works", "login.refresh", "login.revoke"):
        assert report.check(id).status is Status.PASS, (id, report.check(id))
    # The token stage now judges a real token response instead of skipping.
    for id in ("token.access-token", "token.token-type", "token.expires-in", "token.refresh-token"):
        assert report.check(id).status is Status.PASS, id
    assert "tools" in report.check("login.token-works").detail
    # The checks behind auth ran again with the token the sign-in obtained, instead of skipping.
    assert all("with the --login token" in stage.title for stage in report.stages[:3])
    assert report.check("session.tools-list").status is Status.PASS
    assert report.check("transport.token").title == "the --login token is accepted"


def test_login_is_skipped_unless_asked(broken: dict[str | None, str]) -> None:
    _, report = doctor_json(broken[None], "--token", broken_servers.TOKEN)
    assert report.check("login.sign-in").status is Status.SKIP and "--login" in report.check("login.sign-in").detail
    code, output = doctor(broken[None], "--login", "--no-register")
    assert code == 2 and "--no-register" in output
