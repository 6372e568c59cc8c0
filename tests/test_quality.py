"""mcpgen's own code meets the bar it sets for generated code: ruff, ruff format, strict mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def check(*command: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=cwd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff() -> None:
    check("ruff", "check", ".")
    check("ruff", "format", "--check", ".")


def test_mypy_strict(tmp_path: Path) -> None:
    check("mypy", "--cache-dir", str(tmp_path / "cache"), "-p", "mcpgen")
