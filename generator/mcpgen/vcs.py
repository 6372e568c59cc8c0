"""The git side of a generated project.

Branch `mcpgen/generated` holds exactly what mcpgen rendered, commit by commit; the user's
branch (`main`) starts from it. Regeneration merges a new pristine commit into the user's
branch with the previous one as merge base, so the user's edits are kept (see DESIGN.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PRISTINE_BRANCH = "mcpgen/generated"
USER_BRANCH = "main"
# What mcpgen rendered (the pristine branch) carries its name; commits on the user's branch carry the
# user's, and this only where git knows no user.
IDENTITY = {
    "GIT_AUTHOR_NAME": "mcpgen",
    "GIT_AUTHOR_EMAIL": "mcpgen@localhost",
    "GIT_COMMITTER_NAME": "mcpgen",
    "GIT_COMMITTER_EMAIL": "mcpgen@localhost",
}


class GitError(RuntimeError):
    """A git command failed; the message carries git's own words."""


def git(
    cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise GitError("mcpgen needs git on the PATH to keep the generated history; install git")
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(["git", *args], cwd=cwd, text=True, capture_output=True, env=environment)
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}".rstrip())
    return result


def status(root: Path) -> list[str]:
    """`git status --porcelain` lines: changed, staged and untracked paths."""
    return git(root, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()


def resolve(root: Path, ref: str) -> str | None:
    result = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return result.stdout.strip() or None


def merge_base(root: Path, a: str, b: str) -> str | None:
    return git(root, "merge-base", a, b, check=False).stdout.strip() or None


def tree_of_directory(root: Path, directory: Path) -> str:
    """Write `directory`'s files as a tree object in `root`'s repository; returns its id."""
    with tempfile.TemporaryDirectory(prefix="mcpgen-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(root, "--work-tree", str(directory), "add", "--all", "--force", ".", env=env)
        return git(root, "write-tree", env=env).stdout.strip()


def commit_tree(root: Path, tree: str, parent: str, message: str) -> str:
    return git(root, "commit-tree", tree, "-p", parent, "-m", message, env=IDENTITY).stdout.strip()


def user_identity(root: Path) -> dict[str, str]:
    """The environment for a commit on the user's branch: their own git identity, or mcpgen's if they have none."""
    configured = all(
        git(root, "config", "--get", key, check=False).stdout.strip() for key in ("user.name", "user.email")
    )
    return {} if configured else IDENTITY


def changes(root: Path, old: str, new: str | None) -> dict[str, str]:
    """Path -> A, M or D from `old` to `new` (a tree or commit; None: the work tree). Renames are D + A."""
    out = git(root, "diff", "--name-status", "--no-renames", "-z", old, *([new] if new else [])).stdout.split("\0")
    return {path: kind[0] for kind, path in zip(out[0::2], out[1::2], strict=False) if path}


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
