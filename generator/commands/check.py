"""`mcpgen check`: is the project's spec valid?"""

from __future__ import annotations

from pathlib import Path

import typer

from mcpgen.specfile import SPEC_FILE, load_spec


def run(project: Path) -> None:
    spec = load_spec(project / SPEC_FILE)
    parts = [
        f"{len(spec.tools)} tools",
        f"{len(spec.resources) + len(spec.resource_templates)} resources",
        f"{len(spec.prompts)} prompts",
    ]
    typer.echo(
        f"{project / SPEC_FILE}: valid ({', '.join(parts)}; auth {spec.auth.provider}, storage {spec.storage.backend})."
    )
