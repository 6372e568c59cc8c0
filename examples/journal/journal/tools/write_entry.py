"""The `write_entry` tool. Its name, description and parameters live in mcpgen.toml."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from ..calls import Caller

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue

# The newest entries a journal keeps; older ones are dropped as new ones come.
KEEP = 1000


async def write_entry(
    store: AsyncKeyValue,
    *,
    text: str,
    mood: Literal["good", "fine", "bad"],
    caller: Caller,
) -> str:
    # One journal per user, under the subject the token names: no argument can reach another's.
    journal = await store.get(caller.subject, collection="journals") or {"entries": []}
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "mood": mood, "text": text}
    journal["entries"] = [*journal["entries"], entry][-KEEP:]
    await store.put(caller.subject, journal, collection="journals")
    return f"Saved entry {len(journal['entries'])} of {caller.subject}'s journal."
