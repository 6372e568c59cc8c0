"""The clients whose expectations `mcpgen doctor --client` applies (kept free of imports: the CLI loads it).

claude.ai connects to a server from Anthropic's servers, Claude Code (and Desktop) are native programs:
none of them is subject to CORS. MCP Inspector's web UI in direct mode talks to the server from the
browser page, so it is the one client here that needs CORS.
"""

from __future__ import annotations

from enum import StrEnum


class Client(StrEnum):
    CLAUDE_AI = "claude-ai"
    CLAUDE_CODE = "claude-code"
    INSPECTOR = "inspector"
    ALL = "all"


NAMES = {
    Client.CLAUDE_AI: "claude.ai",
    Client.CLAUDE_CODE: "Claude Code",
    Client.INSPECTOR: "MCP Inspector (web UI, direct connection)",
}
# Clients whose requests come from a browser page, where the server's CORS headers decide what gets through.
BROWSER = frozenset({Client.INSPECTOR})
CLAUDE = frozenset({Client.CLAUDE_AI, Client.CLAUDE_CODE})
