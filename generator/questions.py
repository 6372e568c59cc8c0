"""The questions `mcpgen new` asks, and the spec data the answers (or flags) make.

Every question is also a flag; `--yes` takes the defaults without asking. Answers are
checked by the spec model afterwards, like a spec file, so there is one set of rules.
"""

from __future__ import annotations

import re
from enum import Enum, StrEnum
from typing import Any

import typer

from mcpgen.spec import RESOURCE_SERVER_PROVIDERS


class Transport(StrEnum):
    http = "http"
    stdio = "stdio"
    both = "both"


class AuthChoice(StrEnum):
    none = "none"
    static = "static"
    builtin = "builtin"
    oidc = "oidc"
    auth0 = "auth0"
    workos = "workos"
    descope = "descope"
    keycloak = "keycloak"
    stytch = "stytch"
    google = "google"
    github = "github"
    entra = "entra"
    oidc_proxy = "oidc-proxy"


class StorageChoice(StrEnum):
    sqlite = "sqlite"
    memory = "memory"
    redis = "redis"
    postgres = "postgres"


class ParamType(StrEnum):
    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"


def project_name(directory_name: str) -> str:
    """A valid project name from a directory name: `My Server` -> `my-server`."""
    name = re.sub(r"[^a-z0-9]+", "-", directory_name.lower()).strip("-")
    return name if name and name[0].isalpha() else f"mcp-{name or 'server'}"


def example_tool() -> dict[str, Any]:
    return {
        "name": "hello",
        "description": "Greet someone by name.",
        "annotations": {"readOnlyHint": True},
        "params": [{"name": "name", "type": "string", "description": "Who to greet.", "max_length": 200}],
    }


def ask_for_spec(data: dict[str, Any]) -> dict[str, Any]:
    """Fill `data` (what flags already set) with answers to the questions that are left."""
    server = data.setdefault("server", {})
    server["name"] = typer.prompt("Server name", default=server.get("name"))
    if "description" not in server:
        server["description"] = typer.prompt("What does it do", default=f"The {server['name']} MCP server.")
    if "transport" not in server:
        server["transport"] = _choice("Transport", Transport, Transport.http)
    if "stateless" not in server and server["transport"] != "stdio":
        server["stateless"] = typer.confirm("Stateless (no sessions; any replica serves any request)?", default=False)
    auth = data.setdefault("auth", {})
    if "provider" not in auth and server["transport"] != "stdio":
        auth["provider"] = _choice(
            "Auth provider (none, static bearer keys, builtin OAuth server, an identity provider with DCR,"
            " or an OAuth proxy in front of one without)",
            AuthChoice,
            AuthChoice.none,
        )
    if auth.get("provider") in RESOURCE_SERVER_PROVIDERS and "issuer" not in auth:
        auth["issuer"] = typer.prompt(f"Issuer URL of {auth['provider']} (exactly as its tokens carry it in iss)")
    if auth.get("provider") == "oidc-proxy" and "issuer" not in auth:
        auth["issuer"] = typer.prompt("Issuer URL of the upstream OpenID provider (its discovery document's issuer)")
    if auth.get("provider") == "entra" and "tenant" not in auth:
        auth["tenant"] = typer.prompt("Directory (tenant) ID, the GUID from the Entra admin center")
    storage = data.setdefault("storage", {})
    if "backend" not in storage:
        storage["backend"] = _choice(
            "Storage backend (redis and postgres take STORAGE_URL)", StorageChoice, StorageChoice.sqlite
        )
    if "tools" not in data:
        data["tools"] = _ask_tool()
    return data


def _choice(label: str, enum: type[Enum], default: Enum, offered: list[str] | None = None) -> str:
    offered = offered or [member.value for member in enum]
    while True:
        answer: str = typer.prompt(f"{label} [{'/'.join(offered)}]", default=default.value, show_default=True)
        if answer in offered:
            return answer
        typer.secho(f"Error: {answer!r} is not one of {', '.join(offered)}.", fg="red", err=True)


def _ask_tool() -> list[dict[str, Any]]:
    name = typer.prompt("First tool's name (empty for none)", default="hello", show_default=True).strip()
    if not name:
        return []
    if name == "hello":
        return [example_tool()]
    description = typer.prompt(f"What does {name} do", default=f"The {name} tool.")
    params: list[dict[str, Any]] = []
    while param := typer.prompt(
        f"Parameter {len(params) + 1} of {name} (empty to finish)", default="", show_default=False
    ).strip():
        kind = _choice(f"Type of {param}", ParamType, ParamType.string)
        params.append({"name": param, "type": kind, "description": typer.prompt(f"Describe {param}", default="")})
    return [{"name": name, "description": description, "params": params}]
