"""Each caller's notes, kept as one document in the store (yours: mcpgen never generated this file)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .calls import Caller

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue

# The newest notes a notebook keeps; the oldest go first.
KEEP = 5000
Note = dict[str, Any]


async def notes_of(store: AsyncKeyValue, caller: Caller) -> list[Note]:
    """Oldest first. Under the caller's subject, so notes stay apart once the server has auth."""
    notebook = await store.get(caller.subject, collection="notebooks") or {"notes": []}
    notes: list[Note] = notebook["notes"]
    return notes


async def save(store: AsyncKeyValue, caller: Caller, notes: list[Note]) -> None:
    await store.put(caller.subject, {"notes": notes[-KEEP:]}, collection="notebooks")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
