"""Generated projects served for real on loopback, for the tests that talk to them as clients do."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Served:
    url: str  # the base URL; the MCP endpoint is url + "/mcp"
    dotenv: dict[str, str]  # the project's .env, as `mcpgen new` wrote it
    process: subprocess.Popen[bytes]
    log: Path


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text(encoding="utf-8").splitlines())
    return {name: value for name, sep, value in pairs if sep and not name.startswith("#")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(project: Path, package: str, workdir: Path, *args: str, **env: str) -> Served:
    """`<package> serve [args]` on a free port, with the project's .env and its own data dir; not yet waited for."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    dotenv = read_env(project / ".env")
    environment = (
        os.environ
        | dotenv
        | {
            "PUBLIC_URL": url,
            "DATA_DIR": str(workdir / "data"),
            "PYTHONPATH": str(project),
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    log = workdir / f"server-{port}.log"
    command = [sys.executable, "-m", package, "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=workdir, env=environment, stdout=out, stderr=subprocess.STDOUT)
    return Served(url, dotenv, process, log)


def wait_healthy(served: Served, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"server exited with {served.process.returncode}:\n{served.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{served.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server not healthy after {seconds:.0f} s:\n{served.log.read_text()}")


def stop(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()


@contextmanager
def serve(project: Path, package: str, workdir: Path, *args: str, **env: str) -> Iterator[Served]:
    served = start(project, package, workdir, *args, **env)
    try:
        wait_healthy(served)
        yield served
    finally:
        stop(served)


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Everything nginx writes goes under its own prefix directory; no root, no daemon.
NGINX_MAIN = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {site};
}}
"""


def nginx_available() -> bool:
    return Path(NGINX).is_file()


def nginx_check(site: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a site config (an `http` block's content), as nginx itself reads it."""
    main = _nginx_main(site, workdir)
    return subprocess.run(
        [NGINX, "-t", "-p", str(workdir), "-c", str(main), "-e", "stderr"], capture_output=True, text=True, timeout=30
    )


@contextmanager
def nginx(site: Path, workdir: Path, port: int) -> Iterator[str]:
    """A real nginx serving `site` (which listens on `port`) on loopback; yields its URL."""
    main = _nginx_main(site, workdir)
    log = workdir / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [NGINX, "-p", str(workdir), "-c", str(main), "-e", "stderr"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited with {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"nginx not listening on {port}:\n{log.read_text()}")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _nginx_main(site: Path, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    main = workdir / "nginx-main.conf"
    main.write_text(NGINX_MAIN.format(dir=workdir, site=site.resolve()))
    return main
