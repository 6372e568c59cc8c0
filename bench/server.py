"""tools/call throughput and latency of a generated server against a minimal fastmcp one; OAuth flows per second.

Run: python bench/server.py [--seconds N] [--connections C] [--rounds R] [--flows F]

All servers run stateless with JSON responses, one uvicorn worker, pinned to CPU 0 with taskset; the load
generator (wrk, with a Lua script POSTing tools/call) is pinned to CPU 1, and so is this script:

  (a) a project `mcpgen new` renders with [auth] provider = "builtin", holding a token from the real OAuth flow;
  (b) the same project rendered with [auth] provider = "none";
  (c) a hand-written fastmcp server with a JWTVerifier checking HS256 tokens minted here;
  (c') the same with the garbage-collector settings generated servers apply after start-up ((a)/(c') is what
       the compliance layer and the built-in AS cost, everything else equal);
  (d) the official `mcp` SDK's low-level server with the same tool, no auth: the floor for Python ((b)/(d) is
       what fastmcp, the compliance layer, limits and observability cost together).

Rounds interleave the servers (a b c, then c b a, ...) so that drift hits all alike; the table shows medians.
Server CPU ms/req is utime + stime from /proc/<pid>/stat over the run, divided by the requests wrk completed.
Then the full flow (DCR, authorize, login, consent, token) runs against the builtin server on every storage
backend that answers on this machine, and the script reports flows per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

from common import ADD_TOOL, TOOL_BODY

SERVER_CPU, CLIENT_CPU = "0", "1"
PROTOCOL = "2025-06-18"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
USER, PASSWORD = "bench", secrets.token_urlsafe(16)
BACKENDS = {  # backend: STORAGE_URL (None: embedded)
    "sqlite": None,
    "redis": "redis://127.0.0.1:6379/0",
    "postgres": "postgresql://postgres@127.0.0.1:5432/test",
}

SPEC = (
    """\
[server]
name = "benchsrv"
description = "tools/call benchmark."
transport = "http"
stateless = true
json_response = true

[auth]
provider = "{auth}"

[storage]
backend = "{backend}"
"""
    + ADD_TOOL
)

# (c): the same tool, fastmcp's JWT verifier, and uvicorn run the way the generated `serve` runs it.
BASELINE = """\
import os, sys
import uvicorn
from fastmcp import FastMCP
from fastmcp.server.auth.providers.jwt import JWTVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse

port = int(sys.argv[1])
url = f"http://127.0.0.1:{port}"
auth = JWTVerifier(
    public_key=os.environ["JWT_SIGNING_KEY"], issuer=url, audience=f"{url}/mcp", algorithm="HS256", base_url=url
)
mcp = FastMCP("baseline", auth=auth)


@mcp.tool(name="add", description="Add two integers.")
async def add(*, a: int, b: int) -> int:
    return a + b


@mcp.custom_route("/healthz", methods=["GET"])
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = mcp.http_app(path="/mcp", stateless_http=True, json_response=True)
if os.environ.get("SETTLE_HEAP"):  # (c'): the generated server's garbage-collector settings (app.settle_heap)
    import gc
    gc.collect(); gc.freeze(); gc.set_threshold(20_000, *gc.get_threshold()[1:])
uvicorn.run(
    app, host="127.0.0.1", port=port, workers=1, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
    timeout_graceful_shutdown=20, log_level="warning",
)
"""

# (d): the official SDK's low-level server with the same tool and no auth: the floor for Python.
LOWLEVEL = """\
import sys
import uvicorn
from mcp import types
from mcp.server.lowlevel import Server
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}
OUTPUT = {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}
TOOL = types.Tool(name="add", description="Add two integers.", input_schema=SCHEMA, output_schema=OUTPUT)


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[TOOL])


async def call_tool(ctx, params):
    total = int(params.arguments["a"]) + int(params.arguments["b"])
    text = types.TextContent(type="text", text=str(total))
    return types.CallToolResult(content=[text], structured_content={"result": total})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


