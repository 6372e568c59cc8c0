"""`mcpgen doctor URL`: diagnose a live MCP server the way Claude and MCP Inspector connect to it.

The command's options live here (cli.py only registers `command`); the probing modules are imported
when it runs, so `mcpgen --help` stays light.
"""

from __future__ import annotations

import sys
import webbrowser
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from mcpgen.doctor.clients import Client

if TYPE_CHECKING:
    from mcpgen.doctor.report import Report

# Exit codes, as in cli.py: 1 a selected client breaks, 2 bad input.
BAD_INPUT = 2


def url_problem(url: str) -> str | None:
    """Why `url` cannot be probed, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL; give the MCP endpoint, e.g. https://tools.example.com/mcp"
    return None


def sign_in(url: str) -> None:
    """--login: the user signs in in their browser, as with Claude Code."""
    typer.echo(f"Sign in to continue (opening your browser):\n  {url}", err=True)
    webbrowser.open(url)


def options_problem(login: bool, register: bool, client_id: str | None, callback_port: int | None) -> str | None:
    """Why these options cannot go together, or None."""
    if login and not register and client_id is None:
        return "--login needs a client: drop --no-register, or give a pre-registered one with --client-id"
    if callback_port is not None and client_id is None:
        return "--callback-port is the redirect of a pre-registered client: give its --client-id too"
    return None


def command(
    url: Annotated[str, typer.Argument(help="The server's MCP endpoint, e.g. https://tools.example.com/mcp.")],
    token: Annotated[
        str | None, typer.Option(help="Bearer token (API key or OAuth access token) sent on every MCP request.")
    ] = None,
    client: Annotated[
        Client, typer.Option(help="Whose expectations apply: claude-ai, claude-code, inspector or all.")
    ] = Client.ALL,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds allowed for each request.", min=0.5)] = 10.0,
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="Try dynamic client registration (one client named mcpgen-doctor, deleted again where RFC 7592 "
            "allows); --no-register changes nothing on the server.",
        ),
    ] = True,
    login: Annotated[
        bool,
        typer.Option(
            "--login",
            help="Sign in through your browser as Claude Code does (loopback redirect, PKCE), then check the token "
            "response, run the checks behind auth with the token, refresh it once and revoke what was obtained.",
        ),
    ] = False,
    client_id: Annotated[
        str | None,
        typer.Option(
            help="A client id registered beforehand (for servers without dynamic registration, as Claude Code's "
            "--client-id): no registration is tried, and --login signs in as this client.",
        ),
    ] = None,
    callback_port: Annotated[
        int | None,
        typer.Option(
            help="The loopback port of the pre-registered client's redirect, http://localhost:PORT/callback "
            "(Claude Code's --callback-port); without it a random port.",
            min=1,
            max=65535,
        ),
    ] = None,
) -> None:
    """Probe a live MCP server as its clients would; name the clients that break, where, and the fix (exit 1 if any does)."""
    for why in (url_problem(url), options_problem(login, register, client_id, callback_port)):
        if why:
            typer.secho(f"error: {why}", fg="red", err=True)
            raise typer.Exit(BAD_INPUT)
    report = run(url, token, client, json_output, timeout, register, login, client_id, callback_port)
    raise typer.Exit(report.exit_code)


def run(
    url: str,
    token: str | None,
    client: Client,
    as_json: bool,
    timeout: float,
    register: bool = True,
    login: bool = False,
    client_id: str | None = None,
    callback_port: int | None = None,
) -> Report:
    from mcpgen.doctor.report import Status, render_text
    from mcpgen.doctor.run import diagnose

    report = diagnose(
        url,
        token=token,
        client=client,
        timeout=timeout,
        register=register,
        opener=sign_in if login else None,
        client_id=client_id,
        callback_port=callback_port,
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        colors = {Status.PASS: "green", Status.FAIL: "red", Status.WARN: "yellow", Status.SKIP: "bright_black"}
        color = sys.stdout.isatty()

        def style(text: str, status: Status) -> str:
            return typer.style(text, fg=colors[status], bold=status is Status.FAIL) if color else text

        typer.echo(render_text(report, style))
    return report
