"""Per-tool scopes: a tools/call whose token lacks the tool's scopes is a 403 that names them.

RFC 6750 §3.1 `insufficient_scope`, with the scopes to ask for, so the client can get them by a
new authorization (incremental consent, MCP 2025-11-25). It runs after authentication.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ToolScopes:
    def __init__(self, app: ASGIApp, *, tool_scopes: dict[str, list[str]], resource_metadata_url: str) -> None:
        self.app = app
        self.tool_scopes = {name: scopes for name, scopes in tool_scopes.items() if scopes}
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.tool_scopes:
            return await self.app(scope, receive, send)
        body, receive = await _read(receive)
        needed = self._needed(body, scope.get("user"))
        if not needed:
            return await self.app(scope, receive, send)
        challenge = (
            f'Bearer error="insufficient_scope", scope="{" ".join(needed)}", '
            f'resource_metadata="{self.resource_metadata_url}"'
        )
        error = {"code": -32000, "message": f"this tool needs the scopes {' '.join(needed)}"}
        response = JSONResponse(
            {"jsonrpc": "2.0", "id": _id(body), "error": error},
            status_code=403,
            headers={"WWW-Authenticate": challenge},
        )
        await response(scope, receive, send)

    def _needed(self, body: bytes, user: Any) -> list[str]:
        try:
            message = json.loads(body)
        except ValueError:
            return []
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            return []
        name = (message.get("params") or {}).get("name")
        required = self.tool_scopes.get(name, []) if isinstance(name, str) else []
        granted = set(getattr(user, "scopes", []) or [])
        return required if not set(required) <= granted else []


def _id(body: bytes) -> Any:
    try:
        return json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None


async def _read(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it on (the compliance layer has capped its size)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
