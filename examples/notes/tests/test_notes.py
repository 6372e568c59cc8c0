"""The notes example does what its tools promise: notes are stored, searched, read and deleted."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from mcp.types import TextContent, TextResourceContents

from .conftest import Connect

pytestmark = pytest.mark.anyio


def text_of(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent), result.content
    return block.text


async def test_a_note_is_stored_found_read_summarized_and_deleted(mcp_client: Connect) -> None:
    tag = f"tag-{secrets.token_hex(4)}"
    async with mcp_client("auto") as client:
        first = text_of(await client.call_tool("add_note", {"text": "Buy oat milk", "tags": [tag]}))
        second = text_of(await client.call_tool("add_note", {"text": f"Call the plumber {tag}"}))

        found = await client.call_tool("search_notes", {"query": tag, "order": "oldest"})
        assert found.structured_content is not None
        assert [note["id"] for note in found.structured_content["notes"]] == [first, second]
        newest = await client.call_tool("search_notes", {"query": tag, "limit": 1})
        assert newest.structured_content is not None
        assert newest.structured_content["total"] == 2
        assert [note["id"] for note in newest.structured_content["notes"]] == [second]

        read = (await client.read_resource(f"notes://note/{first}")).contents[0]
        assert isinstance(read, TextResourceContents) and read.text.startswith("Buy oat milk")
        recent = (await client.read_resource("notes://recent")).contents[0]
        assert isinstance(recent, TextResourceContents)
        assert second in [note["id"] for note in json.loads(recent.text)["notes"]]
        prompt = await client.get_prompt("summarize_notes", {"tag": tag})
        assert isinstance(prompt.messages[0].content, TextContent)
        assert "Buy oat milk" in prompt.messages[0].content.text

        assert text_of(await client.call_tool("delete_note", {"note_id": first})) == "true"
        assert text_of(await client.call_tool("delete_note", {"note_id": first})) == "false"
        left = await client.call_tool("search_notes", {"query": tag})
    assert left.structured_content is not None
    assert [note["id"] for note in left.structured_content["notes"]] == [second]
