"""The `recent_notes` resource (notes://recent). Its metadata lives in mcpgen.toml."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..calls import Caller
from ..notebook import notes_of

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue


async def read(store: AsyncKeyValue, caller: Caller) -> str:
    notes = await notes_of(store, caller)
    return json.dumps({"notes": notes[::-1][:10]})
