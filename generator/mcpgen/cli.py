"""The `mcpgen` command line. Each command imports its module when it runs, so `--help` is fast."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from mcpgen import __version__
from mcpgen.questions import AuthChoice, StorageChoice, Transport

app = typer.Typer(
    name="mcpgen",
    help="Generate spec-compliant remote MCP servers, with OAuth, from one TOML spec (mcpgen.toml).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Exit codes: 0 fine, 1 the command found problems (check), 2 bad input (spec, flags, paths).
BAD_INPUT = 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mcpgen {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """mcpgen: one TOML spec in, a ready-to-deploy MCP server out."""


def _fail_on_spec_errors(problems: list[Any]) -> None:
    for problem in problems:
        typer.secho(f"error: {problem}", fg="red", err=True)
    raise typer.Exit(BAD_INPUT)


@contextmanager
def _refused_as_bad_input() -> Iterator[None]:
    """A bad spec, or a project git or the merge cannot work on: its problems, exit 2."""
    from mcpgen.merge import RegenerateError
    from mcpgen.specfile import SpecError
    from mcpgen.vcs import GitError

    try:
        yield
    except SpecError as exc:
        _fail_on_spec_errors(exc.problems)
    except (RegenerateError, GitError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(BAD_INPUT) from None


@app.command()
def new(
    directory: Annotated[Path, typer.Argument(help="Directory to create (its name is the default server name).")],
    spec: Annotated[
        Path | None, typer.Option("--spec", help="Start from this mcpgen.toml instead of asking.", dir_okay=False)
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Take the defaults; never prompt.")] = False,
    name: Annotated[str | None, typer.Option(help="Server name (lowercase, dashes).")] = None,
    description: Annotated[str | None, typer.Option(help="What the server does.")] = None,
    transport: Annotated[Transport | None, typer.Option(help="How clients connect.")] = None,
    stateless: Annotated[
        bool | None, typer.Option("--stateless/--stateful", help="No sessions: any replica serves any request.")
    ] = None,
    auth: Annotated[AuthChoice | None, typer.Option(help="Auth provider.")] = None,
    issuer: Annotated[
        str | None,
        typer.Option(help="The identity provider's issuer URL (oidc, auth0, workos, descope, keycloak, stytch)."),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="The Microsoft Entra directory (tenant) ID (entra).")] = None,
    storage: Annotated[StorageChoice | None, typer.Option(help="Storage backend.")] = None,
    public_url: Annotated[str | None, typer.Option(help="Default PUBLIC_URL, e.g. https://tools.example.com.")] = None,
    tool: Annotated[str | None, typer.Option(help="Name of a first example tool ('' for none).")] = None,
    example: Annotated[
        str | None,
        typer.Option(help="Start from one of mcpgen's examples (notes, journal, ...): its spec and its tool bodies."),
    ] = None,
) -> None:
    """Create a new MCP server project in DIRECTORY."""
    from mcpgen.commands import new as command
    from mcpgen.specfile import SpecError
    from mcpgen.vcs import GitError

    server = {"name": name, "description": description, "public_url": public_url, "stateless": stateless}
    server["transport"] = transport.value if transport else None
    overrides: dict[str, dict[str, Any]] = {
        "server": {k: v for k, v in server.items() if v is not None},
        "auth": {
            k: v
            for k, v in (("provider", auth.value if auth else None), ("issuer", issuer), ("tenant", tenant))
            if v is not None
        },
        "storage": {"backend": storage.value} if storage else {},
    }
    try:
        if example is not None and spec is not None:
            _fail_on_spec_errors(["--example and --spec both name a spec; give one"])
        created = command.run(directory, spec, yes, {k: v for k, v in overrides.items() if v}, tool, example)
    except SpecError as exc:
        if exc.answers:
            typer.echo("Your answers, as a spec to fix and pass back with --spec FILE:\n", err=True)
            typer.echo(exc.answers, err=True)
        _fail_on_spec_errors(exc.problems)
    except GitError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    command.report(directory, created)


@app.command()
def generate(
    project: Annotated[Path, typer.Argument(help="The project directory.", file_okay=False)] = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
) -> None:
    """Regenerate from mcpgen.toml, keeping your edits (a three-way merge); exit 1 on conflicts."""
    _generate(project, dry_run)


@app.command()
def plan(
    project: Annotated[Path, typer.Argument(help="The project directory.", file_okay=False)] = Path("."),
) -> None:
    """What `mcpgen generate` would change (the same as `generate --dry-run`)."""
    _generate(project, dry_run=True)


def _generate(project: Path, dry_run: bool) -> None:
    from mcpgen.commands import generate as command

    with _refused_as_bad_input():
        summary = command.run(project, dry_run)
    command.report(summary, dry_run)
    if summary.conflicts and not dry_run:
        raise typer.Exit(1)


add_app = typer.Typer(help="Add to the spec from elsewhere, then regenerate.", no_args_is_help=True)
app.add_typer(add_app, name="add")


@add_app.command("openapi")
def add_openapi(
    source: Annotated[
        str | None,
        typer.Argument(help="The OpenAPI 3.0/3.1 document: a file or an http(s) URL (default: the one imported last)."),
    ] = None,
    project: Annotated[Path, typer.Option("--project", help="The project directory.", file_okay=False)] = Path("."),
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only operations with this tag (repeatable).")] = None,
    operation: Annotated[
        list[str] | None, typer.Option("--operation", help="Only this operationId (repeatable).")
    ] = None,
    path: Annotated[
        list[str] | None,
        typer.Option("--path", help="Only this path, or paths matching a glob like /pets* (repeatable)."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The API's base URL, when the document's servers give none.")
    ] = None,
    skip_unsupported: Annotated[
        bool, typer.Option("--skip-unsupported", help="Leave out operations mcpgen cannot represent, listing them.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
) -> None:
    """One tool per API operation in mcpgen.toml, calling the API through a generated client; then regenerate."""
    from mcpgen.commands import add as command
    from mcpgen.openapi import Filters, OpenAPIError

    filters = Filters(tags=tag or [], operations=operation or [], paths=path or [])
    with _refused_as_bad_input():
        try:
            result = command.run(project, source, filters, base_url, skip_unsupported, dry_run)
        except OpenAPIError as exc:
            for problem in exc.problems:
                typer.secho(f"error: {problem}", fg="red", err=True)
            typer.echo("Nothing was written.", err=True)
            raise typer.Exit(BAD_INPUT) from None
    command.report(result, dry_run)
    if result.summary.conflicts and not dry_run:
        raise typer.Exit(1)


@app.command()
def check(
    project: Annotated[Path, typer.Argument(help="The project directory.", file_okay=False)] = Path("."),
) -> None:
    """Check the project against its spec: invalid (exit 2), stale, drift or conflict markers (exit 1)."""
    from mcpgen.commands import check as command

    with _refused_as_bad_input():
        code = command.run(project)
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of mcpgen.toml (for editor completion)."""
    from mcpgen.commands import schema as command

    command.run()


# The doctor's options live beside it, in commands/doctor.py (a light module: it probes only when run).
from mcpgen.commands.doctor import command as doctor  # noqa: E402

app.command(name="doctor")(doctor)


def main() -> None:
    app()
