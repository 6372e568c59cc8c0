"""`mcpgen new DIR`: write a spec, render the project, start its git history."""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import typer

from mcpgen import __version__
from mcpgen.envfile import write_env
from mcpgen.questions import QUESTIONS, ask_for_spec, example_tool, project_name
from mcpgen.render import RENDER_KEY, examples_dir, render, render_key
from mcpgen.spec import (
    PROXY_CALLBACK_PATH,
    PROXY_PROVIDERS,
    RESOURCE_SERVER_PROVIDERS,
    UPSTREAMS,
    USER_ENDPOINT_PROVIDERS,
    Spec,
)
from mcpgen.specfile import SPEC_FILE, Problem, SpecError, dump_spec, parse_spec, read_spec_text, validate_data
from mcpgen.vcs import PRISTINE_BRANCH, git, init_project, user_identity


def run(
    directory: Path,
    spec_file: Path | None,
    yes: bool,
    overrides: dict[str, dict[str, Any]],
    tool: str | None,
    example: str | None = None,
) -> Spec:
    """Create the project in `directory`; nothing is left behind if any step fails.

    `example` starts from one of mcpgen's examples: its spec, and its bodies (examples/NAME/, the
    files the user would have written) committed on main over the generated ones, so regenerating
    merges into them as into any user's code.
    """
    target = directory.resolve()
    bodies: Path | None = None
    if example is not None:
        spec_file, bodies = example_files(example)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SpecError(
            [
                Problem(
                    file=str(directory), line=None, key="", message="already exists and is not empty; nothing written"
                )
            ]
        )

    if spec_file is not None:
        text = read_spec_text(spec_file)
        parse_spec(text, str(spec_file))  # located errors for the file itself, before any flag applies
        data: dict[str, Any] = tomllib.loads(text)
    else:
        text = None
        data = {"server": {"name": project_name(target.name)}}
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    if tool is not None:
        data["tools"] = [example_tool() | {"name": tool}] if tool else []
    if spec_file is None:
        if yes:
            data["server"].setdefault("description", f"The {data['server']['name']} MCP server.")
            data.setdefault("tools", [example_tool()])
        else:
            ask_for_spec(data)
    asked = spec_file is None and not yes
    try:
        spec = validate_data(data, "command line" if spec_file is None else str(spec_file))
    except SpecError as exc:
        if not asked:
            raise
        raise SpecError([_by_question(problem) for problem in exc.problems], answers=dump_answers(data)) from None
    if text is None or overrides or tool is not None:
        text = dump_spec(spec)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        message = f"cannot create a directory in {target.parent}: {exc.strerror}; nothing written"
        raise SpecError([Problem(file=str(directory), line=None, key="", message=message)]) from None
    staging.chmod(0o755)  # mkdtemp makes it private; the project is an ordinary directory
    try:
        render(spec, staging)
        (staging / SPEC_FILE).write_text(text, encoding="utf-8")
        message = f"mcpgen {__version__}: render {spec.server.name}\n\n{RENDER_KEY}: {render_key(spec)}\n"
        init_project(staging, message, [SPEC_FILE])
        if bodies:
            # Over the render, as the user's own commit: the pristine branch keeps the generated ones.
            git(staging, "add", "--", *copy_bodies(bodies, staging))
            message = f"Start from the example {example}: its bodies and tests"
            git(staging, "commit", "--quiet", "-m", message, env=user_identity(staging))
        write_env(staging, spec)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return spec


def example_files(name: str) -> tuple[Path, Path | None]:
    """The spec of example `name` and its directory of bodies (None if it has none)."""
    root = examples_dir()
    spec = root / f"{name}.toml"
    if not spec.is_file():
        known = ", ".join(sorted(p.stem for p in root.glob("*.toml")))
        raise SpecError([Problem(file="--example", line=None, key="", message=f"no example {name!r}; one of {known}")])
    bodies = root / name
    return spec, bodies if bodies.is_dir() else None


def copy_bodies(bodies: Path, root: Path) -> list[str]:
    """Copy an example's files over the render; their paths, relative to the project."""
    written = []
    for source in sorted(bodies.rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            relative = source.relative_to(bodies)
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_bytes(source.read_bytes())
            written.append(relative.as_posix())
    return written


def _by_question(problem: Problem) -> Problem:
    """A problem with the answers, named by the question that was asked."""
    question = QUESTIONS.get(problem.key)
    return problem.model_copy(update={"file": "your answers", "key": f'"{question}"' if question else problem.key})


def dump_answers(data: dict[str, Any]) -> str:
    """The answers as a spec file, so none is lost when they fail together."""
    import tomli_w

    return tomli_w.dumps(data)


def report(directory: Path, spec: Spec) -> None:
    """What was made, and the commands that come next."""
    s = spec.server
    typer.echo(
        f"Created {directory} ({len(spec.tools)} tools, auth {spec.auth.provider}, storage {spec.storage.backend})."
    )
    typer.echo(f"Generated files are on branch {PRISTINE_BRANCH}; your work goes on main.")
    command = f"{s.name} serve" if s.transport != "stdio" else f"{s.name} stdio"
    typer.echo("\nNext:")
    typer.echo(f'  cd {directory} && python -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"')
    typer.echo(f"  {command}")
    if s.transport != "stdio":
        typer.echo(f"\nThe MCP endpoint is {s.public_url}/mcp (PUBLIC_URL in .env + /mcp).")
    auth = spec.auth
    if auth.provider in RESOURCE_SERVER_PROVIDERS:
        audience = auth.audience or f"PUBLIC_URL/mcp ({s.public_url}/mcp now)"
        typer.echo(
            f"Access tokens come from {auth.provider} ({auth.issuer}) and must carry aud = {audience}; "
            f"README.md lists what to turn on in the {auth.provider} console (dynamic client registration first)."
        )
    if auth.provider in PROXY_PROVIDERS:
        upstream = UPSTREAMS[auth.provider]
        where = auth.issuer if auth.provider == "oidc-proxy" else f"{upstream['name']} ({upstream['console']})"
        env = upstream["env"]
        typer.echo(
            f"Register one redirect URI for the client at {where}: {s.public_url}{PROXY_CALLBACK_PATH} "
            f"(PUBLIC_URL + {PROXY_CALLBACK_PATH}); put its id and secret in .env ({env}_CLIENT_ID, {env}_CLIENT_SECRET)."
        )
    if auth.provider == "entra":
        typer.echo(
            "Under Expose an API, set the Application ID URI to api://<client id> and add the scopes "
            f"{', '.join(auth.scopes) or 'your tools need'}; README.md has the rest."
        )
    if auth.provider == "builtin":
        typer.echo(f"Nobody can sign in yet: add the first account with `{s.name} users add NAME`.")
    if auth.provider in USER_ENDPOINT_PROVIDERS:
        typer.echo(
            f"Anyone with a {UPSTREAMS[auth.provider]['name']} account can sign in and gets every scope "
            "until ALLOWED_USERS in .env names who may."
        )
