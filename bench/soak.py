"""Soak: mixed traffic against two replicas sharing a store, with a replica and the store restarted mid-run.

Run: python bench/soak.py [--seconds 600] [--backend redis|postgres] [--clients 8]

Starts everything itself on free loopback ports and removes it afterwards: its own redis-server (append-only,
so a restart keeps the data) or its own PostgreSQL cluster (initdb in a temp dir, run as `nobody` when this
runs as root), a generated builtin-auth stateless project, two `serve` replicas and nginx with the project's
own deploy/nginx.conf in front. Never the machine's shared Redis or PostgreSQL.

Traffic, from --clients concurrent clients: tools/call with the client's current access token (most
requests), refresh-token rotation (about 1 in 10), and a new registration plus a whole sign-in (about 1 in 20).
At 25% of the run one replica is killed (SIGKILL) and started again 5 s later; at 55% the store is stopped
and started again 3 s later. The report: requests by kind, 5xx and connection errors inside and outside those
windows (a window lasts until 10 s after the restart), lost tokens (a token this client holds as valid that
the server no longer honours: any 401 or invalid_grant), and each replica's RSS from warm-up to end, with its
floor in each quarter of the run (sign-ins make the samples swing; the floor shows growth) and its peak.
The targets: zero lost tokens, zero 5xx outside the windows, flat memory.

Measured (600 s, the default, on the quiet 2-core machine): Redis, 92,492 operations outside the fault
windows; PostgreSQL, 83,211 (a run before the cache fix below). Both: zero lost tokens, zero 5xx and zero
errors outside the windows. The RSS floor rose ~25 MiB per replica in 10 minutes until the token caches swept
expired answers (tokens.RecentCache); since then it is flat after warm-up (96 103 104 104 MiB by quarter on
Redis), while argon2 at each sign-in makes single samples peak at 300-400 MiB. tests/test_soak.py runs the
60 s variant on both stores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from common import ADD_TOOL, NGINX_MAIN, TOOL_BODY

CALLBACK = "http://127.0.0.1:33418/callback"
WINDOWS = ["replica restart", "store restart"]  # the faults, in the order they happen
ACCEPT = "application/json, text/event-stream"
USER, PASSWORD = "soak", secrets.token_urlsafe(16)
SPEC = (
    """\
[server]
name = "soaksrv"
stateless = true

[auth]
provider = "builtin"

[storage]
backend = "{backend}"

[deploy]
replicas = 2
target = ["docker", "compose"]
"""
    + ADD_TOOL
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing listens on {port} after {seconds:.0f} s") from None
            time.sleep(0.1)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Store:
    """A Redis or PostgreSQL server of this run's own, on a free port, restartable with its data."""

    def __init__(self, backend: str, work: Path) -> None:
        self.backend = backend
        self.port = free_port()
        self.dir = work / backend
        self.dir.mkdir()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = (work / f"{backend}.log").open("ab")
        self.as_user: list[str] = []
        if backend == "postgres":
            # PostgreSQL refuses to run as root.
            if os.geteuid() == 0:
                shutil.chown(self.dir, "nobody")
                shutil.chown(work, "nobody")
                self.as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
            initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))[-1]
            command = [*self.as_user, str(initdb), "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust"]
            subprocess.run(command, check=True, stdout=self.log, stderr=self.log)

    @property
    def url(self) -> str:
        if self.backend == "redis":
            return f"redis://127.0.0.1:{self.port}/0"
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if self.backend == "redis":
            command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
            command += ["--appendonly", "yes", "--save", ""]
        else:
            postgres = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))[-1]
            command = [*self.as_user, str(postgres), "-D", str(self.dir / "data"), "-p", str(self.port)]
            command += ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log)
        wait_port(self.port)
        time.sleep(0.5)  # PostgreSQL listens a moment before it accepts connections

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM if self.backend == "redis" else signal.SIGINT)
            self.process.wait(timeout=30)


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes]
    rss: list[int] = field(default_factory=list)  # KiB every 5 s since the process (re)started; [0] is after warm-up


