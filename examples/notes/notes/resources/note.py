"""The `note` resource (notes://note/{id}). Its metadata lives in mcpgen.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..calls import Caller
from ..notebook import notes_of

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def read(store: AsyncKeyValue, id: str, caller: Caller) -> str:
    for note in await notes_of(store, caller):
        if note["id"] == id:
            tags = f"\n\nTags: {', '.join(note['tags'])}" if note["tags"] else ""
            return f"{note['text']}{tags}"
    return f"There is no note {id}."
