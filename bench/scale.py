"""Scale-out on one machine: tools/call throughput with 1 vs 2 uvicorn workers, and 1 vs 2 replicas behind nginx.

Run: python bench/scale.py [--seconds N] [--connections C] [--rounds R]

One project (`mcpgen new`: auth none, stateless, JSON responses, SQLite, compose target) with the `add` tool
of bench/server.py, served four ways at once, measured in interleaved rounds (the table shows medians):

  workers: `serve --workers 1` and `serve --workers 2`, wrk straight at the server;
  replicas: one and two `serve` processes behind the nginx config the project generated (deploy/nginx.conf,
            with only its addresses changed to loopback), wrk at nginx.

Nothing is pinned: the servers need both CPUs of a 2-core machine, so wrk and nginx compete with them, and the
table reports every party's CPU (seconds over the run) so the ratios can be read against it. Rate limits are
turned off (RATE_LIMIT_TOOL_CALLS=0/60): this measures serving, not the store the limiter writes to.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ADD_TOOL, NGINX_MAIN, TOOL_BODY
from server import CALL, HEADERS, LUA, PROTOCOL, Bench, Server, cpu_seconds, expect, free_port

SPEC = (
    """\
[server]
name = "benchsrv"
stateless = true
json_response = true

[storage]
backend = "sqlite"

[deploy]
target = ["docker", "compose"]
"""
    + ADD_TOOL
)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's workers are its children)."""
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        with contextlib.suppress(FileNotFoundError):  # a worker that just exited
            total += tree_cpu(int(child))
    return total


def wrk(url: str, lua: Path, seconds: int, connections: int) -> dict[str, float]:
    env = {**os.environ, "BENCH_BODY": json.dumps(CALL), "BENCH_PROTOCOL": PROTOCOL, "BENCH_TOKEN": ""}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(lua), f"{url}/mcp"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    stats = json.loads(line.removeprefix("BENCH "))
    if stats["socket_errors"] or stats["bad_status"] or not stats["requests"]:
        raise SystemExit(f"wrk saw errors against {url}: {stats}")
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rps": stats["requests"] / elapsed, "p99": stats["p99_us"] / 1000, "wrk_cpu": wrk_cpu, "seconds": elapsed}


