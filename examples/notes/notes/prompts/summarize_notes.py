"""The `summarize_notes` prompt. Its description and arguments live in mcpgen.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..calls import Caller
from ..notebook import notes_of

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def render(store: AsyncKeyValue, tag: str, caller: Caller) -> str:
    tagged = [note for note in await notes_of(store, caller) if tag in note["tags"]]
    if not tagged:
        return f"There are no notes tagged {tag!r} yet. Say so, and suggest what to note."
    listed = "\n".join(f"- ({note['at']}) {note['text']}" for note in tagged)
    return f"Summarize these notes tagged {tag!r} in a short paragraph:\n\n{listed}"
