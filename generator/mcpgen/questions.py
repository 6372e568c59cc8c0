"""The questions `mcpgen new` asks, and the spec data the answers (or flags) make.

Every question is also a flag; `--yes` takes the defaults without asking. Each answer is checked
as it is given, by the same rules the spec model applies to a spec file, and asked again until it
passes; the whole spec is checked once more at the end (rules that relate several answers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Any

import typer

from mcpgen.spec import (
    GUID,
    IDENTIFIER,
    PROJECT_NAME,
    RESOURCE_SERVER_PROVIDERS,
    TOOL_NAME,
    reserved_problem,
    url_problem,
)
from mcpgen.specfile import pattern_words

# What each question fills in, for messages about the answers as a whole.
QUESTIONS = {
    "server.name": "Server name",
    "server.description": "What does it do",
    "server.transport": "Transport",
    "server.stateless": "Stateless",
    "auth.provider": "Auth provider",
    "auth.issuer": "Issuer URL",
    "auth.tenant": "Directory (tenant) ID",
    "storage.backend": "Storage backend",
}


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
    server["name"] = _ask(
        "Server name (lowercase letters and digits, words joined by dashes)", _matches(PROJECT_NAME), server.get("name")
    )
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
        label = f"Issuer URL of {auth['provider']} (exactly as its tokens carry it in iss)"
        auth["issuer"] = _ask(label, url_problem)
    if auth.get("provider") == "oidc-proxy" and "issuer" not in auth:
        label = "Issuer URL of the upstream OpenID provider (its discovery document's issuer)"
        auth["issuer"] = _ask(label, url_problem)
    if auth.get("provider") == "entra" and "tenant" not in auth:
        auth["tenant"] = _ask("Directory (tenant) ID, the GUID from the Entra admin center", _matches(f"^{GUID}$"))
    storage = data.setdefault("storage", {})
    if "backend" not in storage:
        storage["backend"] = _choice(
            "Storage backend (redis and postgres take STORAGE_URL)", StorageChoice, StorageChoice.sqlite
        )
    if "tools" not in data:
        data["tools"] = _ask_tool()
    return data


Check = Callable[[str], "str | None"]


def _ask(label: str, check: Check, default: str | None = None) -> str:
    """Ask until the answer passes `check`, which says what is wrong with it (None: nothing)."""
    while True:
        answer = str(typer.prompt(label, default=default)).strip()
        problem = check(answer)
        if problem is None:
            return answer
        typer.secho(f"Error: {problem}", fg="red", err=True)


def _matches(pattern: str) -> Check:
    return lambda answer: None if re.fullmatch(pattern, answer) else f"{answer!r} {pattern_words(pattern)}"


def _parameter_problem(answer: str) -> str | None:
    return _matches(IDENTIFIER)(answer) if not re.fullmatch(IDENTIFIER, answer) else reserved_problem(answer)


def _choice(label: str, enum: type[Enum], default: Enum, offered: list[str] | None = None) -> str:
    choices = offered or [member.value for member in enum]
    return _ask(
        f"{label} [{'/'.join(choices)}]",
        lambda answer: None if answer in choices else f"{answer!r} is not one of {', '.join(choices)}.",
        default.value,
    )


def _ask_tool() -> list[dict[str, Any]]:
    name = _ask(
        "First tool's name (empty for none; hello adds an example)",
        lambda answer: None if not answer else _matches(TOOL_NAME)(answer),
        "",
    )
    if not name:
        return []
    if name == "hello":
        return [example_tool()]
    description = typer.prompt(f"What does {name} do", default=f"The {name} tool.")
    params: list[dict[str, Any]] = []
    while param := _ask(
        f"Parameter {len(params) + 1} of {name} (a Python identifier; empty to finish)",
        lambda answer: None if not answer else _parameter_problem(answer),
        "",
    ):
        kind = _choice(f"Type of {param}", ParamType, ParamType.string)
        params.append({"name": param, "type": kind, "description": typer.prompt(f"Describe {param}", default="")})
    return [{"name": name, "description": description, "params": params}]