@dataclass
class Client:
    """One simulated MCP client: its registration and the tokens it holds."""

    client_id: str = ""
    access: str = ""
    refresh: str = ""
    # Its last refresh failed without an answer: the server may have rotated the token anyway.
    unsure: bool = False


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    windows: list[tuple[float, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    lost_after_failed_refresh: list[str] = field(default_factory=list)

    def in_window(self) -> bool:
        now = time.monotonic()
        return any(start <= now <= end for start, end in self.windows)

    def add(self, key: str) -> None:
        where = "window" if self.in_window() else "steady"
        self.counts[f"{key} ({where})"] = self.counts.get(f"{key} ({where})", 0) + 1


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="mcpgen-soak-"))
        os.chmod(self.work, 0o755)
        self.store = Store(args.backend, self.work)
        self.replicas: list[Replica] = []
        self.nginx: subprocess.Popen[bytes] | None = None
        self.tally = Tally()
        self.project = self.work / "soaksrv"
        self.env: dict[str, str] = {}
        self.public_url = ""

    def close(self) -> None:
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.process.kill()
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
        self.store.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def setup(self) -> None:
        self.store.start()
        spec = self.work / "soak.toml"
        spec.write_text(SPEC.format(backend=self.args.backend))
        subprocess.run(
            [sys.executable, "-m", "mcpgen", "new", str(self.project), "--spec", str(spec), "--yes"],
            check=True,
            capture_output=True,
        )
        (self.project / "soaksrv" / "tools" / "add.py").write_text(TOOL_BODY)
        dotenv = (line.split("=", 1) for line in (self.project / ".env").read_text().splitlines() if "=" in line)
        nginx_port = free_port()
        self.public_url = f"http://127.0.0.1:{nginx_port}"
        self.env = {
            **os.environ,
            **dict(dotenv),
            "PYTHONPATH": str(self.project),
            "STORAGE_URL": self.store.url,
            "PUBLIC_URL": self.public_url,
            "LOG_LEVEL": "WARNING",
            # One address sends everything here; the limits are tested elsewhere.
            "RATE_LIMIT_TOOL_CALLS": "0/60",
            "RATE_LIMIT_REGISTER": "0/60",
            "RATE_LIMIT_TOKEN": "0/60",
            "RATE_LIMIT_LOGIN": "0/60",
            "RATE_LIMIT_AUTHORIZE": "0/60",
        }
        add = [sys.executable, "-m", "soaksrv", "users", "add", USER, "--password-stdin"]
        subprocess.run(add, input=PASSWORD + "\n", env=self.env, cwd=self.work, check=True, text=True)
        ports = [free_port(), free_port()]
        for port in ports:
            self.replicas.append(Replica(port, self.start_replica(port)))
        site = (self.project / "deploy" / "nginx.conf").read_text()
        site = site.replace("server soaksrv:8000;", " ".join(f"server 127.0.0.1:{p};" for p in ports))
        site = site.replace("listen 80;", f"listen 127.0.0.1:{nginx_port};")
        nginx_dir = self.work / "nginx"
        nginx_dir.mkdir()
        (nginx_dir / "site.conf").write_text(site)
        (nginx_dir / "main.conf").write_text(NGINX_MAIN.format(dir=nginx_dir, site=nginx_dir / "site.conf"))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = subprocess.Popen([nginx, "-p", str(nginx_dir), "-c", str(nginx_dir / "main.conf")])
        wait_port(nginx_port)

    def start_replica(self, port: int) -> subprocess.Popen[bytes]:
        log = (self.work / f"replica-{port}.log").open("ab")
        command = [sys.executable, "-m", "soaksrv", "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(command, env=self.env, cwd=self.work, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"replica on {port} did not start:\n{(self.work / f'replica-{port}.log').read_text()}")
            time.sleep(0.1)

    async def sign_in(self, http: httpx.AsyncClient, client: Client) -> None:
        body = {"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"}
        registered = await http.post("/register", json=body)
        self.check(registered, 201, "register")
        # The new registration only replaces the client's old one with the tokens it earns: a sign-in
        # cut off by a fault leaves the client with its old id and its old, still valid tokens.
        client_id = registered.json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": f"{self.public_url}/mcp",
        }
        page = await http.get("/authorize", params=query, follow_redirects=True)
        location = ""
        for fields in ({"username": USER, "password": PASSWORD}, {"decision": "allow"}):
            self.check(page, 200, "sign-in page")
            hidden = dict(re.findall(r"name=(txn|csrf) value='([^']*)'", page.text))
            action = re.search(r"action='([^']*)'", page.text)
            answer = await http.post(action.group(1) if action else "/", data={**hidden, **fields})
            self.check(answer, 303, "sign-in form")
            location = answer.headers["location"]
            if location.startswith(CALLBACK):
                break
            page = await http.get(location)
        form = {
            "grant_type": "authorization_code",
            "code": httpx.URL(location).params["code"],
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": f"{self.public_url}/mcp",
        }
        token = await http.post("/token", data=form)
        self.check(token, 200, "token")
        client.client_id = client_id
        client.access, client.refresh = token.json()["access_token"], token.json()["refresh_token"]

    def check(self, response: httpx.Response, status: int, what: str) -> None:
        if response.status_code >= 500:
            self.tally.add("5xx")
            raise RuntimeError(what)
        if response.status_code != status:
            raise AssertionError(f"{what}: {response.status_code} {response.text[:300]}")

    async def call(self, http: httpx.AsyncClient, client: Client) -> None:
        headers = {"Authorization": f"Bearer {client.access}", "Accept": ACCEPT, "MCP-Protocol-Version": "2025-06-18"}
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 2}},
        }
        response = await http.post("/mcp", json=body, headers=headers)
        if response.status_code == 401:
            self.lose(client, "access token refused")
            return
        self.check(response, 200, "tools/call")

    async def refresh(self, http: httpx.AsyncClient, client: Client) -> None:
        form = {"grant_type": "refresh_token", "refresh_token": client.refresh, "client_id": client.client_id}
        response = await http.post("/token", data=form)
        if response.status_code == 400 and response.json().get("error") == "invalid_grant":
            self.lose(client, f"refresh token refused: {response.json().get('error_description')}")
            return
        self.check(response, 200, "refresh")
        client.access, client.refresh = response.json()["access_token"], response.json()["refresh_token"]
        client.unsure = False

    def lose(self, client: Client, what: str) -> None:
        """A token the client holds was refused; it signs in again (as a real client would)."""
        lost = self.tally.lost_after_failed_refresh if client.unsure else self.tally.lost
        now = time.monotonic()
        faults = [name for (start, end), name in zip(self.tally.windows, WINDOWS, strict=False) if start <= now <= end]
        where = f"during the {faults[0]}" if faults else "outside the fault windows"
        lost.append(f"{what} {where} ({client.client_id})")
        client.access = client.refresh = ""
        client.unsure = False

    async def client_loop(self, deadline: float) -> None:
        client = Client()
        async with httpx.AsyncClient(base_url=self.public_url, timeout=30) as http:
            while time.monotonic() < deadline:
                roll = random.random()
                kind = "sign-in" if not client.access or roll < 0.05 else "refresh" if roll < 0.15 else "call"
                try:
                    if kind == "sign-in":
                        await self.sign_in(http, client)
                    elif kind == "refresh":
                        await self.refresh(http, client)
                    else:
                        await self.call(http, client)
                    self.tally.add(kind)
                except (httpx.TransportError, RuntimeError):
                    self.tally.add("error")
                    client.unsure = client.unsure or kind == "refresh"
                    await asyncio.sleep(0.2)
                except AssertionError as exc:
                    # A 401 here means a token this client held was refused: lost.
                    self.tally.add("unexpected")
                    if " 401 " in str(exc):
                        self.tally.lost.append(f"unexpected answer: {exc}")
                    else:
                        print(f"unexpected answer: {exc}", file=sys.stderr)

    async def faults(self, seconds: float) -> None:
        await asyncio.sleep(seconds * 0.25)
        victim = self.replicas[0]
        start = time.monotonic()
        # The window is open from the fault until 10 s after the recovery.
        self.tally.windows.append((start, float("inf")))
        victim.process.kill()
        print(f"[{start - self.tally.started:.0f}s] killed a replica", file=sys.stderr)
        await asyncio.sleep(5)
        victim.process = await asyncio.to_thread(self.start_replica, victim.port)
        victim.rss = []  # measured again after warm-up
        self.tally.windows[-1] = (start, time.monotonic() + 10)
        await asyncio.sleep(seconds * 0.30 - 5)
        start = time.monotonic()
        self.tally.windows.append((start, float("inf")))
        await asyncio.to_thread(self.store.stop)
        print(f"[{start - self.tally.started:.0f}s] stopped the store", file=sys.stderr)
        await asyncio.sleep(3)
        await asyncio.to_thread(self.store.start)
        self.tally.windows[-1] = (start, time.monotonic() + 10)

    async def sample_memory(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(5)
            for replica in self.replicas:
                if replica.process.poll() is not None:
                    continue
                replica.rss.append(rss_kb(replica.process.pid))

    async def run(self) -> None:
        seconds = self.args.seconds
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(self.client_loop(deadline) for _ in range(self.args.clients)),
            self.faults(seconds),
            self.sample_memory(deadline),
        )

    def report(self, seconds: float) -> int:
        print(f"\nsoak: {seconds:.0f} s, {self.args.clients} clients, 2 replicas behind nginx, own {self.args.backend}")
        for key in sorted(self.tally.counts):
            print(f"  {key:<28}{self.tally.counts[key]:>8}")
        total = sum(v for k, v in self.tally.counts.items() if k.split(" (")[0] in ("call", "refresh", "sign-in"))
        print(f"  {'requests/s (completed ops)':<28}{total / seconds:>8.1f}")
        for replica in self.replicas:
            now = rss_kb(replica.process.pid)
            samples = replica.rss or [now]
            print(f"  replica :{replica.port} RSS {samples[0] / 1024:.1f} -> {now / 1024:.1f} MiB", end="")
            # Each sign-in's argon2 check takes 64 MiB for a moment, so single samples swing by hundreds of MiB;
            # the floor of each quarter of the run is what a leak would raise.
            floors = [
                min(samples[len(samples) * q // 4 : max(len(samples) * (q + 1) // 4, 1)] or [now]) for q in range(4)
            ]
            print(f"; floor by quarter {' '.join(f'{kb / 1024:.0f}' for kb in floors)}, peak {max(samples) / 1024:.0f}")
        steady_5xx = self.tally.counts.get("5xx (steady)", 0)
        steady_errors = self.tally.counts.get("error (steady)", 0)
        print(
            f"  lost tokens: {len(self.tally.lost)}; 5xx outside windows: {steady_5xx}; errors outside: {steady_errors}"
        )
        for line in self.tally.lost[:10]:
            print(f"    {line}")
        # A refresh that failed with no answer may still have rotated the token on the server; the client's retry
        # with the old one is then reuse, which revokes the family (RFC 9700 §4.14.2). Counted apart.
        print(f"  tokens refused after a refresh that got no answer: {len(self.tally.lost_after_failed_refresh)}")
        return 0 if not self.tally.lost and not steady_5xx and not steady_errors else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600, help="length of the run (default 600)")
    parser.add_argument("--backend", choices=["redis", "postgres"], default="redis")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    args = parser.parse_args()
    for tool in ("nginx", "redis-server") if args.backend == "redis" else ("nginx",):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            raise SystemExit(f"{tool} is not installed")
    soak = Soak(args)
    try:
        soak.setup()
        started = time.monotonic()
        asyncio.run(soak.run())
        code = soak.report(time.monotonic() - started)
    finally:
        soak.close()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
