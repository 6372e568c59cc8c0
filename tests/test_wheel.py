"""The wheel a user installs: the template ships inside it.

That the installed wheel renders a project byte for byte as this checkout does, and that the project
installs into a fresh venv and passes its own CI there, is tests/test_workflow.py's play of the runner.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_template_ships_inside_the_wheel(mcpgen_wheel: Path) -> None:
    names = set(zipfile.ZipFile(mcpgen_wheel).namelist())
    assert "mcpgen/template/copier.yml" in names
    assert "mcpgen/template/project/.github/workflows/ci.yml.jinja" in names
    assert "mcpgen/template/project/.gitignore" in names
    assert "mcpgen/cli.py" in names
    assert "mcpgen/commands/new.py" in names
    # `mcpgen new --example`: the specs and the bodies.
    assert {"mcpgen/examples/notes.toml", "mcpgen/examples/journal/journal/tools/write_entry.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
