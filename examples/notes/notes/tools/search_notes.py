"""The `search_notes` tool. Its name, description and parameters live in mcpgen.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..calls import Caller
from ..notebook import notes_of

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def search_notes(
    store: AsyncKeyValue,
    *,
    query: str,
    limit: int,
    order: Literal["newest", "oldest"],
    caller: Caller,
) -> dict[str, Any]:
    phrase = query.casefold()
    found = [
        note
        for note in await notes_of(store, caller)
        if phrase in note["text"].casefold() or phrase in (tag.casefold() for tag in note["tags"])
    ]
    if order == "newest":
        found.reverse()
    return {"total": len(found), "notes": found[:limit]}
