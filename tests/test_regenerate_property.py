"""Property: whatever sequence of spec edits and user edits (to disjoint regions), regenerating
never loses a line of the user's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpgen.vcs import git

from .conftest import mcpgen

Op = tuple[str, int]
OPS = st.tuples(st.sampled_from(["add_tool", "describe", "add_param", "user_edit", "readme"]), st.integers(0, 9))


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.spec: dict[str, Any] = {
            "server": {"name": "prop", "description": "Property test."},
            "tools": [{"name": "t0", "description": "Tool 0.", "params": []}],
        }
        self.markers: list[tuple[Path, str]] = []
        self.counter = 0

    def write_spec(self) -> None:
        (self.root / "mcpgen.toml").write_text(tomli_w.dumps(self.spec))

    def apply(self, op: Op) -> None:
        kind, index = op
        self.counter += 1
        n = self.counter
        tools = self.spec["tools"]
        tool = tools[index % len(tools)]
        if kind == "add_tool":
            tools.append({"name": f"t{n}", "description": f"Tool {n}.", "params": []})
        elif kind == "describe":
            tool["description"] = f"Tool {tool['name']}, edit {n}."
        elif kind == "add_param":
            tool["params"].append({"name": f"p{n}", "type": "integer", "default": n})
        elif kind == "user_edit":
            self.user_change(
                self.root / "prop" / "tools" / f"{tool['name']}.py",
                f"\n\ndef user_helper_{n}() -> int:\n    return {n}\n",
            )
        else:
            self.user_change(self.root / "README.md", f"\nUser note {n}.\n")
        if kind in ("add_tool", "describe", "add_param"):
            self.write_spec()
            code, output = mcpgen("generate", str(self.root))
            assert code == 0, output

    def user_change(self, path: Path, text: str) -> None:
        path.write_text(path.read_text() + text)
        self.markers.append((path, text.strip()))
        git(self.root, "commit", "--quiet", "-am", f"user edit to {path.name}")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=1, max_size=5))
def test_regenerate_never_loses_user_lines(tmp_path_factory: Any, ops: list[Op]) -> None:
    root = tmp_path_factory.mktemp("prop") / "prop"
    project = Project(root)
    root.parent.joinpath("spec.toml").write_text(tomli_w.dumps(project.spec))
    code, output = mcpgen("new", str(root), "--spec", str(root.parent / "spec.toml"), "--yes")
    assert code == 0, output
    for op in ops:
        project.apply(op)
        for path, marker in project.markers:
            assert marker in path.read_text(), (op, path)
    code, output = mcpgen("check", str(root))
    assert code == 0, output
