"""The `delete_note` tool. Its name, description and parameters live in mcpgen.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..calls import Caller
from ..notebook import notes_of, save

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def delete_note(
    store: AsyncKeyValue,
    *,
    note_id: str,
    caller: Caller,
) -> bool:
    notes = await notes_of(store, caller)
    kept = [note for note in notes if note["id"] != note_id]
    if len(kept) == len(notes):
        return False  # nothing to delete: deleting twice is no error (idempotentHint)
    await save(store, caller, kept)
    return True
