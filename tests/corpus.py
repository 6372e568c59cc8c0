"""Servers nobody here wrote, run on loopback, and what real clients make of them.

The corpus is the official Python SDK (`mcp`) and stock fastmcp, each in the modes people deploy,
the TypeScript SDK's own example servers and `@modelcontextprotocol/server-everything` from npm.
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

import anyio

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
]


@dataclass
class Running:
    server: Server
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(server: Server, packages: dict[str, Path], workdir: Path) -> Running:
    """Start `server` on a free loopback port (not waited for); `packages` maps "sdk"/"everything" to their dirs."""
    port = free_port()
    env = {**os.environ, "CORPUS_PORT": str(port), "PORT": str(port), "MCP_PORT": str(port)}
    if server.kind == "python":
        command = [sys.executable, "-c", server.script, str(port)]
    else:
        node = shutil.which("node") or "node"
        preload = (HERE / "corpus_listen_port.mjs").as_uri()
        command = [node, "--import", preload, str(packages[server.package] / server.script), *server.args]
    log = workdir / f"{server.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Running(server, f"http://127.0.0.1:{port}/mcp", process, log)


def wait_listening(running: Running, seconds: float = 30) -> None:
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


def python_client(running: Running) -> Verdict:
    """The official Python client (`mcp.Client` over streamable_http_client): connect, list, call."""
    from mcp import Client

    async def session() -> str:
        with anyio.fail_after(30):
            async with Client(running.url) as client:
                tools = await client.list_tools()
                result = await client.call_tool(running.server.tool, running.server.arguments)
                return f"{len(tools.tools)} tools, call is_error={result.is_error}"

    try:
        return Verdict(True, anyio.run(session))
    except Exception as exc:  # any failure of the client is the verdict
        while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        return Verdict(False, f"{type(exc).__name__}: {exc}")


def ts_client(running: Running, sdk: Path) -> Verdict:
    """The TypeScript SDK's client (what Inspector and Claude Code are built on): connect, list, call."""
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
    return Verdict(done.returncode == 0, (done.stdout.strip() or done.stderr.strip())[-500:])


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
