"""The examples, made with `mcpgen new` as a user would, pass their own test suites.

And those suites are not vacuous: with the compliance layer taken out, stock fastmcp fails them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import run_project_tests, run_tool


@pytest.mark.parametrize("example", ["notes", "public-data", "team-tools", "journal"])
def test_example_project_passes_its_own_checks(new_project: Callable[[str], Path], example: str) -> None:
    project = new_project(example)
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        result = run_tool(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    result = run_project_tests(project)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


def test_the_checklist_fails_on_stock_fastmcp(new_project: Callable[[str], Path], tmp_path: Path) -> None:
    """Serve fastmcp's own app, without our layer: the seed's failures must show up as test failures."""
    project = new_project("notes")
    stock = tmp_path / "stock"
    # A copy of the project whose app skips compliance.wrap().
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts and "__pycache__" not in path.parts:
            target = stock / path.relative_to(project)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    app = stock / "notes" / "app.py"
    source = app.read_text()
    # (The request log, metrics and prefix layers around it stay: they change no answer.)
    stripped, count = re.subn(r"guarded = compliance\.wrap\([^)]*\)", "guarded = app", source)
    assert count == 1
    app.write_text(stripped)
    result = run_project_tests(stock, "tests/test_transport.py", "-rf")
    failed = {
        line.split("::")[1].split(" ")[0].split("[")[0]
        for line in result.stdout.splitlines()
        if line.startswith("FAILED")
    }
    # The fixes DESIGN.md lists for fastmcp 4.2: 400 on GET, 307 on /mcp/, no CORS, -32602 for a
    # body without a method, no checks of Host, Origin, content type or size.
    assert {
        "test_get_is_405_with_allow_not_501_or_a_stream",
        "test_trailing_slash_is_served_without_redirect",
        "test_cors_preflight_from_claude_is_answered_before_auth",
        "test_cors_exposes_session_id_and_www_authenticate",
        "test_invalid_jsonrpc_is_an_invalid_request",
        "test_unknown_host_is_421",
        "test_foreign_origin_is_refused",
        "test_wrong_content_type_is_415",
    } <= failed, result.stdout[-3000:]
