"""Property: every spec is either refused with located errors (exit 2, nothing written) or renders a
project that passes its own ruff, ruff format and mypy; a sample also passes its own tests.

Specs come from the schema's shapes, seeded with the names and texts that broke `mcpgen new` before:
names the generated code uses itself, Python keywords, digits first, quotes and backslashes in
docstrings, non-finite bounds, enums that do not fit their type.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import mcpgen, run_project_tests

HOSTILE_TEXT = ['"""', 'ends with a quote"', "\\N{x}", "\\x", "tab\there", "\x00", "café ☕", "{braces}", "'"]
SERVER_NAMES = ["shop", "class", "async", "json", "mcp", "tests", "my-server", "a1"]
TOOL_NAMES = ["store", "within", "tool_timeout", "mcp", "1tool", "__init__", "class", "_x", "a.b-c", "register", "p"]
PARAM_NAMES = ["within", "tool_timeout", "tool_t", "store", "self", "n", "_p", "class", "mcp", "Field", "call"]
RESOURCE_NAMES = ["r", "class", "store", "_r", "p", "register", "read"]

texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12))
numbers = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True, width=32))


@st.composite
def params(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "array", "object"]))
    param: dict[str, Any] = {"name": draw(st.sampled_from(PARAM_NAMES)), "type": kind}
    if kind == "array":
        param["items"] = draw(st.sampled_from(["string", "integer", "object"]))
    if kind in ("integer", "number") and draw(st.booleans()):
        param[draw(st.sampled_from(["minimum", "maximum"]))] = draw(numbers)
    if kind in ("string", "array") and draw(st.booleans()):
        param["min_length"], param["max_length"] = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    if draw(st.booleans()):
        param["enum"] = draw(st.lists(st.one_of(st.text(max_size=5), st.integers(0, 3), numbers), max_size=3))
    if draw(st.booleans()):
        param["default"] = draw(st.one_of(st.text(max_size=8), numbers, st.booleans()))
    return param


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    tools = [
        {
            "name": draw(st.sampled_from(TOOL_NAMES)),
            "description": draw(texts) or "d",
            "params": draw(st.lists(params(), max_size=3)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    resources = [
        {
            "uri": f"x://{draw(st.sampled_from(['a', 'b', '{a}', 'a' + chr(34) * 3]))}",
            "name": draw(st.sampled_from(RESOURCE_NAMES)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    templates = [
        {
            "uri_template": draw(
                st.sampled_from(["x://{a}", "x://{a}/{a}", "x://{store}", "x://{{a}}", "x://{n}/{m}"])
            ),
            "name": "tpl",
        }
        for _ in range(draw(st.integers(0, 1)))
    ]
    prompts = [
        {
            "name": draw(st.sampled_from(RESOURCE_NAMES)),
            "description": draw(texts),
            "arguments": [{"name": draw(st.sampled_from(PARAM_NAMES))} for _ in range(draw(st.integers(0, 2)))],
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    server = {"name": draw(st.sampled_from(SERVER_NAMES)), "title": draw(texts), "description": draw(texts)}
    return {
        "server": server,
        "tools": tools,
        "resources": resources,
        "resource_templates": templates,
        "prompts": prompts,
    }


def run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=project, capture_output=True, text=True, timeout=600)


RENDERED: list[Path] = []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=specs())
def test_every_spec_is_refused_with_located_errors_or_renders_a_clean_project(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("spec")
    spec = folder / "mcpgen.toml"
    spec.write_text(tomli_w.dumps(data), encoding="utf-8")
    # A crash raises here (the CLI runs in-process with catch_exceptions=False) and fails the property.
    code, output = mcpgen("new", str(folder / "project"), "--spec", str(spec), "--yes")
    if code == 2:
        assert not (folder / "project").exists(), "a refused spec wrote files"
        errors = [line for line in output.splitlines() if line.startswith("error: ")]
        assert errors and all(line.startswith(f"error: {spec}") for line in errors), output
        return
    assert code == 0, output
    project = folder / "project"
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["compileall", "-q", "."]):
        result = run(project, *command)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}\n{tomli_w.dumps(data)}"
    RENDERED.append(project)


def test_the_rendered_projects_type_check_and_a_sample_passes_its_own_tests() -> None:
    """mypy on every project the property rendered (a shared cache keeps it quick), pytest on two of them."""
    if not RENDERED:
        pytest.skip("the property test rendered nothing in this run")
    cache = RENDERED[0].parent.parent / "mypy-cache"
    for project in RENDERED:
        result = run(project, "mypy", "--cache-dir", str(cache))
        assert result.returncode == 0, f"{project}: {result.stdout}\n{(project / 'mcpgen.toml').read_text()}"
    for project in (RENDERED[0], RENDERED[-1]):
        result = run_project_tests(project, "-x")
        assert result.returncode == 0, result.stdout[-3000:]


HOSTILE_SPEC = {
    "server": {
        "name": "hostile",
        "title": 'The "quoted" one',
        "description": 'Docstrings break on """, \\N{x} and \\x; ends in "',
    },
    "tools": [
        {"name": name, "description": f"Tool {name}.", "params": params}
        for name, params in [
            ("store", [{"name": "within", "type": "string"}]),
            ("within", [{"name": "tool_timeout", "type": "integer", "default": 3}]),
            ("mcp", [{"name": "tool_store", "type": "string"}, {"name": "mcp", "type": "boolean", "default": False}]),
            ("tool_timeout", []),
            ("1tool", [{"name": "n", "type": "integer", "maximum": 5, "default": 5}]),
            ("__init__", []),
        ]
    ],
    "resources": [{"uri": 'x://a"""b', "name": "r"}],
    "prompts": [{"name": "p", "description": "No arguments."}],
}


def test_the_names_that_broke_projects_render_one_that_passes_its_own_checks(tmp_path: Path) -> None:
    """Every name and text that used to crash `new` or break the project, in one spec: it renders, type-checks
    and passes its own tests, and each tool answers under its own name."""
    spec = tmp_path / "mcpgen.toml"
    spec.write_text(tomli_w.dumps(HOSTILE_SPEC), encoding="utf-8")
    code, output = mcpgen("new", str(tmp_path / "hostile"), "--spec", str(spec), "--yes")
    assert code == 0, output
    project = tmp_path / "hostile"
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        result = run(project, *command)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    result = run_project_tests(project)  # test_tool_<name>.py calls each tool by its name
    assert result.returncode == 0, result.stdout[-3000:]
    for tool in HOSTILE_SPEC["tools"]:
        module = (
            "tool_" + tool["name"].lower()
            if tool["name"][0].isdigit() or tool["name"].startswith("_")
            else tool["name"]
        )
        assert (project / "hostile" / "tools" / f"{module}.py").is_file()
