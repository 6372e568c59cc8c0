"""HTTP for the doctor: every request bounded in time and size, never raising, every answer kept.

A server under diagnosis may answer anything: a 500, HTML, a stream that never ends, nothing at all.
`Probe.send` turns each of those into an `Exchange` the checks can read, so one bad answer never
stops the diagnosis.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

# More than any metadata document or JSON-RPC answer the doctor asks for.
MAX_BODY = 1_000_000
USER_AGENT = "mcpgen-doctor"


@dataclass
class Exchange:
    """One request and what came back of it (`status` is None when nothing did)."""

    method: str
    url: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    seconds: float = 0.0
    error: str | None = None
    # A streamed answer that sent nothing within the short read timeout it was given.
    hung: bool = False

    def header(self, name: str) -> str:
        return str(self.headers.get(name, ""))

    @property
    def media_type(self) -> str:
        return self.header("content-type").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def message(self) -> dict[str, Any] | None:
        """The JSON-RPC message in the answer, sent as plain JSON or as an SSE event; else None."""
        if self.media_type == "text/event-stream":
            return first_sse_message(self.body)
        parsed = self.json()
        return parsed if isinstance(parsed, dict) else None

    def error_code(self) -> int | None:
        error = (self.message() or {}).get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, int) else None

    def result(self) -> dict[str, Any] | None:
        result = (self.message() or {}).get("result")
        return result if isinstance(result, dict) else None

    def describe(self) -> str:
        """`POST /mcp -> 405` style, for check details."""
        path = urlsplit(self.url).path or "/"
        if self.status is None:
            return f"{self.method} {path} -> {self.error or 'no answer'}"
        return f"{self.method} {path} -> {self.status}"

    def snippet(self, limit: int = 160) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= limit else text[: limit - 3] + "..."


def sse_events(body: bytes) -> list[str]:
    """The data of each complete SSE event in `body`."""
    events: list[str] = []
    data: list[str] = []
    for line in body.decode("utf-8", "replace").splitlines():
        if not line:
            if data:
                events.append("\n".join(data))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return events


def first_sse_message(body: bytes) -> dict[str, Any] | None:
    for event in sse_events(body):
        try:
            parsed = json.loads(event)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _has_response(body: bytes) -> bool:
    """True once an SSE body holds a JSON-RPC response: the server may keep the stream open after it."""
    return any(isinstance(m, dict) and ("result" in m or "error" in m) for m in map(_loads, sse_events(body)))


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class Probe:
    """An httpx client for one diagnosis: bounded requests, the MCP bearer token, a request log."""

    def __init__(self, timeout: float, token: str | None = None) -> None:
        self.timeout = timeout
        self.token = token
        self.exchanges: list[Exchange] = []
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        self._client.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        form: dict[str, str] | None = None,
        bearer: bool = False,
        first_byte_timeout: float | None = None,
    ) -> Exchange:
        """Send one request; never raises. `bearer` adds the --token; `first_byte_timeout` catches hung streams."""
        sent = dict(headers or {})
        if bearer and self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        if json_body is not None:
            content = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        exchange = Exchange(method=method, url=url)
        self.exchanges.append(exchange)
        timeout = httpx.Timeout(self.timeout, read=first_byte_timeout or self.timeout)
        started = time.monotonic()
        try:
            request = self._client.build_request(method, url, headers=sent, content=content, data=form, timeout=timeout)
            # httpx adds Accept: */* by itself; a check that sends no Accept must send none.
            if "Accept" in sent and not sent["Accept"]:
                del request.headers["Accept"]
            response = self._send(request)
        except httpx.TimeoutException:
            exchange.hung = first_byte_timeout is not None
            exchange.error = f"no answer within {first_byte_timeout or self.timeout:g} s"
        except httpx.HTTPError as exc:
            exchange.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            exchange.status = response.status_code
            exchange.headers = response.headers
            try:
                self._read(response, exchange, started, first_byte_timeout is not None)
            finally:
                response.close()
        exchange.seconds = time.monotonic() - started
        return exchange

    def _send(self, request: httpx.Request) -> httpx.Response:
        """Send; once more, on a fresh connection, when a kept-alive one turns out closed by the server (after
        a 500, say): that is the pool's stale connection, not the server's answer."""
        try:
            return self._client.send(request, stream=True)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            return self._client.send(request, stream=True)

    def _read(self, response: httpx.Response, exchange: Exchange, started: float, watch_hang: bool) -> None:
        """Read the body within the overall timeout; stop an SSE answer once it holds a response."""
        streaming = exchange.media_type == "text/event-stream"
        chunks: list[bytes] = []
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                body = b"".join(chunks)
                if len(body) > MAX_BODY:
                    break
                if streaming and watch_hang:
                    break  # something was sent: the stream is alive
                if streaming and _has_response(body):
                    break
                if time.monotonic() - started > self.timeout:
                    exchange.error = f"body not finished within {self.timeout:g} s"
                    break
        except httpx.TimeoutException:
            if watch_hang and not chunks:
                exchange.hung = True
            else:
                exchange.error = f"body not finished within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            exchange.error = f"{type(exc).__name__} while reading the body"
        exchange.body = b"".join(chunks)[:MAX_BODY]
