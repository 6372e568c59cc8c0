"""The wheel a user installs: the template ships inside it, and the project it makes installs
from its own pyproject into a fresh venv and passes its own tests there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source")
    # Build from a copy: a clean tree, as a release would see it.
    shutil.copytree(
        ROOT,
        source,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "__pycache__", "*.egg-info", "build"),
    )
    run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, source)
    (built,) = dist.glob("mcpgen-*.whl")
    return built


def test_the_template_ships_inside_the_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mcpgen/template/copier.yml" in names
    assert "mcpgen/template/project/.github/workflows/ci.yml.jinja" in names
    assert "mcpgen/template/project/.gitignore" in names
    assert "mcpgen/cli.py" in names
    assert "mcpgen/commands/new.py" in names
    # `mcpgen new --example`: the specs and the bodies.
    assert {"mcpgen/examples/notes.toml", "mcpgen/examples/journal/journal/tools/write_entry.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_installed_wheel_generates_a_project_that_installs_and_passes(wheel: Path, tmp_path: Path) -> None:
    tool = tmp_path / "tool-venv"
    run(sys.executable, "-m", "venv", tool)
    run(tool / "bin" / "pip", "install", "--quiet", wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(EXAMPLES / "notes.toml", elsewhere / "notes.toml")
    run(tool / "bin" / "mcpgen", "new", "notes", "--spec", "notes.toml", "--yes", cwd=elsewhere)
    project = elsewhere / "notes"
    assert (project / "notes" / "compliance.py").is_file()

    # The generated project's README: install it with its dev extras, then its checks.
    app = tmp_path / "app-venv"
    run(sys.executable, "-m", "venv", app)
    run(app / "bin" / "pip", "install", "--quiet", "-e", f"{project}[dev]")
    tests = run(app / "bin" / "pytest", "-q", cwd=project)
    assert " passed" in tests.stdout
    run(app / "bin" / "ruff", "check", ".", cwd=project)
    run(app / "bin" / "mypy", cwd=project)
