"""What an operator sees: a request id, one JSON log line per request, Prometheus metrics.

The log line names the request, never its secrets: the path without its query string, the MCP
method and tool, the client id once authenticated, the status and the latency. Query strings,
headers and bodies, where codes, tokens and passwords travel, are never logged.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable, Collection
from contextvars import ContextVar
from typing import Any

from opentelemetry import propagate, trace
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest, multiprocess
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger(f"{__package__}.access")

# A caller's X-Request-Id is kept if it is a plain token; anything else is replaced.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Paths are metric labels: unknown ones are folded together so a scanner cannot grow the series.
KNOWN_PATHS = {
    "/mcp",
    "/healthz",
    "/readyz",
    "/authorize",
    "/token",
    "/register",
    "/revoke",
    "/oauth/login",
    "/oauth/consent",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
}
ERROR = re.compile(r'error="([a-z_]+)"')
# MCP methods are labels too; a method outside the protocol is counted as "other".
MCP_METHODS = {
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
}

# What the layers inside learn about the request being served: MCP method, tool, client id.
current: ContextVar[dict[str, Any] | None] = ContextVar("current_request", default=None)


def note(**fields: Any) -> None:
    """Add fields to the log line and metrics of the request being served."""
    request = current.get()
    if request is not None:
        request.update({k: v for k, v in fields.items() if v is not None})


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers; request fields come from `extra`."""

    FIELDS = ("request_id", "method", "path", "mcp_method", "tool", "client_id", "status", "latency_ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            # Which worker process, when `serve --workers` runs several.
            "pid": record.process,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["error"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    """JSON lines on stderr for this process (each uvicorn worker calls it too)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers go through the root handler; its access log is replaced by ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # The SDK logs every stateless request's end at INFO; the access line already says it.
    logging.getLogger("mcp.server.streamable_http").setLevel(max(root.level, logging.WARNING))


def configure_tracing(service: str) -> trace.Tracer | None:
    """A tracer exporting spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else None.

    The exporter reads the standard OTEL_* variables itself. It needs the project's `otel` extra.
    """
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        message = "OTEL_EXPORTER_OTLP_ENDPOINT is set but the otel extra is not installed: no traces"
        logging.getLogger(__name__).warning(message)
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Global, so fastmcp's own spans (tool calls) join the same traces.
    trace.set_tracer_provider(provider)
    return trace.get_tracer(__name__)


class Metrics:
    """The server's Prometheus metrics, in a registry of its own (one per app).

    Under `serve --workers N` every worker counts into files in PROMETHEUS_MULTIPROC_DIR (set by
    workers.py before they start), and a scrape of any worker reads all of them.
    """

    def __init__(self, open_sessions: Callable[[], int] = lambda: 0) -> None:
        self.open_sessions = open_sessions
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mcp_requests",
            "MCP requests by JSON-RPC method, tool and HTTP status",
            ["method", "tool", "status"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "http_requests", "HTTP requests by path and status", ["path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "Time to answer, by path", ["path"], registry=self.registry
        )
        self.auth_failures = Counter(
            "auth_failures", "Refused credentials by reason", ["reason"], registry=self.registry
        )
        self.sessions = Gauge(
            "mcp_active_sessions", "Open MCP sessions", registry=self.registry, multiprocess_mode="livesum"
        )

    def latest(self) -> bytes:
        """The text a scrape gets."""
        self.sessions.set(self.open_sessions())
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        everyone = CollectorRegistry()
        # prometheus_client leaves its multiprocess functions unannotated.
        multiprocess.MultiProcessCollector(everyone)  # type: ignore[no-untyped-call]
        return generate_latest(everyone)


class Observe:
    """Outermost layer: request id, access log line, metrics, and the /metrics endpoint."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        tools: Collection[str],
        metrics_token: str = "",
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.tools = set(tools)
        self.metrics_token = metrics_token
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/metrics":
            return await self._scrape(scope, receive, send)
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request: dict[str, Any] = {}
        token = current.set(request)
        started = time.perf_counter()
        status = 500
        challenge = ""

        async def sending(message: Message) -> None:
            nonlocal status, challenge
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = Headers(raw=message.get("headers", []))
                challenge = response_headers.get("www-authenticate", "")
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            elif message["type"] == "http.response.body" and "auth_error" not in request:
                request["auth_error"] = _token_error(scope["path"], status, message.get("body", b""))
            await send(message)

        try:
            if self.tracer is None:
                await self.app(scope, receive, sending)
            else:
                # W3C trace context: the caller's traceparent makes this request's span its child.
                parent = propagate.extract(dict(headers.items()))
                name = f"{scope['method']} {scope['path'] if scope['path'] in KNOWN_PATHS else 'other'}"
                kind = trace.SpanKind.SERVER
                with self.tracer.start_as_current_span(name, context=parent, kind=kind) as span:
                    await self.app(scope, receive, sending)
                    span.set_attribute("http.response.status_code", status)
                    for field in ("mcp_method", "tool", "client_id"):
                        if field in request:
                            span.set_attribute(f"mcp.{field}", str(request[field]))
        finally:
            current.reset(token)
            self._record(scope, request_id, request, status, challenge, time.perf_counter() - started)

    def _record(
        self, scope: Scope, request_id: str, request: dict[str, Any], status: int, challenge: str, seconds: float
    ) -> None:
        path = scope["path"]
        label = path if path in KNOWN_PATHS else "other"
        self.metrics.http_requests.labels(label, str(status)).inc()
        self.metrics.latency.labels(label).observe(seconds)
        if "mcp_method" in request:
            method = request["mcp_method"] if request["mcp_method"] in MCP_METHODS else "other"
            tool = request.get("tool", "")
            self.metrics.requests.labels(method, tool if tool in self.tools else tool and "other", str(status)).inc()
        reason = _auth_failure(status, challenge) or request.get("auth_error")
        if reason:
            self.metrics.auth_failures.labels(reason).inc()
        fields = {
            "request_id": request_id,
            "method": scope["method"],
            "path": path,
            "mcp_method": request.get("mcp_method"),
            "tool": request.get("tool"),
            "client_id": request.get("client_id"),
            "status": status,
            "latency_ms": round(seconds * 1000, 2),
        }
        access_log.info(
            "%s %s %s", scope["method"], path, status, extra={k: v for k, v in fields.items() if v is not None}
        )

    async def _scrape(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.metrics_token:
            given = Headers(scope=scope).get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.metrics_token}".encode()):
                refused = JSONResponse(
                    {"error": "METRICS_TOKEN protects /metrics: send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
                return await refused(scope, receive, send)
        response = Response(self.metrics.latest(), media_type=CONTENT_TYPE_LATEST)
        await response(scope, receive, send)


def _auth_failure(status: int, challenge: str) -> str | None:
    """Why a request to a protected endpoint was refused, from its WWW-Authenticate challenge."""
    if status not in (401, 403) or not challenge.lower().startswith("bearer"):
        return None
    found = ERROR.search(challenge)
    return found.group(1) if found else "missing_token"


def _token_error(path: str, status: int, body: bytes) -> str | None:
    """The RFC 6749 error code of a refused token request (invalid_grant, invalid_client, ...)."""
    if path != "/token" or status < 400:
        return None
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    return f"token_{error}" if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,40}", error) else None


class RecordClient:
    """Inside authentication: notes the authenticated client id for the log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        access_token = getattr(scope.get("user"), "access_token", None)
        note(client_id=getattr(access_token, "client_id", None))
        await self.app(scope, receive, send)


def open_sessions(app: Any) -> int:
    """Sessions the transport holds open (none when stateless).

    fastmcp keeps them in the SDK session manager's private table, as its own shutdown code does;
    if that moves, this reads 0 rather than failing a scrape.
    """
    for route in getattr(app, "routes", []):
        if getattr(route, "path", None) == "/mcp":
            endpoint = getattr(route, "endpoint", None)
            transport = getattr(endpoint, "app", endpoint)
            manager = getattr(transport, "session_manager", None)
            return len(getattr(manager, "_server_instances", None) or {})
    return 0
