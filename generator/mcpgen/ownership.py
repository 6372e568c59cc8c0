"""Who owns which file of a generated project (DESIGN.md, "File ownership").

- user-owned: one module per tool, resource and prompt, extend.py (the user's additions to the
  server: routes, middleware, start-up work), and each tool's test module. Rendered
  as a working example once; after that only changes the spec forces reach them, by merge.
- shared: README, pyproject, .gitignore and the optional pre-commit hooks; both sides edit them, merges
  keep both.
- generator-owned: everything else mcpgen renders. Hand edits there are drift (`mcpgen check`).
"""

from __future__ import annotations

from fnmatch import fnmatch

USER_OWNED = ("*/tools/*.py", "*/resources/*.py", "*/prompts/*.py", "*/extend.py", "tests/test_tool_*.py")
SHARED = ("README.md", "pyproject.toml", ".gitignore", ".pre-commit-config.yaml")
SPEC = "mcpgen.toml"


def owner(path: str) -> str:
    """`user`, `shared` or `generator` for a path relative to the project root."""
    if path == SPEC:
        return "user"
    if path.endswith("/__init__.py"):
        return "generator"
    if any(fnmatch(path, pattern) for pattern in USER_OWNED):
        return "user"
    if path in SHARED:
        return "shared"
    return "generator"
