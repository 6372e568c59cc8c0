"""`mcpgen add openapi`: real documents nobody here wrote, bad ones, and a project end to end.

The documents: the petstore of @readme/oas-examples (npm), in its OpenAPI 3.0 and 3.1 editions,
and the /openapi.json a FastAPI service publishes (tests/inventory_api.py). End to end: a project
made from that document, served, and called with the official MCP client; the call reaches the
FastAPI service with the server's own API key and never the caller's. Then the API changes and the
import runs again: `--dry-run` first, then the three-way merge keeps an edited body.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import tomli_w
from fastapi import FastAPI

from mcpgen.openapi import Filters, OpenAPIError, convert, load, parameter_name, tool_name
from mcpgen.spec_update import update
from mcpgen.specfile import load_spec, parse_spec
from mcpgen.vcs import git

from .conftest import mcpgen, npm_package
from .inventory_api import API_KEY, make_app, running
from .serving import serve

OAS_EXAMPLES = ("@readme/oas-examples", "8.2.2")


@pytest.fixture(scope="session")
def oas_examples() -> Path:
    return npm_package(*OAS_EXAMPLES, "oas-examples")


@pytest.mark.parametrize("edition", ["3.0", "3.1"])
def test_the_petstore_of_a_registry_package(oas_examples: Path, edition: str) -> None:
    document = json.loads((oas_examples / edition / "json" / "petstore.json").read_text())
    with pytest.raises(OpenAPIError) as refused:
        convert(document, "petstore.json", Filters())
    # uploadFile's multipart body and updatePetWithForm's form body cannot be JSON tool arguments.
    assert any("/paths/~1pet~1{petId}~1uploadImage/post/requestBody/content" in p for p in refused.value.problems)
    imported = convert(document, "petstore.json", Filters(tags=["pet"]), skip_unsupported=True)
    tools = {tool["name"]: tool for tool in imported.tools}
    assert {"addPet", "updatePet", "findPetsByStatus", "getPetById", "deletePet"} <= set(tools)
    assert len(imported.skipped) == 2
    assert imported.upstream == {
        "base_url": "https://petstore.swagger.io/v2",
        "auth": "api_key",
        "key_in": "header",
        "key_name": "api_key",
    }
    get = tools["getPetById"]
    assert get["operation"] == {
        "method": "GET",
        "path": "/pet/{petId}",
        "id": "getPetById",
        "path_params": {"pet_id": "petId"},
    }
    assert get["params"][0] | {"description": ""} == {"name": "pet_id", "type": "integer", "description": ""}
    assert get["annotations"]["readOnlyHint"] is True and get["returns"] == "object"
    status = tools["findPetsByStatus"]["params"][0]
    assert (status["type"], status["items"], status.get("enum")) == ("array", "string", None) or status[
        "type"
    ] == "array"
    # The Pet schema ($ref) flattened into parameters; `name` and `photoUrls` are required, `id` is not read-only here.
    add = {p["name"]: p for p in tools["addPet"]["params"]}
    assert add["photo_urls"]["type"] == "array" and add["photo_urls"].get("required") is not False
    assert add["status"]["enum"] == ["available", "pending", "sold"] and add["status"]["required"] is False
    assert tools["deletePet"]["annotations"]["destructiveHint"] is True
    assert tools["deletePet"]["operation"]["headers"] == {"api_key": "api_key"}


def test_names_within_mcps_rules() -> None:
    assert parameter_name("petId") == "pet_id"
    assert parameter_name("X-Request-Id") == "x_request_id"
    assert parameter_name("$filter") == "filter"
    assert parameter_name("class") == "class_" and parameter_name("context") == "context_"
    assert tool_name({}, "get", "/users/{id}/repos") == "get_users_id_repos"
    assert tool_name({"operationId": "repos/list for user"}, "get", "/x") == "repos_list_for_user"


def test_a_fastapi_document(inventory_v1: FastAPI) -> None:
    imported = convert(inventory_v1.openapi(), "http://127.0.0.1:1/openapi.json", Filters(tags=["items"]))
    tools = {tool["name"]: tool for tool in imported.tools}
    assert set(tools) == {"get_item", "list_items", "create_item", "delete_item"}
    assert imported.upstream["base_url"] == "http://127.0.0.1:1"  # no servers: where the document came from
    assert imported.upstream["auth"] == "api_key" and imported.upstream["key_name"] == "X-API-Key"
    listing = {p["name"]: p for p in tools["list_items"]["params"]}
    assert listing["limit"] == {
        "name": "limit",
        "type": "integer",
        "description": "Limit",
        "minimum": 1,
        "maximum": 100,
        "default": 10,
    }
    assert listing["color"]["enum"] == ["red", "green", "blue"] and listing["color"]["required"] is False
    create = {p["name"]: p for p in tools["create_item"]["params"]}
    assert (create["name"]["min_length"], create["name"]["max_length"]) == (1, 50)
    assert create["price"]["minimum"] == 0 and create["color"]["default"] == "red"
    assert tools["list_items"]["returns"] == "array" and tools["create_item"]["returns"] == "object"


BAD = [
    ('{"openapi": "3.1.0",\n "paths": {', "bad.json:2: invalid JSON"),
    (json.dumps({"swagger": "2.0", "paths": {}}), "/openapi: OpenAPI 3.0 or 3.1 is supported, this is '2.0'"),
    (
        json.dumps({"openapi": "3.0.3", "paths": {"/a": {"get": {"parameters": [{"name": "s", "in": "cookie"}]}}}}),
        "/paths/~1a/get/parameters/0/in: cookie parameter 's'",
    ),
    (
        json.dumps(
            {"openapi": "3.1.0", "paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/x"}]}}}}
        ),
        "/paths/~1a/get/parameters/0/$ref: '#/components/parameters/x' points at nothing",
    ),
    (
        json.dumps(
            {
                "openapi": "3.1.0",
                "paths": {"/a": {"get": {"operationId": "same"}}, "/b": {"get": {"operationId": "same"}}},
            }
        ),
        "/paths/~1b/get: makes the tool 'same', like /paths/~1a/get",
    ),
]


@pytest.mark.parametrize(("document", "message"), BAD, ids=["json", "swagger2", "cookie", "dangling-ref", "clash"])
def test_a_bad_document_writes_nothing(project: Path, tmp_path: Path, document: str, message: str) -> None:
    source = tmp_path / "bad.json"
    source.write_text(document)
    before = (project / "mcpgen.toml").read_text()
    head = git(project, "rev-parse", "HEAD").stdout
    code, output = mcpgen("add", "openapi", str(source), "--project", str(project), "--base-url", "http://127.0.0.1:1")
    assert code == 2, output
    assert message in output and "Nothing was written." in output
    assert message.startswith("bad.json") or f"bad.json#{message}" in output
    assert (project / "mcpgen.toml").read_text() == before and git(project, "rev-parse", "HEAD").stdout == head
    assert git(project, "status", "--porcelain").stdout == ""


def test_a_clash_with_the_users_own_tool_writes_nothing(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "clash.json"
    source.write_text(json.dumps({"openapi": "3.1.0", "paths": {"/a": {"get": {"operationId": "hello"}}}}))
    code, output = mcpgen("add", "openapi", str(source), "--project", str(project), "--base-url", "http://127.0.0.1:1")
    assert code == 2 and "duplicate tool name 'hello'" in output, output
    assert git(project, "status", "--porcelain").stdout == ""


def test_the_spec_keeps_the_users_lines(inventory_v1: FastAPI) -> None:
    text = '# my server\n[server]\nname = "shop"  # keep me\n\n[[tools]]\nname = "mine"\ndescription = "Mine."\n'
    imported = convert(inventory_v1.openapi(), "http://127.0.0.1:1/openapi.json", Filters(operations=["get_item"]))
    first, changes = update(text, imported.upstream, imported.tools)
    assert first.startswith('# my server\n[server]\nname = "shop"  # keep me\n\n[upstream]\n')
    assert '\n[[tools]]\nname = "mine"\ndescription = "Mine."\n\n[[tools]]\nname = "get_item"' in first
    assert changes.added == ["get_item"]
    edited = first.replace('name = "get_item"', 'name = "get_item"\ntitle = "Get an item"')
    again, changes = update(edited, imported.upstream, imported.tools)
    assert again == edited and changes.changed == []  # the user's title is theirs
    parse_spec(again)


@dataclass
class Inventory:
    url: str
    app: FastAPI


@pytest.fixture(scope="session")
def inventory_v1() -> FastAPI:
    return make_app(1)


@pytest.fixture(scope="session")
def inventory(inventory_v1: FastAPI) -> Iterator[Inventory]:
    with running(inventory_v1) as url:
        yield Inventory(url, inventory_v1)


def new_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh project with static keys and one tool of the user's own, `hello`."""
    root = tmp_path_factory.mktemp("openapi") / "shop"
    code, output = mcpgen("new", str(root), "--yes", "--auth", "static", "--tool", "hello")
    assert code == 0, output
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project nothing is ever imported into (the bad documents' imports all fail)."""
    return new_shop(tmp_path_factory)


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory, inventory: Inventory) -> Path:
    """A project after `mcpgen add openapi` of the FastAPI service's own /openapi.json (tag items)."""
    project = new_shop(tmp_path_factory)
    code, output = mcpgen(
        "add", "openapi", f"{inventory.url}/openapi.json", "--tag", "items", "--project", str(project)
    )
    assert code == 0, output
    assert "Tools that were added in mcpgen.toml: get_item, delete_item, list_items, create_item" in output
    return project


