"""End to end: the official MCP Inspector CLI lists and calls the tools of generated servers.

Needs node and npm; inspector-cli is installed once into <repo>/.cache/inspector. Without them the
tests skip, unless MCPGEN_REQUIRE_SERVICES=1 makes a missing service a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import serving
from .conftest import npm_package

REPO = Path(__file__).resolve().parent.parent
# inspector-cli 2.x needs Node >= 22.19; 1.0.3 runs on Node 20, but only from its own build folder.
INSPECTOR_VERSION = "1.0.3"


@pytest.fixture(scope="session")
def inspector() -> Path:
    """The inspector-cli build folder, installed with npm on first use."""
    return npm_package("@modelcontextprotocol/inspector-cli", INSPECTOR_VERSION, "inspector") / "build"


@dataclass(frozen=True)
class Example:
    spec: str
    package: str
    tools: set[str]
    call: list[str]  # tool name, then key=value arguments
    expect: str  # the result text mentions this
    key_var: str | None = None  # .env variable holding a bearer key


EXAMPLES = [
    Example("notes", "notes", {"add_note", "search_notes", "delete_note"}, ["add_note", "text=hello"], "add_note"),
    Example(
        "team-tools",
        "team_tools",
        {"bump_counter", "set_flag", "weekly-report"},
        ["weekly-report"],
        "weekly-report",
        key_var="API_KEYS",
    ),
]


@dataclass
class Server:
    example: Example
    url: str
    key: str | None
    log: Path = field(repr=False)


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda e: e.spec)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The example rendered by `mcpgen new` and served over streamable HTTP on a free port."""
    example: Example = request.param
    tmp = tmp_path_factory.mktemp(example.spec)
    project = tmp / example.spec
    spec = REPO / "examples" / f"{example.spec}.toml"
    new = [sys.executable, "-m", "mcpgen", "new", str(project), "--spec", str(spec), "--yes"]
    made = subprocess.run(new, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr

    with serving.serve(project, example.package, tmp) as served:
        key = served.dotenv[example.key_var].split(",")[0] if example.key_var else None
        yield Server(example, f"{served.url}/mcp", key, served.log)


def inspect(build: Path, server: Server, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["node", "index.js", server.url, "--transport", "http", *args]
    if key:
        cmd += ["--header", f"Authorization: Bearer {key}"]
    return subprocess.run(cmd, cwd=build, capture_output=True, text=True, timeout=60)


def inspect_json(build: Path, server: Server, *args: str) -> dict[str, Any]:
    """The inspector's JSON answer; it exits 0 even for tool errors, so callers check isError."""
    proc = inspect(build, server, *args, key=server.key)
    assert proc.returncode == 0, f"{proc.stderr}\n--- server log ---\n{server.log.read_text()}"
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def test_inspector_lists_tools(inspector: Path, server: Server) -> None:
    answer = inspect_json(inspector, server, "--method", "tools/list")
    assert {tool["name"] for tool in answer["tools"]} == server.example.tools
    if server.key:
        refused = inspect(inspector, server, "--method", "tools/list")
        assert refused.returncode != 0, f"listed tools without a bearer key:\n{refused.stdout}"


def test_inspector_calls_tool(inspector: Path, server: Server) -> None:
    name, *arguments = server.example.call
    tool_args = ["--tool-arg", *arguments] if arguments else []
    answer = inspect_json(inspector, server, "--method", "tools/call", "--tool-name", name, *tool_args)
    assert answer.get("isError") is False, answer
    texts = [part["text"] for part in answer["content"] if part.get("type") == "text"]
    assert any(server.example.expect in text for text in texts), answer
