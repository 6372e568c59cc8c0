"""The spec model and its error messages: one line per problem, with file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mcpgen.specfile import SpecError, load_spec, parse_spec

from .conftest import EXAMPLES

BASE = """\
[server]
name = "notes"

[[tools]]
name = "search_notes"
description = "Find notes."

  [[tools.params]]
  name = "query"
  type = "string"

  [[tools.params]]
  name = "limit"
  type = "integer"
  default = 10
"""


def errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(textwrap.dedent(text))
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_examples_are_valid(example: Path) -> None:
    spec = load_spec(example)
    assert spec.tools


def test_a_minimal_spec_takes_defaults() -> None:
    spec = parse_spec('[server]\nname = "x"\n')
    assert spec.server.transport == "http"
    assert spec.auth.provider == "none"
    assert spec.storage.backend == "sqlite"
    assert spec.server.public_url == "http://127.0.0.1:8000"


def test_wrong_param_type_names_the_line_and_the_param() -> None:
    assert errors(BASE.replace('type = "integer"', 'type = "int"')) == [
        "mcpgen.toml:14 tools[0].params.limit.type: expected one of 'string', 'integer', 'number', "
        "'boolean', 'array' or 'object', got 'int'"
    ]


def test_invalid_toml_names_the_line() -> None:
    (problem,) = errors(BASE + "oops = \n")
    assert problem.startswith("mcpgen.toml:16: invalid TOML:")


def test_duplicate_tool_name_points_at_the_second() -> None:
    text = BASE + '\n[[tools]]\nname = "search_notes"\ndescription = "Again."\n'
    assert errors(text) == ["mcpgen.toml:18 tools[1].name: duplicate tool name 'search_notes' (first at index 0)"]


@pytest.mark.parametrize("name", ["class", "store", "caller", "_private"])
def test_keyword_or_reserved_parameter_names_are_refused(name: str) -> None:
    (problem,) = errors(BASE.replace('name = "query"', f'name = "{name}"'))
    assert problem.startswith(f"mcpgen.toml:9 tools[0].params.{name}.name: ")
    assert "is a Python keyword" in problem or "is reserved by the generated code" in problem


def test_tool_name_outside_the_mcp_rules() -> None:
    (problem,) = errors(BASE.replace('name = "search_notes"', 'name = "search notes"'))
    assert (
        problem
        == "mcpgen.toml:5 tools[0].name: 'search notes' must be 1-128 characters of A-Z a-z 0-9 _ - . (the MCP tool-name rules)"
    )


def test_tool_names_that_collide_as_modules() -> None:
    text = BASE + '\n[[tools]]\nname = "search.notes"\ndescription = "Again."\n'
    (problem,) = errors(text)
    assert (
        problem
        == "mcpgen.toml:18 tools[1].name: 'search.notes' and 'search_notes' make the same module name 'search_notes'"
    )


def test_default_outside_its_enum() -> None:
    text = BASE.replace('type = "integer"\n  default = 10', 'type = "string"\n  enum = ["a", "b"]\n  default = "c"')
    assert errors(text) == [
        "mcpgen.toml:16 tools[0].params.limit.default: default 'c' is not one of the enum values ['a', 'b']"
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("minimum = 20", "default 10 is below minimum 20.0"),
        ("maximum = 5", "default 10 is above maximum 5.0"),
        ('enum = ["x"]', "enum value 'x' is not of type integer"),
        ("max_length = 3", "min_length/max_length only apply to string and array parameters"),
        ("required = true", "a parameter with a default cannot be required"),
    ],
)
def test_parameter_constraints(extra: str, message: str) -> None:
    problems = errors(BASE + f"  {extra}\n")
    assert any(message in p for p in problems), problems


def test_array_needs_items() -> None:
    (problem,) = errors(BASE.replace('type = "string"', 'type = "array"'))
    assert "tools[0].params.query.items: an array parameter needs items" in problem


def test_unknown_provider() -> None:
    (problem,) = errors(BASE + '\n[auth]\nprovider = "okta"\n')
    assert problem.startswith("mcpgen.toml:18 auth.provider: expected one of 'none', 'static', 'builtin'")


def test_entra_needs_one_tenant_by_its_id() -> None:
    tenant = "00000000-0000-4000-8000-000000000000"
    assert parse_spec(BASE + f'\n[auth]\nprovider = "entra"\ntenant = "{tenant}"\n').auth.tenant == tenant
    (problem,) = errors(BASE + '\n[auth]\nprovider = "entra"\n')
    assert problem.startswith("mcpgen.toml:18 auth.provider: provider 'entra' needs [auth] tenant")
    (problem,) = errors(BASE + '\n[auth]\nprovider = "entra"\ntenant = "common"\n')
    assert problem.startswith("mcpgen.toml:19 auth.tenant: tenant 'common' must be the directory (tenant) ID")
    (problem,) = errors(BASE + f'\n[auth]\nprovider = "github"\ntenant = "{tenant}"\n')
    assert problem == "mcpgen.toml:19 auth.tenant: tenant only applies to the provider entra"


def test_unknown_key_lists_the_allowed_ones() -> None:
    (problem,) = errors(BASE.replace('name = "notes"', 'name = "notes"\ntitel = "Notes"'))
    assert problem.startswith("mcpgen.toml:3 server.titel: unknown key; allowed here: name, title, description")


def test_missing_server_name() -> None:
    assert errors('[server]\ntitle = "x"\n') == ["mcpgen.toml:1 server.name: required key is missing"]


def test_every_problem_is_reported_at_once() -> None:
    text = BASE.replace('name = "query"', 'name = "class"').replace("default = 10", 'default = "ten"')
    assert len(errors(text)) == 2


def test_tool_scopes_must_be_declared_in_auth() -> None:
    text = BASE.replace('description = "Find notes."', 'description = "Find notes."\nscopes = ["notes:read"]')
    (problem,) = errors(text + '\n[auth]\nscopes = ["notes:write"]\n')
    assert "tools[0].scopes[0]: scope 'notes:read' is not listed in [auth] scopes" in problem


def test_resource_template_variables_must_be_identifiers() -> None:
    text = BASE + '\n[[resource_templates]]\nuri_template = "notes://{note-id}"\nname = "note"\n'
    (problem,) = errors(text)
    assert problem == "mcpgen.toml:18 resource_templates[0].uri_template: {note-id} must be a Python identifier"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "mcpgen.toml")


def test_storage_url_must_fit_the_backend() -> None:
    (problem,) = errors(BASE + '\n[storage]\nbackend = "redis"\nurl = "postgresql://db/x"\n')
    assert problem == "mcpgen.toml:19 storage.url: a postgresql:// URL does not fit backend 'redis'"


def test_builtin_auth_needs_persistent_storage() -> None:
    (problem,) = errors(BASE + '\n[auth]\nprovider = "builtin"\n\n[storage]\nbackend = "memory"\n')
    assert problem.startswith("mcpgen.toml:21 storage.backend: the built-in authorization server keeps users")


def test_public_url_may_carry_a_path_prefix_but_not_the_endpoint() -> None:
    spec = parse_spec('[server]\nname = "x"\npublic_url = "https://example.com/tools"\n')
    assert spec.server.public_url == "https://example.com/tools"
    assert errors('[server]\nname = "x"\npublic_url = "https://example.com/tools/mcp"\n') == [
        "mcpgen.toml:3 server.public_url: public_url is the base URL (the endpoint is public_url + /mcp): "
        "drop the trailing /mcp"
    ]
    assert errors('[server]\nname = "x"\npublic_url = "https://example.com/tools?x=1"\n')[0].startswith(
        "mcpgen.toml:3 server.public_url: 'https://example.com/tools?x=1' must match"
    )


@pytest.mark.parametrize("provider", ["oidc", "auth0", "workos", "descope", "keycloak", "stytch"])
def test_resource_server_providers_need_an_issuer(provider: str) -> None:
    (problem,) = errors(BASE + f'\n[auth]\nprovider = "{provider}"\n')
    assert problem.startswith(f"mcpgen.toml:18 auth.provider: provider {provider!r} needs [auth] issuer")


def test_resource_server_spec_keeps_issuer_audience_and_jwks_uri() -> None:
    text = '\n[auth]\nprovider = "auth0"\nissuer = "https://t.us.auth0.com/"\naudience = "https://api.example.com"\n'
    auth = parse_spec(BASE + text).auth
    assert (auth.issuer, auth.audience, auth.jwks_uri) == ("https://t.us.auth0.com/", "https://api.example.com", None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('issuer = "http://idp.example.com"', "auth.issuer: issuer 'http://idp.example.com' must use https"),
        ('issuer = "idp.example.com"', "auth.issuer: issuer 'idp.example.com' must be an absolute https URL"),
        ('issuer = "https://idp.example.com?x=1"', "must have no query or fragment (RFC 8414 §2)"),
    ],
)
def test_issuer_must_be_https_or_loopback(line: str, message: str) -> None:
    (problem,) = errors(BASE + f'\n[auth]\nprovider = "oidc"\n{line}\n')
    assert problem.startswith("mcpgen.toml:19 ") and message in problem


def test_loopback_http_issuer_is_accepted() -> None:
    assert parse_spec(BASE + '\n[auth]\nprovider = "oidc"\nissuer = "http://127.0.0.1:9000"\n').auth.issuer


def test_jwks_uri_is_checked_too() -> None:
    text = '\n[auth]\nprovider = "keycloak"\nissuer = "https://kc.example.com/realms/x"\njwks_uri = "ftp://kc/certs"\n'
    (problem,) = errors(BASE + text)
    assert problem == "mcpgen.toml:20 auth.jwks_uri: jwks_uri 'ftp://kc/certs' must be an absolute https URL"


def test_issuer_on_a_provider_without_one_is_an_error() -> None:
    (problem,) = errors(BASE + '\n[auth]\nprovider = "builtin"\nissuer = "https://idp.example.com"\n')
    assert problem.startswith("mcpgen.toml:19 auth.issuer: issuer only applies to the providers oidc, auth0")


def test_the_oidc_proxy_takes_an_issuer_and_a_client_id() -> None:
    text = '\n[auth]\nprovider = "oidc-proxy"\nissuer = "https://accounts.example.com"\nclient_id = "app-1"\n'
    auth = parse_spec(BASE + text).auth
    assert (auth.issuer, auth.client_id) == ("https://accounts.example.com", "app-1")
    (problem,) = errors(BASE + '\n[auth]\nprovider = "oidc-proxy"\n')
    assert problem.startswith("mcpgen.toml:18 auth.provider: provider 'oidc-proxy' needs [auth] issuer")


def test_client_id_only_applies_to_the_proxy() -> None:
    text = '\n[auth]\nprovider = "oidc"\nissuer = "https://idp.example.com"\nclient_id = "app-1"\n'
    (problem,) = errors(BASE + text)
    assert (
        problem
        == "mcpgen.toml:20 auth.client_id: client_id only applies to the providers oidc-proxy, github, google, entra"
    )


@pytest.mark.parametrize("provider", ["github", "google"])
def test_github_and_google_take_a_client_id_and_no_issuer(provider: str) -> None:
    auth = parse_spec(BASE + f'\n[auth]\nprovider = "{provider}"\nclient_id = "app-1"\n').auth
    assert (auth.provider, auth.client_id, auth.issuer) == (provider, "app-1", None)
    (problem,) = errors(BASE + f'\n[auth]\nprovider = "{provider}"\nissuer = "https://idp.example.com"\n')
    assert problem.startswith("mcpgen.toml:19 auth.issuer: issuer only applies to the providers")


def test_the_proxy_takes_no_audience() -> None:
    text = '\n[auth]\nprovider = "oidc-proxy"\nissuer = "https://idp.example.com"\naudience = "x"\n'
    (problem,) = errors(BASE + text)
    assert problem.startswith("mcpgen.toml:20 auth.audience: audience only applies to the providers oidc, auth0")


TOOL = '[[tools]]\nname = "t"\ndescription = "d"\n'


def param(**fields: object) -> str:
    lines = "".join(f"  {key} = {value}\n" for key, value in fields.items())
    return TOOL + "\n  [[tools.params]]\n" + lines


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        ('[server]\nname = "class"\n', "server.name", "Python keyword"),
        ('[server]\nname = "async"\n', "server.name", "Python keyword"),
        ('[server]\nname = "json"\n', "server.name", "would hide the module"),
        ('[server]\nname = "fastmcp"\n', "server.name", "would hide the module"),
        ('[server]\nname = "tests"\n', "server.name", "would hide the module"),
        ('[server]\nname = "x"\ndescription = "a\\u0000b"\n', "server.description", "control characters"),
        ('[server]\nname = "x"\nstateless = "yes"\n', "server.stateless", "valid boolean"),
        ('[server]\nname = "x"\n[deploy]\nport = "9000"\n', "deploy.port", "valid integer"),
        ('[server]\nname = "x"\n' + param(name='"n"', type='"integer"', minimum='"5"'), "minimum", "valid number"),
        ('[server]\nname = "x"\n' + param(name='"n"', type='"integer"', maximum="99.5"), "maximum", "whole number"),
        ('[server]\nname = "x"\n' + param(name='"n"', type='"number"', enum="[1, 2.5]"), "enum", "enums list"),
        ('[server]\nname = "x"\n' + param(name='"n"', type='"number"', default="nan"), "default", "finite"),
        ('[server]\nname = "x"\n' + param(name='"n"', type='"number"', maximum="inf"), "maximum", "finite"),
        (
            '[server]\nname = "x"\n' + param(name='"n"', min_length="5", max_length="2"),
            "min_length",
            "above max_length",
        ),
        ('[server]\nname = "x"\n' + param(name='"n"', enum='["abcdef"]', max_length="2"), "enum", "longer than"),
        (
            '[server]\nname = "x"\n' + param(name='"n"', type='"array"', items='"string"', enum="[[1]]"),
            "enum",
            "applies to",
        ),
        ('[server]\nname = "x"\n[[resources]]\nuri = "x://{a}"\nname = "r"\n', "resources[0].uri", "placeholders"),
        ('[server]\nname = "x"\n[[resources]]\nuri = "x://a"\nname = "class"\n', "resources[0].name", "keyword"),
        ('[server]\nname = "x"\n[[prompts]]\nname = "_p"\n', "prompts[0].name", "starting with _"),
        (
            '[server]\nname = "x"\n[[resource_templates]]\nuri_template = "x://{a}/{a}"\nname = "r"\n',
            "uri_template",
            "appear once",
        ),
        (
            '[server]\nname = "x"\n[[resource_templates]]\nuri_template = "x://{{a}}"\nname = "r"\n',
            "uri_template",
            "single braces",
        ),
        (
            '[server]\nname = "x"\n[[resource_templates]]\nuri_template = "x://{store}"\nname = "r"\n',
            "uri_template",
            "reserved",
        ),
        (
            '[server]\nname = "x"\n[[resources]]\nuri = "x://a"\nname = "r"\n'
            '[[resource_templates]]\nuri_template = "x://a"\nname = "q"\n',
            "uri_template",
            "same URI",
        ),
        (
            '[server]\nname = "x"\n[[prompts]]\nname = "p"\n[[prompts.arguments]]\nname = "store"\n',
            "prompts[0].arguments.store.name",
            "reserved",
        ),
        (
            '[server]\nname = "x"\n' + TOOL.replace('"t"', '"p"') + '[[prompts]]\nname = "p"\n',
            "prompts[0].name",
            "also names",
        ),
        (
            '[server]\nname = "x"\n' + TOOL.replace('"t"', '"r"') + '[[resources]]\nuri = "x://a"\nname = "r"\n',
            "resources[0].name",
            "also names",
        ),
    ],
)
def test_specs_that_would_break_the_project_are_refused_at_the_key(body: str, key: str, message: str) -> None:
    problems = errors(body)
    assert any(key in problem and message in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("1tool", "tool_1tool"),
        ("class", "tool_class"),
        ("__init__", "tool___init__"),
        ("_x", "tool__x"),
        ("notes.search-v2", "notes_search_v2"),
    ],
)
def test_every_tool_name_makes_an_importable_module(name: str, module: str) -> None:
    spec = parse_spec(f'[server]\nname = "x"\n[[tools]]\nname = "{name}"\ndescription = "d"\n')
    assert spec.tools[0].module == module and module.isidentifier()


def test_field_and_cross_field_problems_show_together() -> None:
    text = (
        '[server]\nname = "x"\n[auth]\nprovider = "static"\nscopes = ["read"]\n'
        '[[tools]]\nname = "a"\ndescription = "d"\n  [[tools.params]]\n  name = "n"\n  type = "int"\n'
        '[[tools]]\nname = "b"\ndescription = "d"\nscopes = ["write"]\n'
    )
    problems = errors(text)
    assert len(problems) == 2, problems
    assert problems[0].startswith("mcpgen.toml:11 tools[0].params.n.type: expected one of")
    assert problems[1] == "mcpgen.toml:15 tools[1].scopes[0]: scope 'write' is not listed in [auth] scopes"
