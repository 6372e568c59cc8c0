"""Leaks: stack traces and server paths in any answer the doctor got, error pages of every status included.

A client never breaks on them, so they are warnings; but a trace tells an attacker the framework,
its versions and the code's layout, and usually means errors reach users unhandled (OWASP: improper
error handling). The TypeScript SDK's Express examples, for one, answer malformed JSON with a 400
HTML page that carries the parser's stack trace.
"""

from __future__ import annotations

import html
import re

from . import advice
from .context import Context
from .probe import Exchange
from .report import Check, Status, passed, problem

TRACES = [
    re.compile(r"Traceback \(most recent call last\)"),  # Python
    re.compile(r'File "[^"\n]+\.py", line \d+'),  # Python frames
    re.compile(r"\bat [\w$.<>\[\] ]+ \((?:/|[A-Za-z]:\\|node:|file://)[^()\n]*:\d+:\d+\)"),  # Node, V8
    re.compile(r"\bat (?:/|file://)[^\s()]+:\d+:\d+"),  # Node, anonymous frames
    re.compile(r"\bat [\w$.]+\([\w$]+\.(?:java|kt):\d+\)"),  # JVM
    re.compile(r"goroutine \d+ \[running\]"),  # Go
    re.compile(r"(?:/[\w.@-]+)+/(?:site-packages|dist-packages|node_modules)/[\w.@/-]+"),  # installed code
]


def trace_in(answer: Exchange) -> str | None:
    """The first line of `answer`'s body that holds a stack frame or an installed code path, or None."""
    text = html.unescape(re.sub(r"<br\s*/?>", "\n", answer.text)).replace("\xa0", " ")
    for pattern in TRACES:
        if match := pattern.search(text):
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            return " ".join(text[start : end if end != -1 else None].split())[:160]
    return None


def checks(ctx: Context) -> list[Check]:
    id, title = "leaks.traces", "no stack traces or server paths in answers"
    found = [(answer, line) for answer in ctx.probe.exchanges if (line := trace_in(answer))]
    if not found:
        return [passed(id, title, f"none in {len(ctx.probe.exchanges)} answers")]
    answer, line = found[0]
    more = f" (and {len(found) - 1} more answers)" if len(found) > 1 else ""
    return [
        problem(
            Status.WARN,
            id,
            title,
            f"{answer.describe()}: {line}{more}",
            "an answer shows the server's stack trace or file paths: clients do not break on it, but it tells "
            "anyone the framework, versions and code layout, and shows that errors reach users unhandled",
            "catch errors at the edge and answer with a short JSON (or JSON-RPC) error; log the trace on the "
            "server only (for Express: an error handler, NODE_ENV=production)",
            [advice.TRANSPORT_SPEC],
        )
    ]
