"""The clients whose expectations `mcpgen doctor --client` applies (kept free of imports: the CLI loads it)."""

from __future__ import annotations

from enum import StrEnum


class Client(StrEnum):
    CLAUDE_AI = "claude-ai"
    CLAUDE_CODE = "claude-code"
    INSPECTOR = "inspector"
    ALL = "all"
