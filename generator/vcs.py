"""The git side of a generated project.

Branch `mcpgen/generated` holds exactly what mcpgen rendered, commit by commit; the user's
branch (`main`) starts from it. Regeneration merges a new pristine commit into the user's
branch with the previous one as merge base, so the user's edits are kept (see DESIGN.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

PRISTINE_BRANCH = "mcpgen/generated"
USER_BRANCH = "main"
# mcpgen's own commits carry its name, whatever the user's git identity is (or if there is none).
IDENTITY = {
    "GIT_AUTHOR_NAME": "mcpgen",
    "GIT_AUTHOR_EMAIL": "mcpgen@localhost",
    "GIT_COMMITTER_NAME": "mcpgen",
    "GIT_COMMITTER_EMAIL": "mcpgen@localhost",
}


class GitError(RuntimeError):
    """A git command failed; the message carries git's own words."""


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise GitError("mcpgen needs git on the PATH to keep the generated history; install git")
    result = subprocess.run(["git", *args], cwd=cwd, text=True, capture_output=True, env={**os.environ, **IDENTITY})
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}".rstrip())
    return result


def init_project(root: Path, message: str, user_files: list[str]) -> None:
    """Commit the render on the pristine branch and `user_files` on `main` on top of it.

    One `git fast-import` writes both commits from the files as they are; it is much quicker
    than add and commit per branch, which matters for `mcpgen new` (see bench/render.py).
    """
    git(root, "init", "--quiet", f"--initial-branch={USER_BRANCH}")
    rendered = sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts)
    mine = {root / name for name in user_files}
    stream = _commit(PRISTINE_BRANCH, message, root, [p for p in rendered if p not in mine], parent=None)
    if mine:
        stream += _commit(
            USER_BRANCH, "Add mcpgen.toml, the project's spec", root, sorted(mine), parent=PRISTINE_BRANCH
        )
    else:
        stream += f"reset refs/heads/{USER_BRANCH}\nfrom refs/heads/{PRISTINE_BRANCH}\n\n".encode()
    result = subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=stream, capture_output=True)
    if result.returncode != 0:
        raise GitError(f"git fast-import failed:\n{result.stderr.decode(errors='replace')}")
    git(root, "reset", "--quiet")  # the index now matches main, so the work tree is clean


def _commit(branch: str, message: str, root: Path, files: list[Path], parent: str | None) -> bytes:
    """A fast-import commit of `files` (by their path under `root`) on `branch`."""
    who = f"{IDENTITY['GIT_COMMITTER_NAME']} <{IDENTITY['GIT_COMMITTER_EMAIL']}> {int(time.time())} +0000"
    text = message.encode()
    out = f"commit refs/heads/{branch}\ncommitter {who}\ndata {len(text)}\n".encode() + text + b"\n"
    if parent:
        out += f"from refs/heads/{parent}\n".encode()
    for path in files:
        data = path.read_bytes()
        mode = "100755" if os.access(path, os.X_OK) else "100644"
        name = path.relative_to(root).as_posix().replace("\\", "\\\\").replace('"', '\\"')
        out += f'M {mode} inline "{name}"\ndata {len(data)}\n'.encode() + data + b"\n"
    return out
