"""Shared fixtures: rendered projects (one per spec per session) and running their own suites."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from mcpgen.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# .ci/run sets this: a service or tool a test needs (node, PostgreSQL, ...) being absent is a failure.
REQUIRE_SERVICES = os.environ.get("MCPGEN_REQUIRE_SERVICES") == "1"


def require_or_skip(reason: str) -> NoReturn:
    """Skip for a missing service, unless the run demands every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MCPGEN_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


def npm_package(package: str, version: str, folder: str) -> Path:
    """A node package installed under .cache/<folder> (npm runs once per version); its own folder."""
    prefix = ROOT / ".cache" / folder
    installed = prefix / "node_modules" / package

    def installed_version() -> str | None:
        manifest = installed / "package.json"
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("version")) if manifest.is_file() else None

    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        require_or_skip(f"node and npm are needed to run {package}")
    if installed_version() != version:
        prefix.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"{package}@{version}"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            require_or_skip(f"npm install {package}@{version} timed out")
        if done.returncode or installed_version() != version:
            require_or_skip(f"npm install {package}@{version} failed: {done.stderr.strip()[-500:]}")
    return installed


# The services generated projects on redis or postgres use (CI has both on this machine).
SERVICE_URLS = {
    "redis": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    "postgres": os.environ.get("POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
}


def service_env(backend: str) -> dict[str, str]:
    """STORAGE_URL for a generated project's tests on `backend`, after checking the server answers."""
    if backend not in SERVICE_URLS:
        return {}
    url = SERVICE_URLS[backend]
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=3).close()
    except OSError as exc:
        require_or_skip(f"{backend} is not reachable at {parts.hostname}:{parts.port} ({exc})")
    return {"STORAGE_URL": url}


def mcpgen(*args: str, input: str | None = None, cwd: Path | None = None) -> tuple[int, str]:
    """Run the CLI in-process; returns (exit code, stdout + stderr)."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def run_project_tests(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    """The generated project's own pytest, in a subprocess with this interpreter."""
    env = {**os.environ, "PYTHONPATH": str(project), **(env or {})}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)


def run_tool(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """ruff or mypy in the generated project, as its CI runs them."""
    return subprocess.run([sys.executable, "-m", *command], cwd=project, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session", autouse=True)
def git_identity(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests commit as a user would; on a machine whose git knows no user, they get a made-up one."""
    known = subprocess.run(["git", "config", "--global", "user.email"], capture_output=True, text=True).stdout
    if not known.strip():
        config = tmp_path_factory.mktemp("git") / "gitconfig"
        config.write_text("[user]\n\tname = mcpgen tests\n\temail = tests@mcpgen.invalid\n")
        os.environ["GIT_CONFIG_GLOBAL"] = str(config)


@pytest.fixture(scope="session")
def mcpgen_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built as the wheel a user installs, once per session, from a clean copy as a release sees it."""
    dist = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns(".git", ".venv", ".cache", "__pycache__", "*.egg-info", "build")
    shutil.copytree(ROOT, source, dirs_exist_ok=True, ignore=ignore)
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("mcpgen-*.whl")
    return wheel


@pytest.fixture(scope="session")
def new_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`mcpgen new --example`: an example's spec and bodies, made once per session and shared."""
    made: dict[str, Path] = {}

    def make(example: str) -> Path:
        if example not in made:
            target = tmp_path_factory.mktemp("examples") / example
            code, output = mcpgen("new", str(target), "--example", example, "--yes")
            assert code == 0, output
            made[example] = target
        return made[example]

    return make
