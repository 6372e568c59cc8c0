"""`mcpgen doctor` on servers nobody here wrote: every FAIL must be a client that really breaks.

The corpus (tests/corpus.py) runs on loopback once per module. For each server the real clients give
their verdict in the same run: the official Python client and the TypeScript SDK's client (what
Claude Code and Inspector are built on) connect, list tools and call one; an MCP session run by
fetch() in Chromium at MCP Inspector's origin stands for the Inspector's web UI in direct mode. On the
OAuth servers the SDK clients sign in (the server approves at once) and the TypeScript client connects
once more with an expired token; claude.ai, which cannot run here, is the native clients plus its token
parser as the field guide states it. The doctor then runs once per server with `--client all`, and once
each with `--client claude-code` and `--client claude-ai` (with --login on the OAuth servers), four runs
at a time. With twelve servers the module now takes less than it did with nine one run at a time (run
side by side on a loaded machine: 147 s against 180 s, corpus start-up included).
"""

from __future__ import annotations

import shutil
import sys
import webbrowser
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcpgen.doctor.clients import Client
from mcpgen.doctor.report import Report, Status
from mcpgen.doctor.run import diagnose

from . import broken_servers, corpus
from .conftest import mcpgen, npm_package, require_or_skip
from .test_browser import CHROMIUM, CHROMIUM_ARGS
from .test_doctor import EXPECTED

NAMES = [server.name for server in corpus.SERVERS]
# The Inspector's page is served from loopback and talks to loopback servers; the page here is made up by
# the test, so Chrome's checks for a public page reaching the local network would refuse what it never would.
BROWSER_ARGS = [
    *CHROMIUM_ARGS,
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights",
]


@dataclass
class Observed:
    running: corpus.Running
    python: corpus.Verdict
    ts: corpus.Verdict
    browser: corpus.Verdict
    report: Report  # --client all
    exits: dict[Client, int]  # --client claude-code / claude-ai

    @property
    def works(self) -> dict[str, bool]:
        """Per doctor client, whether the real clients that stand for it connected, listed and called.

        claude.ai is the native clients plus its token parser as the field guide states it (it cannot run here).
        """
        native = self.python.works and self.ts.works
        return {
            Client.CLAUDE_AI: native and corpus.claude_ai_parses(self.ts.token),
            Client.CLAUDE_CODE: native,
            Client.INSPECTOR: self.ts.works and self.browser.works,
        }


def doctor_json(*args: str) -> tuple[int, Report]:
    code, output = mcpgen("doctor", *args, "--json")
    return code, Report.model_validate_json(output)


def install_packages() -> dict[str, Path]:
    """The npm packages of the corpus, installed under .cache once per version."""
    return {
        "sdk": npm_package("@modelcontextprotocol/sdk", corpus.SDK_VERSION, "mcp-sdk"),
        "everything": npm_package(
            "@modelcontextprotocol/server-everything", corpus.EVERYTHING_VERSION, "server-everything"
        ),
    }


@pytest.fixture(scope="module")
def packages() -> dict[str, Path]:
    return install_packages()


@pytest.fixture(scope="module")
def running(packages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, corpus.Running]]:
    workdir = tmp_path_factory.mktemp("corpus")
    started = [corpus.start(server, packages, workdir) for server in corpus.SERVERS]
    try:
        for server in started:
            corpus.wait_listening(server)
        yield {server.server.name: server for server in started}
    finally:
        for server in started:
            corpus.stop(server)


