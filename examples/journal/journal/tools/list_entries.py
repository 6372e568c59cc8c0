"""The `list_entries` tool. Its name, description and parameters live in mcpgen.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..calls import Caller

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def list_entries(
    store: AsyncKeyValue,
    *,
    limit: int,
    caller: Caller,
) -> list[Any]:
    journal = await store.get(caller.subject, collection="journals") or {"entries": []}
    entries: list[Any] = journal["entries"]
    return entries[::-1][:limit]
