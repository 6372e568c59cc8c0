"""`mcpgen check`: does the project match its spec? Made for CI.

Problems, one line each: the spec is invalid (exit 2); the spec changed since the last generate
(stale); generator-owned files were edited by hand (drift); conflict markers or unmerged files
are left from a merge. Any of the last three exits 1.
"""

from __future__ import annotations

from pathlib import Path

import typer

from mcpgen.merge import missing_branch_message, render_tree, rendered_from
from mcpgen.ownership import owner
from mcpgen.render import render_key
from mcpgen.specfile import SPEC_FILE, load_spec
from mcpgen.vcs import PRISTINE_BRANCH, changes, git, merge_base, resolve


def problems(project: Path) -> list[str]:
    spec = load_spec(project / SPEC_FILE)
    root = project.resolve()
    if resolve(root, PRISTINE_BRANCH) is None:
        return [missing_branch_message()]
    base = merge_base(root, "HEAD", PRISTINE_BRANCH)
    if base is None:
        return [f"the current branch shares no history with {PRISTINE_BRANCH}"]
    found: list[str] = []
    if unmerged := sorted(set(git(root, "diff", "--name-only", "--diff-filter=U").stdout.splitlines())):
        found.append(f"unmerged files from a merge: {', '.join(unmerged)}")
    markers = git(root, "grep", "-l", "-I", "-E", "^(<<<<<<<|>>>>>>>) ", check=False).stdout.split()
    if markers := sorted(set(markers) - set(unmerged)):
        found.append(f"conflict markers left in: {', '.join(markers)}")
    # The render is the slow part; a spec and template the last generate rendered give its tree again.
    unchanged = rendered_from(root, base) == render_key(spec)
    if not unchanged and (stale := sorted(changes(root, base, render_tree(root, spec)))):
        found.append(
            f"stale: {SPEC_FILE} changed since the last generate; `mcpgen generate` updates {', '.join(stale)}"
        )
    # A file mcpgen generated and the user changed or deleted; files it never generated are the user's.
    edited = {path for path, kind in changes(root, base, None).items() if kind != "A"}
    if drift := sorted(p for p in edited if owner(p) == "generator"):
        found.append(f"drift: generated files edited by hand (change {SPEC_FILE} instead): {', '.join(drift)}")
    return found


def run(project: Path) -> int:
    found = problems(project)
    for problem in found:
        typer.secho(f"check: {problem}", fg="red", err=True)
    if not found:
        typer.echo(f"{project / SPEC_FILE}: valid, and the project matches it.")
    return 1 if found else 0
