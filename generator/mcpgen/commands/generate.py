"""`mcpgen generate` (and `mcpgen plan`, its dry run): bring spec changes into the project."""

from __future__ import annotations

from pathlib import Path

import typer

from mcpgen.envfile import add_missing_settings
from mcpgen.merge import Summary, regenerate
from mcpgen.specfile import SPEC_FILE, load_spec

LABELS = {
    "moved": "moved: a renamed tool's code (renamed_from)",
    "added": "added",
    "updated": "updated",
    "removed": "removed",
    "merged": "merged with your edits",
    "kept": "kept: the spec no longer makes it, but you edited it",
}


def run(project: Path, dry_run: bool) -> Summary:
    path = project / SPEC_FILE
    spec = load_spec(path)
    summary = regenerate(project.resolve(), spec, path.read_text(encoding="utf-8"), dry_run=dry_run)
    if not dry_run:
        summary.settings_added = add_missing_settings(project, spec)
    return summary


def report(summary: Summary, dry_run: bool) -> None:
    if summary.settings_added:
        typer.echo(
            f"Added to .env with fresh values: {', '.join(summary.settings_added)} (set them in production too)."
        )
    if summary.dependencies_changed:
        typer.echo('The dependencies changed: reinstall with `pip install -e ".[dev]"`.')
    if not summary.changed:
        typer.echo("Up to date: the project already matches mcpgen.toml.")
        return
    if any(getattr(summary, field) for field in LABELS):
        typer.echo("Would change:" if dry_run else "Regenerated from mcpgen.toml:")
    for field, label in LABELS.items():
        for path in getattr(summary, field):
            typer.echo(f"  {label:<10} {path}" if len(label) < 10 else f"  {path} ({label})")
    if orphans := [path for path in summary.kept if "/tools/" in path]:
        typer.secho(
            f"No tool calls {', '.join(orphans)} any more. If a tool was renamed, move your code into its new"
            ' module by hand; next time give the tool `renamed_from = "<old name>"` in mcpgen.toml before'
            " `mcpgen generate`, and it moves the code for you.",
            fg="yellow",
        )
    if summary.conflicts:
        typer.secho(
            "Conflicts (you and mcpgen changed the same lines):" if not dry_run else "Would conflict:", fg="red"
        )
        for path in summary.conflicts:
            typer.secho(f"  {path}", fg="red")
        if not dry_run:
            back = "git merge --abort && git reset --soft HEAD~1" if summary.spec_committed else "git merge --abort"
            typer.echo(
                "Resolve them (git status, git diff, git mergetool), `git add` each file and `git commit`;"
                f" or `{back}` to go back to where you were"
                + (" (mcpgen committed your mcpgen.toml change before merging)." if summary.spec_committed else ".")
            )
