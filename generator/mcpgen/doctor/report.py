"""The doctor's findings: checks grouped by stage, as text for people and JSON for CI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from enum import StrEnum

from pydantic import BaseModel, Field, computed_field


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


class Check(BaseModel):
    """One observation: what was sent, what came back, and for a problem why it matters and the fix."""

    id: str
    title: str
    status: Status
    detail: str = ""
    cause: str | None = None
    fix: str | None = None
    see: list[str] = Field(default_factory=list)
    snippet: str | None = None
    # For a failure: the selected clients that break here (values of clients.Client).
    breaks: list[str] = Field(default_factory=list)


class Stage(BaseModel):
    name: str
    title: str
    checks: list[Check] = Field(default_factory=list)


class Report(BaseModel):
    url: str
    client: str
    clients: list[str] = Field(default_factory=list)  # the clients whose expectations applied
    notes: list[str] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for check in self.checks():
            counts[check.status.value] += 1
        return counts

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when nothing failed; warnings and skips do not fail a server."""
        return not any(check.status is Status.FAIL for check in self.checks())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdicts(self) -> dict[str, list[str]]:
        """Per client, the checks at which it would break (empty: it would connect)."""
        return {
            client: [check.id for check in self.checks() if check.status is Status.FAIL and client in check.breaks]
            for client in self.clients
        }

    def checks(self) -> Iterable[Check]:
        for stage in self.stages:
            yield from stage.checks

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def check(self, id: str) -> Check:
        for check in self.checks():
            if check.id == id:
                return check
        raise KeyError(id)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def passed(id: str, title: str, detail: str = "") -> Check:
    return Check(id=id, title=title, status=Status.PASS, detail=detail)


def skipped(id: str, title: str, detail: str) -> Check:
    return Check(id=id, title=title, status=Status.SKIP, detail=detail)


def problem(
    status: Status,
    id: str,
    title: str,
    detail: str,
    cause: str,
    fix: str,
    see: Iterable[str] = (),
    snippet: str | None = None,
    breaks: Iterable[str] = (),
) -> Check:
    """A failed or warned check: what was observed, why it breaks clients, and what to change.

    `breaks` names the clients a failure breaks when only some do; `run.attribute` turns the failure
    into a warning when none of them is selected (no `breaks`: every client).
    """
    return Check(
        id=id,
        title=title,
        status=status,
        detail=detail,
        cause=cause,
        fix=fix,
        see=list(see),
        snippet=snippet,
        breaks=list(breaks),
    )


Style = Callable[[str, Status], str]
LABELS = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.WARN: "warn", Status.SKIP: "skip"}


def plain(text: str, status: Status) -> str:
    return text


def render_text(report: Report, style: Style = plain, width: int = 100) -> str:
    """The report as lines: one per check, then cause, fix, references and snippet under problems."""
    lines = [f"mcpgen doctor {report.url}  (client: {report.client})"]
    for note in report.notes:
        lines += textwrap.wrap(note, width, initial_indent="  ", subsequent_indent="    ")
    shown: set[str] = set()
    for stage in report.stages:
        lines += ["", stage.title]
        for check in stage.checks:
            label = style(LABELS[check.status].ljust(4), check.status)
            head = f"  {label}  {check.title}"
            lines.append(f"{head}: {check.detail}" if check.detail else head)
            lines += _explanation(check, width, shown)
    if report.clients:
        lines += ["", "clients"]
        width_name = max(len(client) for client in report.clients)
        for client, failing in report.verdicts.items():
            status = Status.FAIL if failing else Status.PASS
            verdict = f"would break at {', '.join(failing)}" if failing else "would connect (no failures)"
            lines.append(f"  {style(LABELS[status].ljust(4), status)}  {client.ljust(width_name)}  {verdict}")
    counts = report.counts
    summary = ", ".join(f"{counts[s.value]} {s.value}" for s in Status)
    verdict = "no failures" if report.ok else "failures found"
    lines += ["", f"{summary} ({verdict}; {report.requests} requests in {report.seconds:.1f} s)"]
    return "\n".join(lines)


def _explanation(check: Check, width: int, shown: set[str]) -> list[str]:
    """Cause, fix and references of a problem; a snippet already printed above is only pointed at."""
    if check.status not in (Status.FAIL, Status.WARN):
        return []
    lines: list[str] = []
    indent = " " * 8
    for label, text in (("cause", check.cause), ("fix", check.fix)):
        if text:
            lines += textwrap.wrap(
                text, width, initial_indent=f"{indent}{label}: ", subsequent_indent=indent + " " * (len(label) + 2)
            )
    if check.see:
        lines.append(f"{indent}see: {'; '.join(check.see)}")
    if check.snippet in shown:
        lines.append(f"{indent}(example: as above)")
    elif check.snippet:
        shown.add(check.snippet)
        lines += [f"{indent}  | {line}" for line in check.snippet.strip("\n").splitlines()]
    return lines
