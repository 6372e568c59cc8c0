"""The people who may log in: names and argon2 password hashes, in the server's store."""

from __future__ import annotations

import re
import time

import anyio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from key_value.aio.protocols import AsyncKeyValue

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password")


def _matches(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class Users:
    def __init__(self, store: AsyncKeyValue) -> None:
        self.store = store

    async def add(self, name: str, password: str) -> None:
        if not NAME.fullmatch(name):
            raise ValueError("a user name is 1-64 letters, digits and _ . @ -")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        record = {"hash": _hasher.hash(password), "created": int(time.time())}
        await self.store.put(name, record, collection="users")
        await self._index(add=name)

    async def remove(self, name: str) -> bool:
        await self._index(remove=name)
        return await self.store.delete(name, collection="users")

    async def names(self) -> list[str]:
        index = await self.store.get("names", collection="user_index") or {"names": []}
        return sorted(index["names"])

    async def _index(self, add: str | None = None, remove: str | None = None) -> None:
        # Stores cannot list their keys, so the names are kept in one record (users change rarely).
        names = set(await self.names()) | ({add} if add else set())
        await self.store.put("names", {"names": sorted(names - {remove})}, collection="user_index")

    async def verify(self, name: str, password: str) -> bool:
        record = await self.store.get(name, collection="users") if NAME.fullmatch(name) else None
        hashed = record["hash"] if record else _DUMMY_HASH
        # argon2 takes ~0.15 s of CPU on purpose: off the event loop, so other requests go on.
        return await anyio.to_thread.run_sync(_matches, hashed, password) and record is not None
