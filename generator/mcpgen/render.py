"""Render a spec into a directory: copier does the templating, ruff the final formatting."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.metadata import version
from pathlib import Path

from mcpgen import __version__, jinja_ext
from mcpgen.spec import Spec
from mcpgen.template_data import copier_data

# The repository root when mcpgen runs from a checkout (generator/mcpgen/render.py).
CHECKOUT = Path(__file__).resolve().parents[2]


def template_dir() -> Path:
    """The copier template: inside the installed wheel, or beside the package in a checkout."""
    packaged = Path(str(resources.files("mcpgen"))) / "template"
    if (packaged / "copier.yml").is_file():
        return packaged
    return CHECKOUT / "template"


def examples_dir() -> Path:
    """The example specs (NAME.toml) and their bodies (NAME/): in the wheel, or beside the package in a checkout."""
    packaged = Path(str(resources.files("mcpgen"))) / "examples"
    if packaged.is_dir():
        return packaged
    return CHECKOUT / "examples"


def render(spec: Spec, dst: Path) -> None:
    """Write the project for `spec` into `dst` (created if needed, existing files overwritten)."""
    from copier import run_copy  # copier takes a second to import; only commands that render pay for it

    jinja_ext.cache_dir = compiled_templates_dir()
    with no_git_index_sync():
        # unsafe: the template loads mcpgen's own Jinja filters (copier counts extensions as unsafe).
        run_copy(
            str(template_dir()), dst, data=copier_data(spec), defaults=True, overwrite=True, unsafe=True, quiet=True
        )
    format_python(dst)


@contextmanager
def no_git_index_sync() -> Iterator[None]:
    """Keep copier from asking git about `core.fileMode` once per rendered file.

    copier does so to carry executable bits into the destination's git index, which matters only
    when the destination is a repository; mcpgen renders into a fresh directory that never is, and
    the ~150 git processes were a third of each render.
    """
    from copier import _main

    names = vars(_main)  # the name as copier's renderer looks it up
    available = names["is_git_available"]
    names["is_git_available"] = lambda: False
    try:
        yield
    finally:
        names["is_git_available"] = available


# A trailer of every commit on the pristine branch: what that render was made from.
RENDER_KEY = "Render-Key"


def render_key(spec: Spec) -> str:
    """A digest of everything a render depends on: the tools' versions, the template files, the spec's data.

    Equal keys render equal trees, so `mcpgen check` compares keys instead of rendering again.
    """
    tools = f"mcpgen {__version__} copier {version('copier')} ruff {version('ruff')}"
    digest = hashlib.sha256(f"{tools}\n{json.dumps(copier_data(spec), sort_keys=True)}\n".encode())
    root = template_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(root).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def compiled_templates_dir() -> Path | None:
    """A per-user cache of compiled templates for this mcpgen version, or None where none can be made."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "mcpgen" / f"templates-{__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: render without the cache
    return folder


def format_python(root: Path) -> None:
    """Format generated Python exactly as `ruff format` in the generated project would."""
    from ruff.__main__ import find_ruff_bin

    ruff = find_ruff_bin()
    for args in (["check", "--select", "I", "--fix", "--quiet"], ["format", "--quiet"]):
        subprocess.run([ruff, *args, "--no-cache", "."], cwd=root, check=True, capture_output=True)