def test_the_generated_project_passes_its_checks(imported: Path) -> None:
    spec = load_spec(imported / "mcpgen.toml")
    assert spec.upstream is not None and spec.upstream.tags == ["items"]
    assert mcpgen("check", str(imported))[0] == 0
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        done = subprocess.run(
            [sys.executable, "-m", *command], cwd=imported, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
    env = {"PYTHONPATH": str(imported)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_tool_get_item.py",
            "tests/test_tool_create_item.py",
        ],
        cwd=imported,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_mcp_client_calls_the_api(imported: Path, inventory: Inventory, tmp_path: Path) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    inventory.app.state.headers.clear()
    with serve(imported, "shop", tmp_path, UPSTREAM_URL=inventory.url, UPSTREAM_API_KEY=API_KEY) as served:
        caller_key = served.dotenv["API_KEYS"]

        async def session() -> tuple[Any, ...]:
            headers = {"Authorization": f"Bearer {caller_key}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(f"{served.url}/mcp", http_client=http)) as client,
            ):
                listed = await client.list_tools()
                found = await client.call_tool("get_item", {"item_id": 1})
                missing = await client.call_tool("get_item", {"item_id": 7})
                created = await client.call_tool("create_item", {"name": "desk", "price": 80, "tags": ["office"]})
                refused = await client.call_tool("list_items", {"limit": 1000})
                return listed, found, missing, created, refused

        listed, found, missing, created, refused = anyio.run(session)
    tools = {tool.name: tool for tool in listed.tools}
    assert {"get_item", "list_items", "create_item", "delete_item", "hello"} <= set(tools)
    assert tools["get_item"].annotations.read_only_hint is True
    assert tools["delete_item"].annotations.destructive_hint is True
    assert tools["list_items"].input_schema["properties"]["limit"]["maximum"] == 100
    assert not found.is_error and found.structured_content["name"] == "lamp"
    assert missing.is_error and missing.content[0].text.endswith("the API answered 404 Not Found: Item 7 not found")
    assert "Traceback" not in missing.content[0].text
    assert not created.is_error and created.structured_content["id"] == 2
    assert refused.is_error  # the spec kept FastAPI's bound: the server refuses before calling the API
    # The API saw the server's own key on the guarded call, and the caller's MCP key never.
    seen = inventory.app.state.headers
    assert any(h.get("x-api-key") == API_KEY for h in seen)
    assert all(caller_key not in json.dumps(h) for h in seen) and seen


def test_the_api_changed_the_import_runs_again(imported: Path, tmp_path: Path) -> None:
    body = imported / "shop" / "tools" / "list_items.py"
    body.write_text(
        body.read_text().replace(
            "    return answer.json_array()", "    # Only the first page.\n    return answer.json_array()"
        )
    )
    git(imported, "commit", "-qam", "Only the first page")
    document = tmp_path / "v2.json"
    document.write_text(json.dumps(make_app(2).openapi()))
    code, output = mcpgen("add", "openapi", str(document), "--project", str(imported), "--dry-run")
    assert code == 0, output
    assert "Tools that would be added in mcpgen.toml: update_item\n" in output  # tag items, as recorded
    assert "Tools that would be changed in mcpgen.toml: list_items" in output
    assert "Tools that would be removed in mcpgen.toml: delete_item" in output
    assert "shop/tools/update_item.py" in output and "shop/tools/delete_item.py" in output
    assert git(imported, "status", "--porcelain").stdout == ""
    code, output = mcpgen("add", "openapi", str(document), "--project", str(imported))
    assert code == 0, output
    text = body.read_text()
    assert "# Only the first page." in text and '"q": q' in text  # the user's line and the API's new parameter
    assert (imported / "shop" / "tools" / "update_item.py").is_file()
    assert not (imported / "shop" / "tools" / "delete_item.py").exists()
    assert re.search(r'\[upstream\]\nbase_url = "http://127\.0\.0\.1:\d+"', (imported / "mcpgen.toml").read_text())
    assert mcpgen("check", str(imported))[0] == 0
    # Again without a source: the recorded document and filters, nothing left to change.
    code, output = mcpgen("add", "openapi", "--project", str(imported), "--dry-run")
    assert code == 0 and "Tools that" not in output and "Up to date" in output, output


UPSTREAM_SPEC = """\
[server]
name = "shop"

[upstream]
base_url = "https://api.example.com"
auth = "client_credentials"

[[tools]]
name = "get_item"
description = "Read one item"
params = [{ name = "item_id", type = "integer" }, { name = "verbose", type = "boolean", required = false }]

[tools.operation]
method = "GET"
path = "/items/{id}"
path_params = { item_id = "item" }
"""


def test_spec_problems_of_an_operation_are_located() -> None:
    from mcpgen.specfile import SpecError

    with pytest.raises(SpecError) as failed:
        parse_spec(UPSTREAM_SPEC)
    problems = [str(p) for p in failed.value.problems]
    assert "mcpgen.toml:6 upstream.auth: auth client_credentials needs token_url, the API's token endpoint" in problems
    assert "mcpgen.toml:13 tools[0].operation: param 'verbose' needs exactly one place in the request" in problems
    assert any("operation.path_params: path_params must name the path's variables ['id']" in p for p in problems)
    fixed = UPSTREAM_SPEC.replace('auth = "client_credentials"', 'auth = "none"').replace('"item"', '"id"')
    parse_spec(
        fixed.replace(
            'path_params = { item_id = "id" }', 'path_params = { item_id = "id" }\nquery = { verbose = "verbose" }'
        )
    )


def test_a_client_credentials_upstream(tmp_path: Path, inventory_v1: FastAPI) -> None:
    """The server as its own OAuth client of the API: the generated tests get a token, then call with it."""
    from mcpgen.render import render

    imported = convert(inventory_v1.openapi(), "http://127.0.0.1:1/openapi.json", Filters(operations=["get_item"]))
    upstream = {"base_url": "https://api.example.com", "auth": "client_credentials", "scopes": ["items:read"]}
    upstream["token_url"] = "https://auth.example.com/oauth/token"
    spec = parse_spec(tomli_w.dumps({"server": {"name": "cc"}, "upstream": upstream, "tools": imported.tools}))
    render(spec, tmp_path)
    tests = ["tests/test_upstream.py", "tests/test_tool_get_item.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0 and "7 passed" in done.stdout, done.stdout + done.stderr


def test_a_yaml_document_and_the_filters(tmp_path: Path, inventory_v1: FastAPI) -> None:
    import yaml

    source = tmp_path / "inventory.yaml"
    source.write_text(yaml.safe_dump(inventory_v1.openapi()))
    document, _ = load(str(source))
    by_path = convert(document, str(source), Filters(paths=["/items/*"]), base_url="https://api.example.com")
    assert sorted(t["name"] for t in by_path.tools) == ["delete_item", "get_item"]
    by_tag = convert(document, str(source), Filters(tags=["ops"]), base_url="https://api.example.com")
    # Only the selected operations' security counts: health needs no key.
    assert [t["name"] for t in by_tag.tools] == ["health"] and "auth" not in by_tag.upstream