server = Server("lowlevel", on_list_tools=list_tools, on_call_tool=call_tool)
app = server.streamable_http_app(
    stateless_http=True, json_response=True, custom_starlette_routes=[Route("/healthz", healthz)]
)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), workers=1, timeout_graceful_shutdown=20, log_level="warning")
"""

LUA = """\
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["MCP-Protocol-Version"] = os.getenv("BENCH_PROTOCOL")
local token = os.getenv("BENCH_TOKEN")
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "socket_errors": %d, "bad_status": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> bool:
    """Whether something listens at the host and port of `url`."""
    parsed = httpx.URL(url)
    try:
        socket.create_connection((parsed.host, parsed.port or 0), timeout=1).close()
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat, after the command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A running server process pinned to the server CPU."""

    label: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    token: str = ""
    samples: list[dict[str, float]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Bench:
    """Everything started here (temp dir, processes, storage namespaces), removed again by close()."""

    def __init__(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="mcpgen-bench-server-"))
        self.servers: list[Server] = []
        self.namespaces: list[tuple[str, str, str]] = []

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        for backend, url, namespace in self.namespaces:
            try:
                asyncio.run(drop_namespace(backend, url, namespace))
            except Exception as exc:
                print(f"warning: could not clean namespace {namespace} in {backend}: {exc}", file=sys.stderr)
        shutil.rmtree(self.work, ignore_errors=True)

    def render(self, name: str, auth: str, backend: str) -> tuple[Path, dict[str, str]]:
        """A project from the bench spec, and the environment its commands run with."""
        spec = self.work / f"{name}.toml"
        spec.write_text(SPEC.format(auth=auth, backend=backend), encoding="utf-8")
        project = self.work / name
        run([sys.executable, "-m", "mcpgen", "new", str(project), "--spec", str(spec), "--yes"])
        (project / "benchsrv" / "tools" / "add.py").write_text(TOOL_BODY, encoding="utf-8")
        dotenv = dict(
            line.split("=", 1) for line in (project / ".env").read_text().splitlines() if "=" in line and line[0] != "#"
        )
        env = {**os.environ, **dotenv, "PYTHONPATH": str(project), "DATA_DIR": str(project / "data")}
        env["LOG_LEVEL"] = "WARNING"  # no access log: (c) runs uvicorn at log level warning too
        # wrk is one client far over the default tools/call rate: the limiter stays in the path (and is
        # measured), its limit out of reach; the flows measure the AS, not the per-address limits.
        env |= {"RATE_LIMIT_TOOL_CALLS": "100000000/60", "RATE_LIMIT_REGISTER": "0/60"}
        env |= {"RATE_LIMIT_TOKEN": "0/60", "RATE_LIMIT_LOGIN": "0/60", "RATE_LIMIT_AUTHORIZE": "0/60"}
        if url := BACKENDS[backend]:
            namespace = f"bench-{uuid.uuid4().hex[:12]}"
            env |= {"STORAGE_URL": url, "STORAGE_NAMESPACE": namespace}
            self.namespaces.append((backend, url, namespace))
        if auth == "builtin":
            add = [sys.executable, "-m", "benchsrv", "users", "add", USER, "--password-stdin"]
            run(add, cwd=project, env=env, stdin=PASSWORD + "\n")
        return project, env

    def start(self, label: str, command: list[str], env: dict[str, str], cwd: Path, port: int) -> Server:
        url = f"http://127.0.0.1:{port}"
        log = self.work / f"server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["taskset", "-c", SERVER_CPU, *command], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(label, url, process, log)
        self.servers.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{label}: server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{label}: no answer on /healthz within 60 s:\n{log.read_text()}")

    def start_generated(self, label: str, project: Path, env: dict[str, str]) -> Server:
        port = free_port()
        env = {**env, "PUBLIC_URL": f"http://127.0.0.1:{port}"}
        command = [sys.executable, "-m", "benchsrv", "serve", "--host", "127.0.0.1", "--port", str(port)]
        return self.start(label, command, env, project, port)


def run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str = "") -> None:
    done = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout}{done.stderr}")


async def drop_namespace(backend: str, url: str, namespace: str) -> None:
    if backend == "redis":
        import redis.asyncio as redis

        client = redis.from_url(url)
        async for key in client.scan_iter(match=f"*{namespace}__*"):
            await client.delete(key)
        await client.aclose()
    else:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(url)
        await connection.execute("DELETE FROM mcp_kv_store WHERE collection LIKE $1", f"{namespace}__%")
        await connection.close()


def field_value(html: str, name: str) -> str:
    found = re.search(rf"name={name} value='([^']*)'", html)
    if not found:
        raise RuntimeError(f"no {name} field in {html[:500]!r}")
    return found.group(1)


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response


async def authorize(url: str) -> str:
    """The whole authorization code flow with PKCE, as a client and a person do it; returns an access token."""
    callback = f"{url}/callback"
    resource = f"{url}/mcp"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        metadata = {
            "client_name": "bench",
            "redirect_uris": [callback],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
        client_id = expect(await http.post("/register", json=metadata), 201).json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "bench",
            "resource": resource,
        }
        login_url = expect(await http.get("/authorize", params=query), 302).headers["location"]
        page = expect(await http.get(login_url), 200).text
        form = {"txn": field_value(page, "txn"), "csrf": field_value(page, "csrf")}
        login = await http.post("/oauth/login", data={**form, "username": USER, "password": PASSWORD})
        page = expect(await http.get(expect(login, 303).headers["location"]), 200).text
        form = {"txn": field_value(page, "txn"), "csrf": field_value(page, "csrf"), "decision": "allow"}
        back = httpx.URL(expect(await http.post("/oauth/consent", data=form), 303).headers["location"])
        token = {
            "grant_type": "authorization_code",
            "code": back.params["code"],
            "redirect_uri": callback,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": resource,
        }
        access: str = expect(await http.post("/token", data=token), 200).json()["access_token"]
        return access


def mint(url: str, key: str) -> str:
    """A token shaped like the builtin server's, for the baseline's JWTVerifier."""
    now = int(time.time())
    claims = {"iss": url, "aud": f"{url}/mcp", "sub": USER, "client_id": "bench", "scope": "", "iat": now}
    return jwt.encode({**claims, "exp": now + 3600, "jti": uuid.uuid4().hex}, key, algorithm="HS256")


def check_call(server: Server) -> None:
    """One tools/call by hand: the answer wrk will hammer is a real, correct result."""
    headers = {**HEADERS, "MCP-Protocol-Version": PROTOCOL}
    if server.token:
        headers["Authorization"] = f"Bearer {server.token}"
    response = expect(httpx.post(f"{server.url}/mcp", json=CALL, headers=headers, timeout=10), 200)
    result = response.json().get("result", {})
    if result.get("structuredContent") != {"result": 3}:
        raise SystemExit(f"{server.label}: unexpected tools/call answer {response.text}")


def load(server: Server, lua: Path, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run against the server; its requests per second, latency percentiles and server CPU."""
    env = {**os.environ, "BENCH_BODY": json.dumps(CALL), "BENCH_PROTOCOL": PROTOCOL, "BENCH_TOKEN": server.token}
    command = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(lua)]
    cpu = cpu_seconds(server.pid)
    start = time.monotonic()
    command.append(f"{server.url}/mcp")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(server.pid) - cpu
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    stats = json.loads(line.removeprefix("BENCH "))
    if stats["socket_errors"] or stats["bad_status"] or not stats["requests"]:
        raise SystemExit(f"{server.label}: wrk saw errors {stats}\n{server.log.read_text()[-2000:]}")
    return {
        "rps": stats["requests"] / elapsed,
        "p50": stats["p50_us"] / 1000,
        "p99": stats["p99_us"] / 1000,
        "cpu": cpu * 1000 / stats["requests"],
    }


