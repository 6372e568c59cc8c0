"""Tests for the `list_entries` tool. Yours, like tools/list_entries.py: mcpgen writes it once."""

from __future__ import annotations

import json

import pytest
from mcp.types import TextContent

from .conftest import MODES, Connect

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", MODES)
async def test_list_entries_answers_newest_first(mcp_client: Connect, mode: str) -> None:
    async with mcp_client(mode) as client:
        await client.call_tool("write_entry", {"text": f"older, {mode}"})
        await client.call_tool("write_entry", {"text": f"newer, {mode}", "mood": "good"})
        result = await client.call_tool("list_entries", {"limit": 2})
    assert not result.is_error, result.content
    assert isinstance(result.content[0], TextContent)
    entries = json.loads(result.content[0].text)
    assert [(entry["text"], entry["mood"]) for entry in entries] == [
        (f"newer, {mode}", "good"),
        (f"older, {mode}", "fine"),
    ]
