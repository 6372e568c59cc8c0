"""Limits that keep one client from starving the others: request rates and tool call time.

Rates are counted per client in the shared store, in fixed windows, so they hold across
workers and replicas. Adding to the count is a read and a write, not an atomic increment, and
busy buckets are written in batches: a burst spread over several replicas can pass a little
over the limit. When the store cannot be reached the request is let through (and
/readyz already reports the outage): a limiter must not turn a store hiccup into an outage.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from fastmcp.exceptions import ToolError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from . import observe

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue

logger = logging.getLogger(__name__)

T = TypeVar("T")

RATE = re.compile(r"(\d+)/(\d+)")


class Rate(NamedTuple):
    """At most `requests` per `seconds`; 0 requests means no limit."""

    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        found = RATE.fullmatch(text.strip())
        if not found or int(found.group(2)) == 0:
            raise ValueError(f"a rate is REQUESTS/SECONDS such as 30/60 (0/60 for none), got {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))


# How often a replica writes what it counted to the store, at the latest.
SYNC_SECONDS = 1.0


@dataclass
class Window:
    """One client's count in one window, as this process knows it."""

    ends: float
    shared: int = 0  # in the store at the last sync, this process's requests included
    pending: int = 0  # counted here since, not yet in the store
    synced: float = 0.0


class Limiter:
    """Fixed-window counts in the store. Each process adds what it counted every `rate / 50`
    requests or SYNC_SECONDS, so a busy tools/call does not pay two store round trips, and a
    slow endpoint (a batch of one) is counted exactly."""

    def __init__(self, store: AsyncKeyValue) -> None:
        self.store = store
        self._windows: dict[str, Window] = {}

    async def wait(self, bucket: str, client: str, rate: Rate) -> int | None:
        """Count one request; the seconds until the client may try again if it is over the rate."""
        if rate.requests == 0:
            return None
        now = time.time()
        number = int(now // rate.seconds)
        key = f"{bucket}:{client}:{number}"
        window = self._windows.get(key) or self._open(key, ends=(number + 1) * rate.seconds)
        retry_after = max(1, math.ceil(window.ends - now))
        # Counts only grow within a window, so an old answer of "over" is still right.
        if window.shared + window.pending >= rate.requests:
            return retry_after
        window.pending += 1
        if window.pending >= max(1, rate.requests // 50) or time.monotonic() - window.synced >= SYNC_SECONDS:
            await self._sync(key, window, rate)
            if window.shared > rate.requests:  # other replicas used the rest first
                return retry_after
        return None

    def _open(self, key: str, ends: float) -> Window:
        if len(self._windows) >= 10_000:
            now = time.time()
            self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
        window = self._windows[key] = Window(ends=ends)
        return window

    async def _sync(self, key: str, window: Window, rate: Rate) -> None:
        window.synced = time.monotonic()
        try:
            stored = await self.store.get(key, collection="rate_limits") or {"count": 0}
            count = int(stored["count"]) + window.pending
            await self.store.put(key, {"count": count}, collection="rate_limits", ttl=rate.seconds)
        except Exception as exc:
            # Kept as pending, to be written at the next sync.
            logger.warning("rate limit not shared, store unavailable: %s", type(exc).__name__)
            return
        window.shared, window.pending = count, 0


def too_many(retry_after: int, jsonrpc: bool) -> JSONResponse:
    message = f"Too many requests: try again in {retry_after} s"
    if jsonrpc:
        body: dict[str, object] = {"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}
    else:
        body = {"error": "too_many_requests", "error_description": message}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})


def client_address(scope: Scope) -> str:
    # The real client's address, as the proxy in FORWARDED_ALLOW_IPS saw it (compliance.behind_proxy).
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class EndpointLimits:
    """POSTs to the authorization endpoints, per client address (no client is authenticated yet),
    and every request to /authorize, whose GET stores a pending authorization too."""

    def __init__(self, app: ASGIApp, limiter: Limiter, rates: dict[str, Rate]) -> None:
        self.app = app
        self.limiter = limiter
        self.rates = rates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rate = self.rates.get(scope.get("path", "")) if scope["type"] == "http" else None
        if rate is not None and (scope["method"] == "POST" or scope["path"] == "/authorize"):
            wait = await self.limiter.wait(scope["path"], client_address(scope), rate)
            if wait is not None:
                return await too_many(wait, jsonrpc=False)(scope, receive, send)
        await self.app(scope, receive, send)


class ToolCallLimit:
    """tools/call per authenticated client (per address without auth); runs inside authentication."""

    def __init__(self, app: ASGIApp, limiter: Limiter, rate: Rate) -> None:
        self.app = app
        self.limiter = limiter
        self.rate = rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = observe.current.get() or {}
        if scope["type"] == "http" and request.get("mcp_method") == "tools/call":
            client = request.get("client_id") or client_address(scope)
            wait = await self.limiter.wait("tools/call", client, self.rate)
            if wait is not None:
                return await too_many(wait, jsonrpc=True)(scope, receive, send)
        await self.app(scope, receive, send)


async def within(seconds: float, tool: str, call: Awaitable[T]) -> T:
    """A tool call that runs past TOOL_TIMEOUT (0: no limit) is cancelled and answered with a tool error.

    Applied in the registry's wrappers rather than as fastmcp middleware, whose dispatch costs
    more than a small tool call.
    """
    if not seconds:
        return await call
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await call
    except TimeoutError:
        if not deadline.expired():
            raise  # the tool's own timeout, not ours
        raise ToolError(f"{tool} took longer than {seconds:g} s and was stopped") from None
