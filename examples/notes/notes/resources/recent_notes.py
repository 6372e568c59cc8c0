"""The `recent_notes` resource (notes://recent). Its metadata lives in mcpgen.toml."""

from __future__ import annotations

import json

from key_value.aio.protocols import AsyncKeyValue

from ..calls import Caller
from ..notebook import notes_of


async def read(store: AsyncKeyValue, caller: Caller) -> str:
    notes = await notes_of(store, caller)
    return json.dumps({"notes": notes[::-1][:10]})
