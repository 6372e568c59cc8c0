"""The `note` resource (notes://note/{id}). Its metadata lives in mcpgen.toml."""

from __future__ import annotations

from key_value.aio.protocols import AsyncKeyValue

from ..calls import Caller
from ..notebook import notes_of


async def read(store: AsyncKeyValue, id: str, caller: Caller) -> str:
    for note in await notes_of(store, caller):
        if note["id"] == id:
            tags = f"\n\nTags: {', '.join(note['tags'])}" if note["tags"] else ""
            return f"{note['text']}{tags}"
    return f"There is no note {id}."
