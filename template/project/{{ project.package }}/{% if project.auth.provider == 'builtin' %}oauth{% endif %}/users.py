"""The people who may log in: names and argon2 password hashes, in the server's store.

Signing a user out everywhere (`users revoke`, a new password, removal) keeps one record per user,
the time of the sign-out: token families and remembered consents from before it no longer count.
The stores cannot list keys, so this is how "every token of one user" is found without an index.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# Collection of the sign-out records: user name -> {"at": Unix time}. Kept forever: one small record per user.
SIGNED_OUT = "signed_out"
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
# Made ahead with the hasher's parameters, since hashing takes a fifth of a second of every start;
# made here only if argon2-cffi's defaults changed (then it must cost what a real hash costs).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$9ZkZ5L5kyNJg972pWhug+w$qFci2YWq1Tg+DoM0GmM+xIOQYGDkHZJTLyuc4KuGmMk"
if _hasher.check_needs_rehash(_DUMMY_HASH):
    _DUMMY_HASH = _hasher.hash("not a password")


def _matches(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def signed_out_at(store: AsyncKeyValue, name: str) -> float:
    """When the user was last signed out everywhere (0 if never)."""
    record = await store.get(name, collection=SIGNED_OUT)
    return float(record["at"]) if record else 0.0


class Users:
    def __init__(self, store: AsyncKeyValue) -> None:
        self.store = store

    async def add(self, name: str, password: str) -> bool:
        """Add a user, or set a new password, which signs the user out everywhere; True if it did.

        The password the user already has changes nothing: there is nothing to end (and scripts
        that run `users add` again at every deploy sign nobody out).
        """
        if not NAME.fullmatch(name):
            raise ValueError("a user name is 1-64 letters, digits and _ . @ -")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        old = await self.store.get(name, collection="users")
        if old is not None and await anyio.to_thread.run_sync(_matches, old["hash"], password):
            return False
        record = {"hash": _hasher.hash(password), "created": int(time.time())}
        await self.store.put(name, record, collection="users")
        await self._index(add=name)
        if old is None:
            return False  # a new name (a removed user was signed out when removed)
        # After the new hash is stored: a sign-in with the old password can no longer begin after it.
        await self.sign_out(name)
        return True

    async def remove(self, name: str) -> bool:
        await self._index(remove=name)
        removed = await self.store.delete(name, collection="users")
        await self.sign_out(name)
        return removed

    async def exists(self, name: str) -> bool:
        return NAME.fullmatch(name) is not None and await self.store.get(name, collection="users") is not None

    async def sign_out(self, name: str) -> None:
        """End every grant of the user: tokens, codes and sign-ins begun before now, and remembered consents.

        Checked against when each token family began (Tokens.signed_out). Replicas' clocks must agree
        (NTP), as they must for token expiry anyway.
        """
        await self.store.put(name, {"at": time.time()}, collection=SIGNED_OUT)

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
