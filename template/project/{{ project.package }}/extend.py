"""Your additions to the server, beyond what mcpgen.toml declares. This file is yours.

app.py calls these three functions when it assembles the server, so anything fastmcp or
Starlette allows can be added here without editing a generated file (which `mcpgen check` would
report as drift). mcpgen writes this file once; regenerating keeps your edits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastmcp import FastMCP
from starlette.middleware import Middleware

from .settings import Settings

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


def server(mcp: FastMCP, settings: Settings, store: AsyncKeyValue) -> None:
    """Called once, after the spec's tools, resources and prompts are registered.

    For example: HTTP routes beside /mcp (`@mcp.custom_route("/hello", methods=["GET"])`),
    fastmcp middleware that sees every MCP request (`mcp.add_middleware(...)`), or tools whose
    shape the spec cannot declare (`@mcp.tool`). `store` is the same store the bodies get.
    """


@asynccontextmanager
async def running(settings: Settings, store: AsyncKeyValue) -> AsyncIterator[None]:
    """Start-up work before the `yield`, shutdown work after it; the store is open throughout."""
    yield


def middleware(settings: Settings) -> list[Middleware]:
    """Starlette middleware around the MCP endpoint (HTTP only), inside authentication, so
    `scope["user"]` is the authenticated caller; the outermost entries run first."""
    return []