def start_nginx(bench: Bench, project: Path, upstreams: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    site = (project / "deploy" / "nginx.conf").read_text()
    site = re.sub(r"server benchsrv:8000;", " ".join(f"server {u};" for u in upstreams), site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    workdir = bench.work / f"nginx-{port}"
    workdir.mkdir()
    (workdir / "site.conf").write_text(site)
    (workdir / "main.conf").write_text(NGINX_MAIN.format(dir=workdir, site=workdir / "site.conf"))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-p", str(workdir), "-c", str(workdir / "main.conf"), "-e", "stderr"])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("nginx did not come up") from None
            time.sleep(0.1)


def serve(bench: Bench, project: Path, env: dict[str, str], workers: int) -> Server:
    """`serve --workers N` on a free port, free to use every CPU (bench/server.py pins its servers to one)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**env, "PUBLIC_URL": url, "RATE_LIMIT_TOOL_CALLS": "0/60"}
    command = [sys.executable, "-m", "benchsrv", "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = bench.work / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*command, "--workers", str(workers)], env=env, cwd=project, stdout=out, stderr=out)
    server = Server(f"{workers} worker(s)", url, process, log)
    bench.servers.append(server)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
            return server
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"server did not come up:\n{log.read_text()}") from None
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds to take the median of (default 3)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    bench = Bench()
    nginxes: list[subprocess.Popen[bytes]] = []
    try:
        spec = bench.work / "scale.toml"
        spec.write_text(SPEC)
        project = bench.work / "scale"
        new = [sys.executable, "-m", "mcpgen", "new", str(project), "--spec", str(spec), "--yes"]
        subprocess.run(new, check=True, stdout=subprocess.DEVNULL)
        (project / "benchsrv" / "tools" / "add.py").write_text(TOOL_BODY)
        dotenv = (line.split("=", 1) for line in (project / ".env").read_text().splitlines() if "=" in line)
        env = {**os.environ, **dict(dotenv), "PYTHONPATH": str(project), "DATA_DIR": str(project / "data")}
        env["LOG_LEVEL"] = "WARNING"
        lua = bench.work / "call.lua"
        lua.write_text(LUA)
        samples: dict[str, list[dict[str, float]]] = {}
        setups: list[tuple[str, str, list[int], subprocess.Popen[bytes] | None]] = []  # label, url, pids, nginx
        for workers in (1, 2):
            server = serve(bench, project, env, workers)
            setups.append((f"serve --workers {workers}", server.url, [server.pid], None))
        for replicas in (1, 2):
            servers = [serve(bench, project, env, 1) for _ in range(replicas)]
            nginx, url = start_nginx(bench, project, [s.url.removeprefix("http://") for s in servers])
            nginxes.append(nginx)
            setups.append((f"{replicas} replica(s) behind nginx", url, [s.pid for s in servers], nginx))
        headers = {**HEADERS, "MCP-Protocol-Version": PROTOCOL}
        for _, url, _, _ in setups:
            expect(httpx.post(f"{url}/mcp", json=CALL, headers=headers, timeout=10), 200)
            wrk(url, lua, 2, args.connections)  # warm-up
        # Every setup stays up while the others are measured (idle, it costs nothing); rounds interleave.
        for round_no in range(args.rounds):
            for label, url, pids, nginx in setups if round_no % 2 == 0 else reversed(setups):
                cpu = sum(tree_cpu(pid) for pid in pids)
                nginx_before = tree_cpu(nginx.pid) if nginx else 0.0
                result = wrk(url, lua, args.seconds, args.connections)
                result["server_cpu"] = sum(tree_cpu(pid) for pid in pids) - cpu
                if nginx:
                    result["nginx_cpu"] = tree_cpu(nginx.pid) - nginx_before
                samples.setdefault(label, []).append(result)
                print(f"round {round_no + 1}/{args.rounds} {label}: {result['rps']:.0f} req/s", file=sys.stderr)
    finally:
        for nginx in nginxes:
            nginx.terminate()
            nginx.wait(timeout=10)
        bench.close()

    cpus = len(os.sched_getaffinity(0))
    print(f"\ntools/call, auth none, stateless JSON, {cpus} CPUs shared by everything; wrk -t1 -c{args.connections}")
    # Other work on the machine takes CPU from the servers; the load average says how much there was.
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"-d{args.seconds}s, median of {args.rounds} interleaved rounds; CPU columns are CPU-seconds over a run\n")
    print(f"{'setup':<30}{'req/s':>8}{'p99 ms':>8}{'server CPU':>12}{'nginx CPU':>11}{'wrk CPU':>9}")
    rows = {label: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for label, runs in samples.items()}
    for label, r in rows.items():
        nginx_cpu = f"{r['nginx_cpu']:.1f}" if "nginx_cpu" in r else "-"
        print(f"{label:<30}{r['rps']:>8.0f}{r['p99']:>8.1f}{r['server_cpu']:>12.1f}{nginx_cpu:>11}{r['wrk_cpu']:>9.1f}")
    workers = rows["serve --workers 2"]["rps"] / rows["serve --workers 1"]["rps"]
    verdict = "ok" if workers >= 1.6 else "MISSED"
    print(f"\n2 workers / 1 worker:   {workers:.2f}x (target >= 1.6x: {verdict})")
    two, one = rows["2 replica(s) behind nginx"], rows["1 replica(s) behind nginx"]
    print(f"2 replicas / 1 replica: {two['rps'] / one['rps']:.2f}x (behind nginx)")


if __name__ == "__main__":
    main()