async def flows(url: str, count: int, concurrency: int) -> float:
    """`count` complete authorizations, `concurrency` at a time; returns the seconds they took."""
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            await authorize(url)

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - start


def throughput(bench: Bench, args: argparse.Namespace) -> None:
    builtin, builtin_env = bench.render("builtin", "builtin", "sqlite")
    none, none_env = bench.render("none", "none", "sqlite")
    a = bench.start_generated("(a) generated, builtin auth", builtin, builtin_env)
    a.token = asyncio.run(authorize(a.url))
    b = bench.start_generated("(b) generated, auth none", none, none_env)
    port = free_port()
    key = secrets.token_urlsafe(48)
    baseline = bench.work / "baseline.py"
    baseline.write_text(BASELINE, encoding="utf-8")
    env = {**os.environ, "JWT_SIGNING_KEY": key}
    c = bench.start("(c) fastmcp + JWTVerifier", [sys.executable, str(baseline), str(port)], env, bench.work, port)
    c.token = mint(c.url, key)
    port = free_port()
    settled = {**env, "SETTLE_HEAP": "1"}
    c2 = bench.start("(c') (c) + gc settings", [sys.executable, str(baseline), str(port)], settled, bench.work, port)
    c2.token = mint(c2.url, key)
    port = free_port()
    lowlevel = bench.work / "lowlevel.py"
    lowlevel.write_text(LOWLEVEL, encoding="utf-8")
    d = bench.start(
        "(d) mcp SDK low-level", [sys.executable, str(lowlevel), str(port)], dict(os.environ), bench.work, port
    )
    lua = bench.work / "call.lua"
    lua.write_text(LUA, encoding="utf-8")

    servers = [a, b, c, c2, d]
    for server in servers:
        check_call(server)
        load(server, lua, min(3, args.seconds), args.connections)  # warm-up, not counted
    for round_no in range(args.rounds):
        for server in servers if round_no % 2 == 0 else reversed(servers):
            sample = load(server, lua, args.seconds, args.connections)
            server.samples.append(sample)
            print(
                f"round {round_no + 1}/{args.rounds} {server.label}: {sample['rps']:.0f} req/s, "
                f"p50 {sample['p50']:.1f} ms, p99 {sample['p99']:.1f} ms, {sample['cpu']:.2f} ms CPU/req",
                file=sys.stderr,
            )
    for server in servers:
        server.stop()

    def med(server: Server, key: str) -> float:
        return statistics.median(sample[key] for sample in server.samples)

    print(f"\ntools/call, stateless JSON, 1 uvicorn worker on CPU {SERVER_CPU}; wrk -t1 -c{args.connections}", end="")
    print(f" -d{args.seconds}s on CPU {CLIENT_CPU}; median of {args.rounds} interleaved rounds")
    print("(every server runs the same `add` body, return a + b; log level warning)\n")
    print(f"{'server':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}")
    for server in servers:
        rps, p50, p99, cpu = (med(server, key) for key in ("rps", "p50", "p99", "cpu"))
        print(f"{server.label:<30}{rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{cpu:>12.2f}")
    ratios = [
        ("(a)/(c') throughput", med(a, "rps") / med(c2, "rps"), ">=", 1.0),
        ("(b)/(d) throughput", med(b, "rps") / med(d, "rps"), ">=", 0.9),
        ("(a)/(c) throughput", med(a, "rps") / med(c, "rps"), ">=", 1.0),
        ("(a)/(b) throughput (auth cost)", med(a, "rps") / med(b, "rps"), ">=", 0.95),
        ("(a)/(c) p99 latency", med(a, "p99") / med(c, "p99"), "<=", 1.2),
    ]
    print(f"\n{'ratio':<32}{'value':>7}  {'target':<9}verdict")
    for label, value, op, target in ratios:
        ok = value >= target if op == ">=" else value <= target
        print(f"{label:<32}{value:>7.2f}  {op} {target:<6}{'ok' if ok else 'MISSED'}")
    print(f"{'(a)/(c) server CPU per request':<32}{med(a, 'cpu') / med(c, 'cpu'):>7.2f}  (for information)")


