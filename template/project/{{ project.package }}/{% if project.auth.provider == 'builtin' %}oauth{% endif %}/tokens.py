"""Access tokens (RFC 9068 JWT profile) and refresh tokens that rotate on every use.

A grant (one user's consent to one client) starts a token family. Every refresh replaces the
refresh token; presenting a replaced one again means it leaked, so the whole family is revoked
(RFC 9700 §4.14.2), and so are its access tokens, which carry the family id. The one exception
is a single retry within REFRESH_REUSE_GRACE seconds: when a replica dies or a proxy times out
after the rotation, the client never saw the new token and sends the old one once more. A
second replay is a leak like any other.

A family's id starts with the time its user signed in, so signing a user out everywhere is one
record (users.py) that ends every family begun before it, without a list of the user's families.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import jwt
from fastmcp.server.auth import AccessToken
from mcp.shared.auth import OAuthToken
from pydantic import BaseModel

from .users import signed_out_at

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue

# How long a family's revoked-or-not answer, and a verified token, are trusted before checking
# again: revocation reaches every replica within this time.
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000

V = TypeVar("V")


class RecentCache(Generic[V]):
    """Answers kept for CACHE_SECONDS; the expired ones are swept out as often, so the cache
    holds the last few seconds of traffic (at most CACHE_ENTRIES answers), not an hour of it."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[V, float]] = {}
        self._swept = time.monotonic()

    def get(self, key: str) -> V | None:
        found = self._entries.get(key)
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def put(self, key: str, value: V) -> None:
        now = time.monotonic()
        if now - self._swept > CACHE_SECONDS or len(self._entries) >= CACHE_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            self._swept = now
        # Full, it still updates what it holds: a family revoked here must not read as standing.
        if key in self._entries or len(self._entries) < CACHE_ENTRIES:
            self._entries[key] = (value, now + CACHE_SECONDS)


class Grant(BaseModel):
    """What a token family is allowed: issued by consent, carried by every token of the family."""

    client_id: str
    scopes: list[str]
    subject: str
    resource: str
    family: str


def family_started(family: str) -> float:
    """When a family began (see Tokens.new_family); ids from before they carried it count as 0."""
    millis, dot, _ = family.partition(".")
    return int(millis) / 1000 if dot and millis.isdigit() else 0.0


