"""`mcpgen schema`: the JSON Schema of mcpgen.toml, for editor completion."""

from __future__ import annotations

import json

import typer

from mcpgen.spec import Spec


def run() -> None:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    typer.echo(json.dumps(schema, indent=2))
