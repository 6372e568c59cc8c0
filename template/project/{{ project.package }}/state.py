"""fastmcp's session state (`ctx.set_state`, per-session visibility) in a plain dict of this process.

fastmcp's default for it is also process memory, a MemoryStore; that store's validated layers made
the lookup fastmcp does on every authenticated request cost as much as checking the bearer token.
The state stays per process either way: a replica or worker starts with none.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat

# Old entries go first once this many are held; the state of a live session is small and recent.
MAX_ENTRIES = 10_000

Entry = tuple[dict[str, Any], float | None]  # value, expiry on the monotonic clock


class ProcessState:
    """An AsyncKeyValue over a dict, with TTLs and a size bound."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], Entry] = {}

    async def get(self, key: str, *, collection: str | None = None) -> dict[str, Any] | None:
        return (await self.ttl(key, collection=collection))[0]

    async def ttl(self, key: str, *, collection: str | None = None) -> tuple[dict[str, Any] | None, float | None]:
        name = (collection or "", key)
        entry = self._entries.get(name)
        if entry is None:
            return None, None
        value, expires = entry
        if expires is None:
            return dict(value), None
        left = expires - time.monotonic()
        if left <= 0:
            del self._entries[name]
            return None, None
        return dict(value), left

    async def put(
        self, key: str, value: Mapping[str, Any], *, collection: str | None = None, ttl: SupportsFloat | None = None
    ) -> None:
        name = (collection or "", key)
        self._entries.pop(name, None)
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        expires = None if ttl is None else time.monotonic() + float(ttl)
        self._entries[name] = (dict(value), expires)

    async def delete(self, key: str, *, collection: str | None = None) -> bool:
        return self._entries.pop((collection or "", key), None) is not None

    async def get_many(self, keys: Sequence[str], *, collection: str | None = None) -> list[dict[str, Any] | None]:
        return [await self.get(key, collection=collection) for key in keys]

    async def ttl_many(
        self, keys: Sequence[str], *, collection: str | None = None
    ) -> list[tuple[dict[str, Any] | None, float | None]]:
        return [await self.ttl(key, collection=collection) for key in keys]

    async def put_many(
        self,
        keys: Sequence[str],
        values: Sequence[Mapping[str, Any]],
        *,
        collection: str | None = None,
        ttl: SupportsFloat | None = None,
    ) -> None:
        for key, value in zip(keys, values, strict=True):
            await self.put(key, value, collection=collection, ttl=ttl)

    async def delete_many(self, keys: Sequence[str], *, collection: str | None = None) -> int:
        return sum([await self.delete(key, collection=collection) for key in keys])
