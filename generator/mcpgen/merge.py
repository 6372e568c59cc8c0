"""Regenerate: render the spec as a new commit on the pristine branch, then merge it into the user's branch.

The merge is an ordinary `git merge` of `mcpgen/generated`, so its base is the last generated
commit the user's branch already contains, whatever happened since: an abandoned merge, a
teammate's regenerate. Conflicts are real git conflicts (markers and unmerged index entries);
`git merge --abort` goes back. One rule is mcpgen's own: a file the spec no longer produces
(a removed tool) is removed if the user never edited it, and kept, and reported, if they did.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import tomllib
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from mcpgen import __version__
from mcpgen.render import RENDER_KEY, render, render_key
from mcpgen.spec import Spec, python_name
from mcpgen.specfile import SPEC_FILE
from mcpgen.vcs import (
    PRISTINE_BRANCH,
    changes,
    commit_tree,
    git,
    merge_base,
    resolve,
    status,
    tree_of_directory,
    user_identity,
)


class RegenerateError(Exception):
    """Regeneration cannot start; the message says why and what to do."""


class Summary(BaseModel):
    """What a regenerate did (or, dry, would do)."""

    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    merged: list[str] = []  # changed by mcpgen and by the user, merged cleanly
    kept: list[str] = []  # the spec dropped them, but the user had edited them
    moved: list[str] = []  # "old -> new": a renamed tool's code, moved to its new name (`renamed_from`)
    conflicts: list[str] = []
    # generate committed the edited spec before merging (undone by `git reset --soft HEAD~1`).
    spec_committed: bool = False
    # pyproject.toml's dependencies differ between the last render and this one.
    dependencies_changed: bool = False
    settings_added: list[str] = []  # written into .env for the new spec

    @property
    def changed(self) -> bool:
        fields = (self.added, self.updated, self.removed, self.merged, self.kept, self.moved, self.conflicts)
        return any(fields)


def missing_branch_message() -> str:
    return (
        f"this project has no {PRISTINE_BRANCH} branch, which holds what mcpgen generated last; "
        f"fetch it with `git fetch origin {PRISTINE_BRANCH}:{PRISTINE_BRANCH}` (and push it along with main)"
    )


def rendered_from(root: Path, commit: str) -> str:
    """The render key a pristine commit was made from ("" for commits of an mcpgen that wrote none)."""
    return git(root, "log", "-1", f"--format=%(trailers:key={RENDER_KEY},valueonly)", commit).stdout.strip()


def render_tree(root: Path, spec: Spec) -> str:
    """The spec rendered as a tree object in `root`'s repository (nothing in the work tree changes)."""
    with tempfile.TemporaryDirectory(prefix="mcpgen-render-") as scratch:
        out = Path(scratch) / "project"
        render(spec, out)
        return tree_of_directory(root, out)


def render_commit(root: Path, tree: str, spec: Spec, spec_text: str, previous: str) -> str:
    """The rendered `tree` as a commit on top of `previous`, the pristine tip (itself if nothing changed).

    The commit is written to the object store but no branch moves; the caller decides.
    """
    if tree == git(root, "rev-parse", f"{previous}^{{tree}}").stdout.strip():
        return previous
    digest = hashlib.sha256(spec_text.encode()).hexdigest()
    message = f"mcpgen {__version__}: regenerate\n\nSpec-Sha256: {digest}\n{RENDER_KEY}: {render_key(spec)}\n"
    return commit_tree(root, tree, previous, message)