def browser_verdicts(servers: list[corpus.Running]) -> dict[str, corpus.Verdict]:
    if shutil.which(CHROMIUM) is None:
        require_or_skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        require_or_skip("the playwright package is not installed")

    def page_of_the_inspector(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>MCP Inspector</title>")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.route(f"{corpus.INSPECTOR_ORIGIN}/**", page_of_the_inspector)
            page.goto(f"{corpus.INSPECTOR_ORIGIN}/")
            return {server.server.name: corpus.browser_client(page, server) for server in servers}
        finally:
            browser.close()


@pytest.fixture(scope="module")
def observed(running: dict[str, corpus.Running], packages: dict[str, Path]) -> dict[str, Observed]:
    return observe(running, packages)


def observe(running: dict[str, corpus.Running], packages: dict[str, Path]) -> dict[str, Observed]:
    """The clients' verdicts and the doctor's reports, each established once.

    The clients, and then the doctor's runs, go four at a time: most of a run is waiting (the doctor gives
    a silent GET stream 2 s), and the servers serve concurrent clients anyway.
    """
    servers = list(running.values())
    with ThreadPoolExecutor(4) as pool:
        python = dict(zip(running, pool.map(corpus.python_client, servers), strict=True))
        ts = dict(
            zip(running, pool.map(lambda server: corpus.ts_client(server, packages["sdk"]), servers), strict=True)
        )
    browser = browser_verdicts(servers)
    runs = [(server, client) for server in servers for client in (Client.ALL, Client.CLAUDE_CODE, Client.CLAUDE_AI)]
    with ThreadPoolExecutor(4) as pool:
        reports = dict(
            zip(((s.server.name, c) for s, c in runs), pool.map(lambda run: doctor(*run), runs), strict=True)
        )
    return {
        name: Observed(
            server,
            python[name],
            ts[name],
            browser[name],
            reports[name, Client.ALL],
            {client: reports[name, client].exit_code for client in (Client.CLAUDE_CODE, Client.CLAUDE_AI)},
        )
        for name, server in running.items()
    }


def doctor(server: corpus.Running, client: Client = Client.ALL) -> Report:
    """`mcpgen doctor URL --client C` (as `diagnose`, which the command prints: threads cannot share the CLI
    runner); on an OAuth server with --login, signed in by a GET (the server approves it at once)."""
    opener = corpus.approve_for_the_doctor if server.server.oauth else None
    return diagnose(server.url, client=client, opener=opener)


@pytest.mark.parametrize("name", NAMES)
def test_the_sdk_clients_use_every_corpus_server(observed: dict[str, Observed], name: str) -> None:
    """Both SDK clients connect, sign in where asked, list and call; the TS OAuth demo alone then fails the
    TypeScript client once its token expired (test_the_ts_oauth_demo_is_told_what_breaks_whom)."""
    seen = observed[name]
    assert seen.python.works, seen.python.detail
    assert seen.ts.works == (name != "ts-oauth"), seen.ts.detail


@pytest.mark.parametrize("name", NAMES)
def test_a_fail_names_only_clients_that_break(observed: dict[str, Observed], name: str) -> None:
    seen = observed[name]
    for client, works in seen.works.items():
        failing = seen.report.verdicts[client]
        assert (not failing) == works, (client, failing, seen.browser.detail)
    for client in (Client.CLAUDE_CODE, Client.CLAUDE_AI):
        assert seen.exits[client] == (0 if seen.works[client] else 1), client


def test_browser_failures_are_cors_and_told_as_such(observed: dict[str, Observed]) -> None:
    """Where the page cannot connect, the doctor says why in CORS terms, and not for the native clients."""
    blocked = [seen for seen in observed.values() if not seen.browser.works]
    assert blocked, "some corpus server should send no CORS headers"
    for seen in blocked:
        assert "Failed to fetch" in seen.browser.detail or "null" in seen.browser.detail, seen.browser.detail
        failing = seen.report.verdicts[Client.INSPECTOR]
        cors = [id for id in failing if id.startswith("cors.")]
        assert cors, failing
        # Any other failure breaks the native clients too (the TS OAuth demo's 500 for an expired token).
        assert set(failing) - set(cors) <= set(seen.report.verdicts[Client.CLAUDE_CODE]), failing
        assert "not browsers" in (seen.report.check(cors[0]).cause or "")


def test_a_stack_trace_in_a_400_page_is_seen(observed: dict[str, Observed]) -> None:
    """The TypeScript SDK's Express examples answer malformed JSON with the parser's stack trace."""
    check = observed["ts-stateful"].report.check("leaks.traces")
    assert check.status is Status.WARN and "-> 400" in check.detail and "node_modules" in check.detail, check
    assert observed["sdk-stateful"].report.check("leaks.traces").status is Status.PASS


def test_the_ts_oauth_demo_is_told_what_breaks_whom(observed: dict[str, Observed]) -> None:
    """token_type "bearer" and no refresh_token (the issue's finding), and a 500 for an expired token."""
    seen = observed["ts-oauth"]
    assert seen.ts.token and seen.ts.token["token_type"] == "bearer" and "refresh_token" not in seen.ts.token
    assert seen.python.works and "once the access token expired" in seen.ts.detail, seen.ts.detail
    report = seen.report
    assert report.check("login.exchange").status is Status.PASS
    assert report.check("token.token-type").status is Status.FAIL and report.check("token.token-type").breaks == [
        "claude-ai"
    ]
    assert report.check("token.refresh-token").status is Status.WARN
    assert (
        report.check("discovery.invalid-token").status is Status.FAIL
        and "500" in report.check("discovery.invalid-token").detail
    )
    assert report.verdicts[Client.CLAUDE_CODE] == ["discovery.invalid-token"]


@pytest.mark.parametrize("name", ["sdk-oauth", "fastmcp-oauth"])
def test_login_runs_the_checks_behind_auth_with_its_token(observed: dict[str, Observed], name: str) -> None:
    """Without --login an OAuth server's session and protocol checks skip; with it they run, on the real token."""
    report = observed[name].report
    assert report.ok is False and report.verdicts[Client.CLAUDE_CODE] == [] and report.verdicts[Client.CLAUDE_AI] == []
    stages = {stage.name: stage for stage in report.stages}
    for name in ("transport", "session", "protocol"):
        assert "with the --login token" in stages[name].title
    assert report.check("transport.token").status is Status.PASS
    assert report.check("session.id").status is Status.PASS and "stateful" in report.check("session.id").detail
    assert report.check("session.tools-list").status is Status.PASS
    assert report.check("protocol.2025-06-18").status is Status.PASS
    for id in ("login.sign-in", "login.exchange", "login.token-works", "login.refresh"):
        assert report.check(id).status is Status.PASS, report.check(id)
    # The SDK's /revoke (fastmcp uses it) asks a public client for a client_secret: a warning, the tokens
    # expire on their own.
    assert report.check("login.revoke").status is Status.WARN and "client_secret" in report.check("login.revoke").detail


def test_a_client_registered_beforehand(running: dict[str, corpus.Running]) -> None:
    """--client-id: no registration; the authorize checks and --login use the given client and redirect."""
    server = running["fastmcp-oauth"]
    args = ("--client-id", corpus.PREREGISTERED, "--callback-port", str(server.callback_port))
    code, report = doctor_json(server.url, *args, "--client", "claude-code")
    assert code == 0, report.model_dump_json(indent=2)
    assert "--client-id" in report.check("registration.dcr").detail and not any(
        "registered one client" in note for note in report.notes
    )
    assert report.check("authorization.foreign-redirect").status is Status.PASS
    # `--login` as typed: the command opens "the browser", here one registered with webbrowser that GETs the
    # authorize URL and follows its redirects, as a user's browser does when the server approves at once.
    approving = [sys.executable, "-c", "import sys, httpx; httpx.get(sys.argv[1], follow_redirects=True)", "%s"]
    webbrowser.register("mcpgen-corpus", None, webbrowser.GenericBrowser(approving), preferred=True)
    code, output = mcpgen("doctor", server.url, *args, "--client", "claude-code", "--login")
    assert code == 0, output
    assert f"pass  sign-in as Claude Code does it: code received at http://localhost:{server.callback_port}" in output
    assert "pass  10 tools/list calls in a row" in output and "Sign in to continue" in output
    code, output = mcpgen("doctor", server.url, "--callback-port", "5")
    assert code == 2 and "--client-id" in output


def test_precision_and_recall(observed: dict[str, Observed]) -> None:
    """0 false FAIL on the corpus and the planted faults; 0 planted fault or broken client missed."""
    score = scorecard(observed)
    print(score.summary())
    assert not score.false and not score.missed, score.summary()
    assert score.true == score.fails > 0


def scorecard(observed: dict[str, Observed]) -> corpus.Score:
    """FAIL lines over the corpus (judged by the real clients) and the planted faults of broken_servers."""
    score = corpus.Score()
    for name, seen in observed.items():
        score.corpus(name, seen.report, seen.works)
    with ExitStack() as stack:
        for flaw, expected in EXPECTED.items():
            url = stack.enter_context(broken_servers.serve(flaw))
            _, report = doctor_json(url, "--token", broken_servers.TOKEN, "--timeout", "3")
            score.planted(flaw, report, expected.failing, expected.check)
    return score