def digest(token: str) -> str:
    """Tokens are stored by hash: a leaked store does not leak usable tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(
        self,
        store: AsyncKeyValue,
        *,
        issuer: str,
        signing_key: str,
        access_ttl: int,
        refresh_ttl: int,
        reuse_grace: int,
    ) -> None:
        self.store = store
        self.issuer = issuer
        self.signing_key = signing_key
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.reuse_grace = reuse_grace
        self._revoked = RecentCache[bool]()
        # Verifying a signature costs more than the rest of a small tool call; clients reuse tokens.
        self._verified = RecentCache[AccessToken]()
        self._signed_out = RecentCache[float]()

    @staticmethod
    def new_family(started: float | None = None) -> str:
        """A family id that begins with the sign-in time in milliseconds: "1764345600123.<random>"."""
        return f"{int((started or time.time()) * 1000)}.{uuid.uuid4().hex}"

    async def issue(self, grant: Grant) -> OAuthToken:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": grant.resource,
            "sub": grant.subject,
            "client_id": grant.client_id,
            "scope": " ".join(grant.scopes),
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": uuid.uuid4().hex,
            "fam": grant.family,
        }
        access = jwt.encode(claims, self.signing_key, algorithm="HS256", headers={"typ": "at+jwt"})
        refresh = secrets.token_urlsafe(48)
        await self.store.put(digest(refresh), grant.model_dump(), collection="refresh_tokens", ttl=self.refresh_ttl)
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=self.access_ttl,
            refresh_token=refresh,
            scope=" ".join(grant.scopes),
        )

    async def verify(self, token: str, resource: str) -> AccessToken | None:
        """The token's grant if its signature, issuer, audience and expiry hold and its family stands."""
        cached = self._verified.get(token)
        if cached is not None and (cached.expires_at or 0) > time.time():
            claims_family = str((cached.claims or {}).get("fam", ""))
            return None if await self.has_ended(cached.subject or "", claims_family) else cached
        access = await self._verify(token, resource)
        if access is not None:
            self._verified.put(token, access)
        return access

    async def _verify(self, token: str, resource: str) -> AccessToken | None:
        try:
            claims = jwt.decode(
                token,
                self.signing_key,
                algorithms=["HS256"],
                audience=resource,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub", "fam"]},
            )
        except jwt.PyJWTError:
            return None
        if await self.has_ended(claims["sub"], claims["fam"]):
            return None
        return AccessToken(
            token=token,
            client_id=claims["client_id"],
            scopes=claims["scope"].split(),
            expires_at=claims["exp"],
            resource=claims["aud"],
            subject=claims["sub"],
            # All of them: a tool body sees them as `caller.claims` (calls.Caller).
            claims=claims,
        )

    async def grant_of_refresh(self, refresh: str) -> Grant | None:
        """The grant behind a live refresh token; a replaced one revokes its family."""
        found, used = await self._stored(refresh)
        if found is None:
            if used is None:
                return None
            if not self._retry_allowed(used):
                await self.revoke_family(str(used["family"]))
                return None
            found = used["grant"]
        grant = Grant.model_validate(found)
        # Asked of the store itself: another replica may have revoked the family a moment ago.
        revoked = await self.store.get(grant.family, collection="revoked_families") is not None
        return None if revoked or await self.signed_out(grant.subject, grant.family, fresh=True) else grant

    async def _stored(self, refresh: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """A refresh token's grant while it is live; else the marker it left when it was spent, if any."""
        found = await self.store.get(digest(refresh), collection="refresh_tokens")
        if found is not None:
            return found, None
        return None, await self.store.get(digest(refresh), collection="used_refresh_tokens")

    @staticmethod
    def _retry_allowed(used: dict[str, Any]) -> bool:
        """A spent refresh token presented again within the grace, for the first time: a retry, not a leak."""
        return not used.get("retried") and time.time() <= float(used.get("retry_until", 0))

    async def use_refresh(self, refresh: str, grant: Grant) -> bool:
        """Spend a refresh token once (and allow one retry); False if it was already spent (then its family is revoked).

        The marker lives in the shared store, so a replay is caught on any replica. The store has
        no compare-and-set: two retries racing within the same few milliseconds may both pass.
        """
        used = await self.store.get(digest(refresh), collection="used_refresh_tokens")
        if used is None:
            # Marked spent before it is deleted: a process killed in between leaves a token that
            # is still known, never one that vanished.
            marker = {"family": grant.family, "grant": grant.model_dump(), "retry_until": time.time() + self.reuse_grace}
            await self.store.put(digest(refresh), marker, collection="used_refresh_tokens", ttl=self.refresh_ttl)
        elif self._retry_allowed(used):
            await self.store.put(digest(refresh), {**used, "retried": True}, collection="used_refresh_tokens", ttl=self.refresh_ttl)
            return True
        if await self.store.delete(digest(refresh), collection="refresh_tokens"):
            return True
        await self.revoke_family(grant.family)
        return False

    async def revoke_family(self, family: str) -> None:
        await self.store.put(family, {"revoked": True}, collection="revoked_families", ttl=self.refresh_ttl)
        self._revoked.put(family, True)

    async def revoke(self, token: str, client_id: str) -> None:
        """RFC 7009: revoking either token of a family ends the family.

        §2.1: only the client the token was issued to may revoke it; another client's request
        changes nothing (and gets the same 200, so it learns nothing).
        """
        try:
            claims = jwt.decode(token, self.signing_key, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError:
            claims = None
        if claims is not None:
            if claims.get("client_id") == client_id and "fam" in claims:
                await self.revoke_family(str(claims["fam"]))
            return
        # Looked up without grant_of_refresh's side effect: a replayed token presented here by
        # another client must not revoke the family for it.
        found, used = await self._stored(token)
        if found is None and used is not None:
            found = used["grant"]
        grant = Grant.model_validate(found) if found is not None else None
        if grant is None or grant.client_id != client_id:
            return
        await self.store.delete(digest(token), collection="refresh_tokens")
        await self.revoke_family(grant.family)

    async def is_revoked(self, family: str) -> bool:
        cached = self._revoked.get(family)
        if cached is not None:
            return cached
        revoked = await self.store.get(family, collection="revoked_families") is not None
        self._revoked.put(family, revoked)
        return revoked

    async def has_ended(self, subject: str, family: str) -> bool:
        """Whether the family was revoked or its user signed out everywhere since it began."""
        return await self.is_revoked(family) or await self.signed_out(subject, family)

    async def signed_out(self, subject: str, family: str, fresh: bool = False) -> bool:
        """Whether the user was signed out everywhere after the family began (`users revoke`, a new
        password, removal). Unless `fresh`, the answer may be CACHE_SECONDS old, like a revocation's:
        an access token stops working within 5 s, a refresh token (asked `fresh`) at once.

        One record per user instead of a per-user index of families: nothing to update when a code
        is exchanged, nothing that grows with every sign-in, and no lost updates between replicas.
        The cost is one cached read per user, and that replicas' clocks agree (as `exp` needs anyway).
        """
        at = None if fresh else self._signed_out.get(subject)
        if at is None:
            at = await signed_out_at(self.store, subject)
            self._signed_out.put(subject, at)
        return family_started(family) < at