def regenerate(root: Path, spec: Spec, spec_text: str, dry_run: bool = False) -> Summary:
    """Bring `spec` into the user's branch; see the module docstring."""
    previous = resolve(root, PRISTINE_BRANCH)
    if previous is None:
        raise RegenerateError(missing_branch_message())
    spec_committed = False if dry_run else _commit_spec_change(root)
    tree = render_tree(root, spec)
    moves = _renames(root, spec)
    if moves and not dry_run:
        previous = _move_renamed_tools(root, moves, previous, tree)
    new = render_commit(root, tree, spec, spec_text, previous)
    base = merge_base(root, "HEAD", new)
    if base is None:
        raise RegenerateError(f"the current branch shares no history with {PRISTINE_BRANCH}; merge it once by hand")
    moved = [f"{move.source} -> {move.target}" for move in moves]
    if base == new:
        return Summary(moved=moved, spec_committed=spec_committed)
    generated = changes(root, base, new)
    mine = changes(root, base, "HEAD")
    dependencies_changed = "pyproject.toml" in generated and _dependencies(root, base) != _dependencies(root, new)
    summary = Summary(
        added=sorted(p for p, kind in generated.items() if kind == "A"),
        updated=sorted(p for p, kind in generated.items() if kind == "M"),
        removed=sorted(p for p, kind in generated.items() if kind == "D" and p not in mine),
        kept=sorted(p for p, kind in generated.items() if kind == "D" and mine.get(p) == "M"),
        moved=moved,
        spec_committed=spec_committed,
        dependencies_changed=dependencies_changed,
    )
    both = sorted(p for p, kind in generated.items() if kind == "M" and p in mine)
    if dry_run:
        # The moves have not happened yet: the files they cover are neither added, removed, kept nor in conflict.
        covered = {move.source for move in moves} | {move.target for move in moves}
        for field in ("added", "removed", "kept"):
            setattr(summary, field, [p for p in getattr(summary, field) if p not in covered])
        summary.conflicts = [p for p in _would_conflict(root, new) if p not in summary.kept and p not in covered]
    else:
        if new != previous:
            git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", new, previous)
        summary.conflicts = _merge(root, summary.kept)
    summary.merged = [p for p in both if p not in summary.conflicts]
    summary.updated = [p for p in summary.updated if p not in both]
    return summary


def _dependencies(root: Path, commit: str) -> tuple[object, object]:
    """The dependencies and extras pyproject.toml declares at `commit`."""
    text = git(root, "show", f"{commit}:pyproject.toml", check=False).stdout
    project = tomllib.loads(text).get("project", {}) if text else {}
    return project.get("dependencies"), project.get("optional-dependencies")


def _commit_spec_change(root: Path) -> bool:
    """An edited spec is the expected starting point and gets its own commit; any other change stops us.

    The commit is the user's (their identity, their hooks); True if one was made.
    """
    dirty = status(root)
    if others := [line for line in dirty if line[3:] != SPEC_FILE]:
        listing = "\n  ".join(others[:10])
        raise RegenerateError(f"the work tree has uncommitted changes; commit or stash them first:\n  {listing}")
    if not dirty:
        return False
    git(root, "add", "--", SPEC_FILE)
    git(root, "commit", "--quiet", "-m", f"Update {SPEC_FILE}", env=user_identity(root))
    return True


class Move(NamedTuple):
    """A renamed tool's file, from its old path to its new one."""

    source: str
    target: str
    old_name: str
    new_name: str


def _renames(root: Path, spec: Spec) -> list[Move]:
    """The module and test of each renamed tool that the user's branch still has under the old name."""
    moves = []
    for tool in spec.tools:
        if tool.renamed_from is None:
            continue
        for path in (f"{spec.server.package}/tools/{{}}.py", "tests/test_tool_{}.py"):
            source, target = path.format(python_name(tool.renamed_from)), path.format(tool.module)
            if (root / source).is_file() and not (root / target).exists():
                moves.append(Move(source, target, tool.renamed_from, tool.name))
    return moves


def _renamed_text(text: str, old: str, new: str) -> str:
    """The user's tool module or test with the old name changed where the code names the tool itself.

    Only the function, the tests' names, the quoted tool name and the docstring change: the same
    word elsewhere in the body (a store key, a variable) is the user's and stays.
    """
    old_module, new_module = python_name(old), python_name(new)
    text = re.sub(rf"\bdef {re.escape(old_module)}\(", f"def {new_module}(", text)
    text = re.sub(rf"\bdef test_{re.escape(old_module)}_", f"def test_{new_module}_", text)
    text = text.replace(f"tools/{old_module}.py", f"tools/{new_module}.py").replace(f"`{old}`", f"`{new}`")
    return re.sub(rf"call_tool\((['\"]){re.escape(old)}\1", rf"call_tool(\g<1>{new}\g<1>", text)


