"""`mcpgen doctor URL`: diagnose a live MCP server the way Claude and MCP Inspector connect to it."""

from __future__ import annotations

import sys
import webbrowser
from urllib.parse import urlsplit

import typer

from mcpgen.doctor.clients import Client
from mcpgen.doctor.report import Report, Status, render_text
from mcpgen.doctor.run import diagnose

COLORS = {Status.PASS: "green", Status.FAIL: "red", Status.WARN: "yellow", Status.SKIP: "bright_black"}


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


def run(
    url: str,
    token: str | None,
    client: Client,
    as_json: bool,
    timeout: float,
    register: bool = True,
    login: bool = False,
) -> Report:
    report = diagnose(
        url, token=token, client=client, timeout=timeout, register=register, opener=sign_in if login else None
    )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        color = sys.stdout.isatty()

        def style(text: str, status: Status) -> str:
            return typer.style(text, fg=COLORS[status], bold=status is Status.FAIL) if color else text

        typer.echo(render_text(report, style))
    return report
