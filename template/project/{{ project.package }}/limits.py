"""Limits that keep one client from starving the others: request rates and tool call time.

Rates are counted per client in the shared store, in fixed windows, so they hold across
workers and replicas. Counting is a read and a write, not an atomic increment: requests from
one client that race on several replicas may each see the same count, so a burst can pass
a little over the limit. When the store cannot be reached the request is let through (and
/readyz already reports the outage): a limiter must not turn a store hiccup into an outage.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from typing import NamedTuple

import mcp_types as mt
from fastmcp.exceptions import ToolError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from key_value.aio.protocols import AsyncKeyValue
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from . import observe

logger = logging.getLogger(__name__)

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


class Limiter:
    def __init__(self, store: AsyncKeyValue) -> None:
        self.store = store

    async def wait(self, bucket: str, client: str, rate: Rate) -> int | None:
        """Count one request; the seconds until the client may try again if it is over the rate."""
        if rate.requests == 0:
            return None
        now = time.time()
        window = int(now // rate.seconds)
        key = f"{bucket}:{client}:{window}"
        try:
            seen = await self.store.get(key, collection="rate_limits") or {"count": 0}
            if seen["count"] >= rate.requests:
                return max(1, math.ceil((window + 1) * rate.seconds - now))
            await self.store.put(key, {"count": seen["count"] + 1}, collection="rate_limits", ttl=rate.seconds)
        except Exception as exc:
            logger.warning("rate limit not checked, store unavailable: %s", type(exc).__name__)
        return None


def too_many(retry_after: int, jsonrpc: bool) -> JSONResponse:
    message = f"Too many requests: try again in {retry_after} s"
    if jsonrpc:
        body: dict[str, object] = {"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}
    else:
        body = {"error": "too_many_requests", "error_description": message}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})


def client_address(scope: Scope) -> str:
    # The real client's address: uvicorn takes it from X-Forwarded-For only for FORWARDED_ALLOW_IPS.
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class EndpointLimits:
    """POSTs to the authorization endpoints, per client address (no client is authenticated yet)."""

    def __init__(self, app: ASGIApp, limiter: Limiter, rates: dict[str, Rate]) -> None:
        self.app = app
        self.limiter = limiter
        self.rates = rates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rate = self.rates.get(scope.get("path", "")) if scope["type"] == "http" else None
        if rate is not None and scope["method"] == "POST":
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


class ToolTimeout(Middleware):
    """A tool call that runs past TOOL_TIMEOUT is cancelled and answered with a tool error."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def on_call_tool(
        self,
        context: MiddlewareContext[mt.CallToolRequestParams],
        call_next: CallNext[mt.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        try:
            async with asyncio.timeout(self.seconds):
                return await call_next(context)
        except TimeoutError:
            raise ToolError(f"{context.message.name} took longer than {self.seconds:g} s and was stopped") from None
