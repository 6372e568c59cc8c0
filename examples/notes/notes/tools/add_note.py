"""The `add_note` tool. Its name, description and parameters live in mcpgen.toml."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ..calls import Caller
from ..notebook import notes_of, now, save

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def add_note(
    store: AsyncKeyValue,
    *,
    text: str,
    tags: list[str],
    caller: Caller,
) -> str:
    note_id = uuid.uuid4().hex[:12]
    notes = await notes_of(store, caller)
    notes.append({"id": note_id, "text": text, "tags": sorted(set(tags)), "at": now()})
    await save(store, caller, notes)
    return note_id
