"""Per-tool scopes: a tools/call whose token lacks the tool's scopes is a 403 that names them.

RFC 6750 §3.1 `insufficient_scope`, with the scopes to ask for, so the client can get them by a
new authorization (incremental consent, MCP 2025-11-25). It runs after authentication.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..compliance import read_body, replay


class ToolScopes:
    def __init__(self, app: ASGIApp, *, tool_scopes: dict[str, list[str]], resource_metadata_url: str) -> None:
        self.app = app
        self.tool_scopes = {name: scopes for name, scopes in tool_scopes.items() if scopes}
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.tool_scopes:
            return await self.app(scope, receive, send)
        # The compliance layer has already read (and capped) this body once; it is replayed here.
        body = await read_body(receive, limit=sys.maxsize) or b""
        receive = replay(body, receive)
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
