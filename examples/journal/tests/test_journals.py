"""Each user keeps their own journal: two people sign in, and neither sees the other's entries."""

from __future__ import annotations

import dataclasses
import json
import secrets
from typing import Any

import pytest
from mcp.types import TextContent

from .conftest import Server, add_user, connect, sign_in

pytestmark = pytest.mark.anyio


def as_user(server: Server, user: str) -> Server:
    """The running server, reached with a token `user` got by signing in (made with `users add`)."""
    password = secrets.token_urlsafe(16)
    add_user(server.env, server.log.parent, user, password)
    token = sign_in(server.url, user=user, password=password)["access_token"]
    return dataclasses.replace(server, headers={"Authorization": f"Bearer {token}"})


async def entries(server: Server) -> list[Any]:
    async with connect(server) as client:
        result = await client.call_tool("list_entries", {"limit": 200})
    assert not result.is_error, result.content
    # An array comes back as one JSON text block (none at all when it is empty).
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    listed: list[Any] = json.loads(texts[0]) if texts else []
    return listed


async def test_two_users_never_see_each_others_entries(server: Server) -> None:
    ada, bob = as_user(server, "ada"), as_user(server, "bob")
    async with connect(ada) as client:
        for text in ("ada's first", "ada's second"):
            assert not (
                await client.call_tool("write_entry", {"text": text, "mood": "good"})
            ).is_error
    async with connect(bob) as client:
        saved = await client.call_tool("write_entry", {"text": "bob's only"})
    assert not saved.is_error and "bob" in json.dumps(saved.model_dump(mode="json"))

    assert [entry["text"] for entry in await entries(ada)] == ["ada's second", "ada's first"]
    assert [(entry["text"], entry["mood"]) for entry in await entries(bob)] == [
        ("bob's only", "fine")
    ]
