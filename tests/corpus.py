"""Servers nobody here wrote, run on loopback, and what real clients make of them.

The corpus is the official Python SDK (`mcp`) and stock fastmcp, each in the modes people deploy and
behind their own OAuth stacks, the TypeScript SDK's own example servers (its OAuth demo too) and
`@modelcontextprotocol/server-everything` from npm.
`start` runs one as a subprocess on a free port; `python_client` and `ts_client` connect to it
the way the official clients do (initialize, list tools, call one) and say whether that worked.
tests/test_corpus.py holds `mcpgen doctor` to those verdicts.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx

from mcpgen.doctor.report import Report, Status

HERE = Path(__file__).resolve().parent
SDK_VERSION = "1.32.2"
EVERYTHING_VERSION = "2026.8.31"


@dataclass(frozen=True)
class Server:
    name: str
    kind: str  # "python" (a script run with this interpreter) or "node"
    tool: str  # the tool the clients call, with `arguments`
    arguments: dict[str, Any]
    script: str = ""  # python: the server's source; node: the file under its package
    args: tuple[str, ...] = ()
    package: str = ""  # node: "sdk" or "everything"
    # OAuth-protected: the clients sign in (the server approves at once) and the doctor runs with --login.
    oauth: bool = False
    host: str = "127.0.0.1"  # the host in the URL clients are given (the TS OAuth demo names localhost)


PY_TOOL = {"tool": "add", "arguments": {"a": 1, "b": 2}}


def sdk_server(app: str) -> str:
    """An official-SDK `MCPServer` with one tool, served by uvicorn with `app` as the ASGI app."""
    return textwrap.dedent(f"""
        import sys
        import uvicorn
        from mcp.server.mcpserver import MCPServer

        mcp = MCPServer("corpus")

        @mcp.tool()
        def add(a: int, b: int) -> int:
            return a + b

        uvicorn.run({app}, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """)


def fastmcp_server(app: str) -> str:
    return textwrap.dedent(f"""
        import sys
        import uvicorn
        from fastmcp import FastMCP

        mcp = FastMCP("corpus")

        @mcp.tool
        def add(a: int, b: int) -> int:
            return a + b

        uvicorn.run({app}, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """)


# fastmcp's own in-memory authorization server (it approves every sign-in), with revocation, and one
# client registered beforehand (loopback redirect on CORPUS_CALLBACK_PORT) for `doctor --client-id`.
FASTMCP_OAUTH = textwrap.dedent("""
    import os
    import sys
    import uvicorn
    from fastmcp import FastMCP
    from fastmcp.server.auth.providers.in_memory import InMemoryOAuthProvider
    from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
    from mcp.shared.auth import OAuthClientInformationFull

    port = int(sys.argv[1])
    auth = InMemoryOAuthProvider(
        base_url=f"http://127.0.0.1:{port}",
        client_registration_options=ClientRegistrationOptions(enabled=True),
        revocation_options=RevocationOptions(enabled=True),
    )
    auth.clients["corpus-preregistered"] = OAuthClientInformationFull(
        client_id="corpus-preregistered",
        redirect_uris=[f"http://localhost:{os.environ['CORPUS_CALLBACK_PORT']}/callback"],
        token_endpoint_auth_method="none",
        grant_types=["authorization_code", "refresh_token"],
    )
    mcp = FastMCP("corpus", auth=auth)

    @mcp.tool
    def add(a: int, b: int) -> int:
        return a + b

    uvicorn.run(mcp.http_app(), host="127.0.0.1", port=port, log_level="warning")
""")
PREREGISTERED = "corpus-preregistered"
# The official SDK's own OAuth stack (its authorization routes, DCR, bearer middleware and resource metadata),
# as its simple-auth example wires it; the example is not in the wheel, so fastmcp's in-memory provider
# (the same SDK provider interface) stands in for the example's.
SDK_OAUTH = textwrap.dedent("""
    import sys
    import uvicorn
    from fastmcp.server.auth.providers.in_memory import InMemoryOAuthProvider
    from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
    from mcp.server.mcpserver import MCPServer

    port = int(sys.argv[1])
    base = f"http://127.0.0.1:{port}"
    mcp = MCPServer(
        "corpus",
        auth_server_provider=InMemoryOAuthProvider(base_url=base),
        auth=AuthSettings(
            issuer_url=base,
            resource_server_url=f"{base}/mcp",
            client_registration_options=ClientRegistrationOptions(enabled=True),
            revocation_options=RevocationOptions(enabled=True),
        ),
    )

    @mcp.tool()
    def add(a: int, b: int) -> int:
        return a + b

    uvicorn.run(mcp.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning")
""")

EXAMPLES = "dist/esm/examples/server"
SERVERS = [
    Server("sdk-stateful", "python", **PY_TOOL, script=sdk_server("mcp.streamable_http_app()")),
    Server("sdk-stateless", "python", **PY_TOOL, script=sdk_server("mcp.streamable_http_app(stateless_http=True)")),
    Server("sdk-json", "python", **PY_TOOL, script=sdk_server("mcp.streamable_http_app(json_response=True)")),
    Server("fastmcp-stateful", "python", **PY_TOOL, script=fastmcp_server("mcp.http_app()")),
    Server("fastmcp-stateless", "python", **PY_TOOL, script=fastmcp_server("mcp.http_app(stateless_http=True)")),
    Server("ts-stateful", "node", "greet", {"name": "corpus"}, f"{EXAMPLES}/simpleStreamableHttp.js", package="sdk"),
    Server(
        "ts-stateless",
        "node",
        "start-notification-stream",
        {"interval": 10, "count": 1},
        f"{EXAMPLES}/simpleStatelessStreamableHttp.js",
        package="sdk",
    ),
    Server("ts-json", "node", "greet", {"name": "corpus"}, f"{EXAMPLES}/jsonResponseStreamableHttp.js", package="sdk"),
    Server("everything", "node", "echo", {"message": "hi"}, "dist/index.js", ("streamableHttp",), "everything"),
    Server("sdk-oauth", "python", **PY_TOOL, script=SDK_OAUTH, oauth=True),
    Server("fastmcp-oauth", "python", **PY_TOOL, script=FASTMCP_OAUTH, oauth=True),
    # The TypeScript SDK's OAuth demo: its authorization server on a second port, approving every sign-in.
    Server(
        "ts-oauth",
        "node",
        "greet",
        {"name": "corpus"},
        f"{EXAMPLES}/simpleStreamableHttp.js",
        ("--oauth",),
        "sdk",
        oauth=True,
        host="localhost",
    ),
]


@dataclass
class Running:
    server: Server
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    callback_port: int  # where the client registered beforehand (fastmcp-oauth) is redirected


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(server: Server, packages: dict[str, Path], workdir: Path) -> Running:
    """Start `server` on a free loopback port (not waited for); `packages` maps "sdk"/"everything" to their dirs."""
    port, auth_port, callback_port = free_port(), free_port(), free_port()
    env = {**os.environ, "CORPUS_PORT": str(port), "PORT": str(port), "MCP_PORT": str(port)}
    env |= {"MCP_AUTH_PORT": str(auth_port), "CORPUS_CALLBACK_PORT": str(callback_port)}
    if server.kind == "python":
        command = [sys.executable, "-c", server.script, str(port)]
    else:
        node = shutil.which("node") or "node"
        preload = (HERE / "corpus_listen_port.mjs").as_uri()
        command = [node, "--import", preload, str(packages[server.package] / server.script), *server.args]
    log = workdir / f"{server.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Running(server, f"http://{server.host}:{port}/mcp", process, log, callback_port)


def wait_listening(running: Running, seconds: float = 90) -> None:
    port = int(running.url.split(":")[2].split("/")[0])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{running.server.name} did not start:\n{running.log.read_text(errors='replace')[-2000:]}")


def stop(running: Running) -> None:
    running.process.terminate()
    try:
        running.process.wait(5)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()


@dataclass(frozen=True)
class Verdict:
    works: bool
    detail: str
    token: dict[str, Any] | None = None  # the token endpoint's answer, as sent, when the client signed in


# Where the clients say they listen for the authorization code; nothing does: the authorize endpoint of an
# auto-approving server redirects there at once, and the clients read the code from that redirect.
PY_REDIRECT = "http://localhost:33418/callback"


def approve(authorize_url: str) -> dict[str, str]:
    """A sign-in at an auto-approving server: one GET, whose redirect to the client carries the code."""
    answer = httpx.get(authorize_url, timeout=10)
    location = answer.headers.get("location", "")
    if not location.startswith(PY_REDIRECT):
        raise RuntimeError(f"authorize: {answer.status_code} {location or answer.text[:200]}")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def python_client(running: Running) -> Verdict:
    """The official Python client (`mcp.Client` over streamable_http_client, with its OAuth provider for servers
    that answer 401): connect, sign in if asked, list, call."""
    from mcp import Client
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

    class Memory:
        """Token storage for one run."""

        tokens: OAuthToken | None = None
        client: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.client

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            self.client = client_info

    returned: dict[str, str] = {}

    async def redirect(authorize_url: str) -> None:
        returned.update(await anyio.to_thread.run_sync(approve, authorize_url))

    async def callback() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=returned["code"], state=returned.get("state"), iss=returned.get("iss"))

    metadata = OAuthClientMetadata(
        client_name="mcpgen-corpus",
        redirect_uris=[PY_REDIRECT],  # type: ignore[list-item]
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )

    async def session() -> str:
        auth = OAuthClientProvider(running.url, metadata, Memory(), redirect, callback)
        transport = streamable_http_client(running.url, http_client=create_mcp_http_client(auth=auth))
        with anyio.fail_after(30):
            async with Client(transport) as client:
                tools = await client.list_tools()
                result = await client.call_tool(running.server.tool, running.server.arguments)
                return f"{len(tools.tools)} tools, call is_error={result.is_error}"

    try:
        return Verdict(True, anyio.run(session))
    except Exception as exc:  # any failure of the client is the verdict
        while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        return Verdict(False, f"{type(exc).__name__}: {exc}")


def approve_for_the_doctor(authorize_url: str) -> None:
    """`doctor --login`'s browser at an auto-approving server: follow the redirects to the doctor's loopback."""
    httpx.get(authorize_url, follow_redirects=True, timeout=10)


def claude_ai_parses(token: dict[str, Any] | None) -> bool:
    """claude.ai's token parser as the field guide (§8) states it: token_type exactly "Bearer", an integer
    expires_in. claude.ai cannot be run here (it connects from Anthropic's servers), so this stands for it."""
    if token is None:
        return True
    expires = token.get("expires_in")
    return token.get("token_type") == "Bearer" and isinstance(expires, int) and not isinstance(expires, bool)


def ts_client(running: Running, sdk: Path) -> Verdict:
    """The TypeScript SDK's client (what Inspector and Claude Code are built on): connect (signing in when
    asked, and once more with an expired token), list, call."""
    node = shutil.which("node") or "node"
    command = [
        node,
        str(HERE / "corpus_client.mjs"),
        str(sdk),
        running.url,
        running.server.tool,
        json.dumps(running.server.arguments),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=45)
    except subprocess.TimeoutExpired:
        return Verdict(False, "timed out")
    try:
        said = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Verdict(False, (done.stdout.strip() or done.stderr.strip())[-500:])
    detail = str(said["error"])[:500] if "error" in said else f"{said['tools']} tools, isError={said['isError']}"
    return Verdict(done.returncode == 0, detail, said.get("token"))


# What a browser-based client (MCP Inspector's web UI, direct connection) does, from the Inspector's origin.
INSPECTOR_ORIGIN = "http://localhost:6274"
BROWSER_SESSION = """
async ({url, tool, args}) => {
  let session = null;
  let version = '2025-06-18';
  const read = async (response) => {
    const text = await response.text();
    if (!(response.headers.get('content-type') || '').includes('text/event-stream')) return JSON.parse(text);
    for (const line of text.split('\\n')) {
      if (!line.startsWith('data:')) continue;
      try {
        const message = JSON.parse(line.slice(5));
        if ('result' in message || 'error' in message) return message;
      } catch {}
    }
    return null;
  };
  const post = async (message) => {
    const headers = {'Content-Type': 'application/json', 'Accept': 'application/json, text/event-stream'};
    if (message.method !== 'initialize') headers['MCP-Protocol-Version'] = version;
    if (session) headers['Mcp-Session-Id'] = session;
    const response = await fetch(url, {method: 'POST', headers, body: JSON.stringify(message)});
    if (message.method === 'initialize') session = response.headers.get('mcp-session-id');
    if (!response.ok) throw new Error(`${message.method}: ${response.status}`);
    if (message.id === undefined) return null;
    const answer = await read(response);
    if (!answer || answer.error) throw new Error(`${message.method}: ${JSON.stringify(answer)}`);
    return answer.result;
  };
  try {
    const init = await post({jsonrpc: '2.0', id: 1, method: 'initialize', params: {
      protocolVersion: version, capabilities: {}, clientInfo: {name: 'mcpgen-corpus', version: '1'}}});
    version = init.protocolVersion;
    await post({jsonrpc: '2.0', method: 'notifications/initialized'});
    const listed = await post({jsonrpc: '2.0', id: 2, method: 'tools/list'});
    await post({jsonrpc: '2.0', id: 3, method: 'tools/call', params: {name: tool, arguments: args}});
    return {works: true, detail: `${listed.tools.length} tools`};
  } catch (error) {
    return {works: false, detail: String(error)};
  }
}
"""


def browser_client(page: Any, running: Running) -> Verdict:
    """An MCP session run by fetch() in a Chromium page at the Inspector's origin: CORS as a browser applies it.

    `page` is a Playwright page whose requests to INSPECTOR_ORIGIN are answered by the test (nothing listens
    there); the requests to the server are real.
    """
    answer = page.evaluate(
        BROWSER_SESSION, {"url": running.url, "tool": running.server.tool, "args": running.server.arguments}
    )
    return Verdict(bool(answer["works"]), str(answer["detail"]))


# Precision and recall -------------------------------------------------------------------------


@dataclass
class Score:
    """FAIL lines over the corpus and the planted faults: true ones, false ones, and problems not caught."""

    fails: int = 0
    true: int = 0
    false: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def corpus(self, name: str, report: Report, works: dict[str, bool]) -> None:
        """A FAIL is true when every client it says breaks really fails; a failing client needs a FAIL."""
        for check in report.checks():
            if check.status is Status.FAIL:
                self.fails += 1
                working = [client for client in check.breaks if works[client]]
                if working:
                    self.false.append(f"{name}: {check.id} (but {', '.join(working)} works)")
                else:
                    self.true += 1
        for client, failing in report.verdicts.items():
            if not works[client] and not failing:
                self.missed.append(f"{name}: {client} fails, but the doctor reports no FAIL for it")

    def planted(self, flaw: str, report: Report, failing: set[str], check: str) -> None:
        """The planted fault's check at its severity (FAIL when it breaks a client, else WARN); no other FAIL."""
        for found in report.checks():
            if found.status is Status.FAIL:
                self.fails += 1
                if found.id in failing:
                    self.true += 1
                else:
                    self.false.append(f"{flaw}: {found.id}")
        expected = Status.FAIL if failing else Status.WARN
        if report.check(check).status is not expected:
            self.missed.append(f"{flaw}: {check} is {report.check(check).status.value}, not {expected.value}")

    def summary(self) -> str:
        lines = [f"FAIL lines {self.fails}, true {self.true}, false {len(self.false)}, missed {len(self.missed)}"]
        lines += [f"  false: {line}" for line in self.false] + [f"  missed: {line}" for line in self.missed]
        return "\n".join(lines)