def _move_renamed_tools(root: Path, moves: list[Move], pristine: str, rendered: str) -> str:
    """Move renamed tools' code on both branches, so the merge that follows keeps the user's edits at the new path.

    The user's branch gets a commit that moves their files (renaming the tool inside). The pristine
    branch gets a commit that moves the generated ones, as the new render has them (`rendered`),
    merged into the user's branch as already done (`-s ours`): against that base the user's moved
    file has nothing left to merge. (So other changes to a renamed tool reach its code at the next
    generate, not this one.) Returns the new pristine tip.
    """
    identity = user_identity(root)
    for move in moves:
        git(root, "mv", "--", move.source, move.target)
        target = root / move.target
        target.write_text(_renamed_text(target.read_text(encoding="utf-8"), move.old_name, move.new_name), "utf-8")
        git(root, "add", "--", move.target)
    listing = ", ".join(f"{move.source} -> {move.target}" for move in moves)
    git(root, "commit", "--quiet", "-m", f"Move renamed tools (renamed_from in {SPEC_FILE}): {listing}", env=identity)
    with tempfile.TemporaryDirectory(prefix="mcpgen-move-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(root, "read-tree", pristine, env=env)
        for move in moves:
            blob = git(root, "rev-parse", f"{rendered}:{move.target}").stdout.strip()
            git(root, "update-index", "--force-remove", move.source, env=env)
            git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{move.target}", env=env)
        tree = git(root, "write-tree", env=env).stdout.strip()
    moved = commit_tree(root, tree, pristine, f"mcpgen {__version__}: move {listing}")
    git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", moved, pristine)
    message = f"Merge {PRISTINE_BRANCH}: the renamed tools moved"
    git(root, "merge", "--quiet", "-s", "ours", "--no-ff", "-m", message, moved, env=identity)
    return moved


def _would_conflict(root: Path, new: str) -> list[str]:
    """The conflicts a merge of `new` would leave, found by merging in a scratch worktree."""
    with tempfile.TemporaryDirectory(prefix="mcpgen-plan-") as scratch:
        tree = Path(scratch) / "tree"
        git(root, "worktree", "add", "--quiet", "--detach", str(tree), "HEAD")
        try:
            git(tree, *_MERGE, "--no-commit", new, check=False)
            return sorted(set(git(tree, "diff", "--name-only", "--diff-filter=U").stdout.splitlines()))
        finally:
            git(root, "worktree", "remove", "--force", str(tree))


# Generated files are never renamed, only added and removed: rename detection would pair a
# removed tool with a new one and call the user's edits to the old one a conflict. (The ort
# strategy of git 2.39 ignores no-renames, so the merge asks for recursive.)
_MERGE = ("-c", "merge.renames=false", "merge", "--no-ff", "-s", "recursive", "-X", "no-renames")


def _merge(root: Path, keep: list[str]) -> list[str]:
    """Merge the pristine branch; returns the paths left in conflict (the merge then stays open)."""
    message = f"Merge {PRISTINE_BRANCH}: regenerate from {SPEC_FILE}"
    identity = user_identity(root)
    result = git(root, *_MERGE, "--no-edit", "-m", message, PRISTINE_BRANCH, check=False, env=identity)
    if result.returncode == 0:
        return []
    conflicted = git(root, "diff", "--name-only", "--diff-filter=U").stdout.splitlines()
    if not conflicted:
        raise RegenerateError(f"git merge failed:\n{result.stdout}{result.stderr}")
    for path in keep:  # deleted by the spec, edited by the user: the user's file stays
        if path in conflicted:
            git(root, "add", "--", path)
    remaining = [p for p in conflicted if p not in keep]
    if not remaining:
        git(root, "commit", "--no-edit", env=identity)
    return remaining
