"""`mcpgen add openapi SOURCE`: an API's operations as tools in mcpgen.toml, then rendered as `generate` does.

Importing again after the API changed updates the imported tools (added, changed, removed) and
regenerates with the usual three-way merge, so edited bodies are kept; `--dry-run` shows both first.
"""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import BaseModel

from mcpgen.commands import generate
from mcpgen.envfile import add_missing_settings
from mcpgen.merge import RegenerateError, Summary, regenerate
from mcpgen.openapi import Filters, Imported, OpenAPIError, convert, load
from mcpgen.spec_update import Changes, update
from mcpgen.specfile import SPEC_FILE, load_spec, parse_spec, read_spec_text
from mcpgen.vcs import status

# Tool names listed per change; a large API has hundreds.
LISTED = 30


class Result(BaseModel):
    imported: Imported
    changes: Changes
    summary: Summary


def run(
    project: Path,
    source: str | None,
    filters: Filters,
    base_url: str | None,
    skip_unsupported: bool,
    dry_run: bool,
) -> Result:
    """Import, edit the spec and regenerate (or, dry, say what that would do). Nothing is written on error."""
    path = project / SPEC_FILE
    current = load_spec(path)
    text = read_spec_text(path)
    if source is None:
        if current.upstream is None or not current.upstream.openapi:
            raise OpenAPIError(
                "", ["give the OpenAPI document (a file or URL): mcpgen add openapi SOURCE"], pointers=False
            )
        source = current.upstream.openapi
        if _is_file(source) and not Path(source).is_absolute():
            source = str(project / source)  # recorded relative to the project
    if current.upstream is not None and not (filters.tags or filters.operations or filters.paths):
        u = current.upstream  # the filters of the last import, unless new ones are given
        filters = Filters(tags=u.tags, operations=u.operations, paths=u.paths)
    if current.upstream is not None:
        skip_unsupported = skip_unsupported or current.upstream.skip_unsupported
    if base_url is None and current.upstream is not None:
        base_url = current.upstream.base_url  # the user's, kept (a document served locally may name none)
    document, where = load(source)
    imported = convert(document, where, filters, skip_unsupported, base_url)
    recorded = {"openapi": _recorded(source, project), **{k: v for k, v in filters.model_dump().items() if v}}
    recorded |= {"skip_unsupported": True} if skip_unsupported else {}
    new_text, changes = update(text, imported.upstream | recorded, imported.tools)
    spec = parse_spec(new_text, str(path))  # a clash with the user's own tools stops here, unwritten
    root = project.resolve()
    if not dry_run:
        if others := [line for line in status(root) if line[3:] != SPEC_FILE]:
            listing = "\n  ".join(others[:10])
            raise RegenerateError(f"the work tree has uncommitted changes; commit or stash them first:\n  {listing}")
        path.write_text(new_text, encoding="utf-8")
    summary = regenerate(root, spec, new_text, dry_run=dry_run)
    if not dry_run:
        summary.settings_added = add_missing_settings(project, spec)
    return Result(imported=imported, changes=changes, summary=summary)


def _is_file(source: str) -> bool:
    return not source.startswith(("http://", "https://"))


def _recorded(source: str, project: Path) -> str:
    """The source as [upstream] keeps it: a URL as is, a file relative to the project when inside it."""
    if not _is_file(source):
        return source
    path = Path(source).resolve()
    try:
        return path.relative_to(project.resolve()).as_posix()
    except ValueError:
        return str(path)


def report(result: Result, dry_run: bool) -> None:
    imported, changes = result.imported, result.changes
    typer.echo(f"{len(imported.tools)} operations of the API at {imported.upstream['base_url']}.")
    verb = "would be" if dry_run else "were"
    for label, names in (("added", changes.added), ("changed", changes.changed), ("removed", changes.removed)):
        if names:
            shown = ", ".join(names[:LISTED]) + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")
            typer.echo(f"Tools that {verb} {label} in {SPEC_FILE}: {shown}")
    for line in imported.skipped:
        typer.secho(f"skipped: {line}", fg="yellow")
    for note in imported.notes:
        typer.secho(f"note: {note}", fg="yellow")
    summary = result.summary
    # The API issues these; .env has them empty for the user to fill in.
    credentials = [name for name in summary.settings_added if name.startswith("UPSTREAM_")]
    if credentials:
        typer.echo(f"Put the server's credentials for the API in .env: {', '.join(credentials)}.")
    others = [name for name in summary.settings_added if name not in credentials]
    generate.report(summary.model_copy(update={"settings_added": others}), dry_run)
