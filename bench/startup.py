"""Cold start and memory of generated servers against a stock fastmcp server with the same one tool.

Run: python bench/startup.py [--rounds N]

Cold start is the time from spawning the server process to its first successful `initialize` over
HTTP (what a client of a scale-to-zero platform waits for once the machine is up); RSS is the server
process's resident memory right after that answer. The servers:

  stock     fastmcp 4.2 with one tool, `mcp.run(transport="http")`, no auth;
  none      a project `mcpgen new` renders with [auth] provider = "none" (SQLite storage);
  static    the same with provider = "static", initialize sent with an API key from its .env;
  builtin   the same with provider = "builtin", initialize sent with an access token from the real
            OAuth flow, obtained once before the rounds (the token lives in the project's store).

Each round starts every server once, in an order that rotates from round to round, so that drift on a
busy machine hits all alike; the table shows medians and the ratios against stock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from common import ADD_TOOL, TOOL_BODY
from server import PASSWORD, USER, authorize, cpu_seconds, free_port, run

START_TARGET = 1.15  # cold start / stock
RSS_TARGET = 1.1  # RSS / stock
VARIANTS = ("none", "static", "builtin")
PROTOCOL = "2025-06-18"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

SPEC = (
    """\
[server]
name = "benchsrv"
description = "Start-up benchmark."
transport = "http"

[auth]
provider = "{auth}"
"""
    + ADD_TOOL
)

STOCK = """\
import sys

from fastmcp import FastMCP

mcp = FastMCP("stock")


@mcp.tool(name="add", description="Add two integers.")
async def add(*, a: int, b: int) -> int:
    return a + b


mcp.run(transport="http", host="127.0.0.1", port=int(sys.argv[1]), show_banner=False, log_level="warning")
"""


@dataclass
class Variant:
    """How to start one server, and what it measured."""

    label: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    token: str = ""
    port: int = 0  # 0: a free one each start
    starts: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def measure(self, deadline: float = 60) -> None:
        port = self.port or free_port()
        env = {**self.env, "PUBLIC_URL": f"http://127.0.0.1:{port}"}
        url = f"http://127.0.0.1:{port}/mcp"
        headers = {**HEADERS, "Authorization": f"Bearer {self.token}"} if self.token else HEADERS
        started = time.perf_counter()
        process = subprocess.Popen(
            [*self.command, str(port)], cwd=self.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            with httpx.Client(timeout=5) as http:
                while True:
                    if process.poll() is not None:
                        raise SystemExit(f"{self.label} exited with {process.returncode}: {process.stderr.read()!r}")  # type: ignore[union-attr]
                    if time.perf_counter() - started > deadline:
                        raise SystemExit(f"{self.label}: no initialize answered within {deadline} s")
                    try:
                        response = http.post(url, json=INITIALIZE, headers=headers)
                    except httpx.TransportError:
                        time.sleep(0.005)
                        continue
                    if response.status_code != 200 or "serverInfo" not in response.text:
                        raise SystemExit(f"{self.label}: initialize answered {response.status_code} {response.text}")
                    break
            self.starts.append(time.perf_counter() - started)
            self.cpu.append(cpu_seconds(process.pid))
            self.rss.append(rss_mib(process.pid))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def dotenv(project: Path) -> dict[str, str]:
    lines = (project / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def generated(work: Path, auth: str) -> Variant:
    spec = work / f"{auth}.toml"
    spec.write_text(SPEC.format(auth=auth), encoding="utf-8")
    project = work / auth
    run([sys.executable, "-m", "mcpgen", "new", str(project), "--spec", str(spec), "--yes"])
    (project / "benchsrv" / "tools" / "add.py").write_text(TOOL_BODY, encoding="utf-8")
    env = {**os.environ, **dotenv(project), "DATA_DIR": str(project / "data"), "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "benchsrv", "serve", "--host", "127.0.0.1", "--port"]
    variant = Variant(auth, command, project, env)
    if auth == "static":
        variant.token = env["API_KEYS"].split(",")[0]
    if auth == "builtin":
        run([*command[:3], "users", "add", USER, "--password-stdin"], cwd=project, env=env, stdin=PASSWORD + "\n")
        variant.token = token_from_a_run(variant)
    return variant


def token_from_a_run(variant: Variant) -> str:
    """An access token for the builtin server: the OAuth flow against one run of it, on a fixed port.

    The token names its issuer and audience (the URL), so every later start serves on that same port.
    """
    variant.port = free_port()
    url = f"http://127.0.0.1:{variant.port}"
    env = {**variant.env, "PUBLIC_URL": url}
    command = [*variant.command, str(variant.port)]
    process = subprocess.Popen(command, cwd=variant.cwd, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return asyncio.run(authorize(url))
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("builtin: no answer on /healthz within 60 s")
    finally:
        process.terminate()
        process.wait(timeout=25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds to take the medians of (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcpgen-bench-startup-") as tmp:
        work = Path(tmp)
        (work / "stock.py").write_text(STOCK, encoding="utf-8")
        stock = Variant("stock", [sys.executable, str(work / "stock.py")], work, dict(os.environ))
        variants = [stock, *(generated(work, auth) for auth in VARIANTS)]
        measure_all(variants, args.rounds)
    report(stock, variants, args.rounds)


def measure_all(variants: list[Variant], rounds: int) -> None:
    for variant in variants:  # warm-up, not counted: bytecode caches, the page cache
        variant.measure()
        variant.starts.clear()
        variant.cpu.clear()
        variant.rss.clear()
    for round_no in range(rounds):
        shift = round_no % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            variant.measure()
        print(f"round {round_no + 1}/{rounds} done", file=sys.stderr)


def report(stock: Variant, variants: list[Variant], rounds: int) -> None:
    median = statistics.median
    print(f"spawn -> first successful initialize over HTTP, and RSS right after; median of {rounds} rotated rounds")
    print("CPU s is the server's own CPU time (user + system) up to that answer: what start-up costs, whatever")
    print("else the machine is doing (wall-clock start s is what a client waits for on a machine of its own).\n")
    print(f"{'server':<10}{'start s':>9}{'ratio':>8}{'CPU s':>8}{'ratio':>8}{'RSS MiB':>10}{'ratio':>8}  verdict")
    base_start, base_cpu, base_rss = median(stock.starts), median(stock.cpu), median(stock.rss)
    for variant in variants:
        start, cpu, rss = median(variant.starts), median(variant.cpu), median(variant.rss)
        ok = start / base_start <= START_TARGET and rss / base_rss <= RSS_TARGET
        verdict = "" if variant is stock else ("ok" if ok else "MISSED")
        print(
            f"{variant.label:<10}{start:>9.3f}{start / base_start:>7.2f}x{cpu:>8.2f}{cpu / base_cpu:>7.2f}x"
            f"{rss:>10.1f}{rss / base_rss:>7.2f}x  {verdict}"
        )
    print(f"\ntargets: start <= {START_TARGET}x, RSS <= {RSS_TARGET}x the stock fastmcp server")


if __name__ == "__main__":
    main()