def authorizations(bench: Bench, args: argparse.Namespace) -> None:
    print(f"\nfull authorizations (DCR, authorize, login, consent, token): {args.flows} flows, 4 at a time")
    print(f"{'backend':<12}{'flows/s':>9}{'CPU ms/flow':>13}")
    for backend, url in BACKENDS.items():
        if url and not answers(url):
            print(f"{backend:<12}skipped: nothing answers at {httpx.URL(url).host}:{httpx.URL(url).port}")
            continue
        project, env = bench.render(f"flows-{backend}", "builtin", backend)
        server = bench.start_generated(f"builtin on {backend}", project, env)
        asyncio.run(flows(server.url, 2, 1))  # warm-up
        cpu = cpu_seconds(server.pid)
        seconds = asyncio.run(flows(server.url, args.flows, 4))
        cpu = cpu_seconds(server.pid) - cpu
        print(f"{backend:<12}{args.flows / seconds:>9.1f}{cpu * 1000 / args.flows:>13.1f}")
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds to take the median of (default 3)")
    parser.add_argument("--flows", type=int, default=30, help="authorizations per storage backend (default 30)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # tables and progress interleave in order
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `apt-get install -y wrk` (Debian) and try again", file=sys.stderr)
        raise SystemExit(2)
    if not {0, 1} <= os.sched_getaffinity(0):
        raise SystemExit("needs CPUs 0 and 1: the servers run on CPU 0 and the load generators on CPU 1")
    os.sched_setaffinity(0, {int(CLIENT_CPU)})  # the flow driver and everything rendered here stay off CPU 0

    bench = Bench()
    try:
        throughput(bench, args)
        authorizations(bench, args)
    finally:
        bench.close()


if __name__ == "__main__":
    main()
