"""The git side of a generated project.

Branch `mcpgen/generated` holds exactly what mcpgen rendered, commit by commit; the user's
branch (`main`) starts from it. Regeneration merges a new pristine commit into the user's
branch with the previous one as merge base, so the user's edits are kept (see DESIGN.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
    """Commit the render on the pristine branch, then start `main` from it with `user_files` added."""
    git(root, "init", "--quiet", f"--initial-branch={PRISTINE_BRANCH}")
    git(root, "add", "--all", "--", ".", *(f":(exclude){name}" for name in user_files))
    git(root, "commit", "--quiet", "--no-verify", "--message", message)
    git(root, "checkout", "--quiet", "-b", USER_BRANCH)
    if user_files:
        git(root, "add", "--", *user_files)
        git(root, "commit", "--quiet", "--no-verify", "--message", "Add mcpgen.toml, the project's spec")
