"""The `mcpgen.toml` spec: one pydantic model per section, and the checks that span fields.

The key names are a contract shared with every user's spec file (see `examples/`). Field-level
rules live on the models; rules that relate several fields (unique names, defaults inside their
enum, implemented providers) live in `problems()`, so each one can point at the exact key.
"""

from __future__ import annotations

import keyword
import math
import re
import sys
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# MCP tool names: 1-128 characters of A-Z a-z 0-9 _ - . (spec 2025-11-25, "Tool names").
TOOL_NAME = r"^[A-Za-z0-9_.-]{1,128}$"
PROJECT_NAME = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
GUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"

Transport = Literal["http", "stdio", "both"]
ParamType = Literal["string", "integer", "number", "boolean", "array", "object"]
ItemType = Literal["string", "integer", "number", "boolean", "object"]
ReturnType = Literal["string", "integer", "number", "boolean", "object", "array", "content"]
AuthProvider = Literal[
    "none",
    "static",
    "builtin",
    "oidc",
    "auth0",
    "workos",
    "descope",
    "keycloak",
    "stytch",
    "google",
    "github",
    "entra",
    "oidc-proxy",
]
StorageBackend = Literal["sqlite", "memory", "redis", "postgres"]
DeployTarget = Literal["docker", "compose", "kubernetes", "fly", "render"]

# Identity providers whose access tokens are JWTs the server checks itself (it is only a resource
# server); clients register with the provider directly (DCR), so the server needs no secret.
RESOURCE_SERVER_PROVIDERS: tuple[str, ...] = ("oidc", "auth0", "workos", "descope", "keycloak", "stytch")
# Providers behind the proxy that the server asks who signed in, at their user endpoint with the
# upstream access token: GitHub issues no id_token, and Google's userinfo is all the server needs.
USER_ENDPOINT_PROVIDERS: tuple[str, ...] = ("github", "google")
# Identity providers without DCR: the server runs fastmcp's OAuth proxy in front of one client
# registered at the provider (its secret in .env), and issues its own tokens.
PROXY_PROVIDERS: tuple[str, ...] = ("oidc-proxy", *USER_ENDPOINT_PROVIDERS, "entra")
# Per proxy provider: the prefix of its settings, the name people know it by, and for the
# user-endpoint ones the real endpoints (defaults the settings override), the scopes asked of it
# (only what names the person; it knows nothing of the server's scopes), and the field of its
# user document that ALLOWED_USERS lists.
UPSTREAMS: dict[str, dict[str, Any]] = {
    "oidc-proxy": {"env": "OIDC", "name": "the identity provider"},
    "github": {
        "env": "GITHUB",
        "name": "GitHub",
        "authorize_url": "https://github.com/login/oauth/authorize",
        "token_url": "https://github.com/login/oauth/access_token",
        "user_url": "https://api.github.com/user",
        "scopes": ["read:user"],
        "user_key": "login",
        "docs": "GET /user, https://docs.github.com/en/rest/users/users#get-the-authenticated-user",
        "console": "GitHub → Settings → Developer settings → OAuth Apps → New OAuth App",
    },
    "google": {
        "env": "GOOGLE",
        "name": "Google",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "user_url": "https://openidconnect.googleapis.com/v1/userinfo",
        "scopes": ["openid", "email"],
        "user_key": "email",
        "docs": "its userinfo endpoint, OpenID Connect Core 1.0 §5.3; https://developers.google.com/identity/openid-connect/openid-connect#obtaininguserprofileinformation",
        "console": "Google Cloud console → APIs & Services → Credentials → Create OAuth client ID (Web application)",
    },
    "entra": {
        "env": "ENTRA",
        "name": "Microsoft Entra ID",
        # v2 endpoints of one tenant; {tenant} is ENTRA_TENANT.
        "authority": "https://login.microsoftonline.com",
        "console": "Entra admin center → App registrations → New registration (Web)",
    },
}
# Where the provider sends the browser back to the proxy: the one redirect URI to register there.
PROXY_CALLBACK_PATH = "/auth/callback"

# Names the generated wrapper functions use for their own arguments.
RESERVED_PARAMS = frozenset({"store", "ctx", "context", "caller", "self", "cls"})

Scope = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")]  # RFC 6749 §3.3
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class _Section(BaseModel):
    # Strict: `stateless = "yes"` or `port = "9000"` is a mistake to point at, not a value to guess.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Server(_Section):
    name: Annotated[str, Field(pattern=PROJECT_NAME, max_length=64)]
    title: str = ""
    description: str = ""
    version: Annotated[str, Field(pattern=r"^\d+(\.\d+){0,2}([abc]|rc|\.dev|\.post)?\d*$")] = "0.1.0"
    # Scheme, host and an optional path prefix a proxy serves the server under (never /mcp itself).
    public_url: Annotated[str, Field(pattern=r"^https?://[^/\s?#]+(/[A-Za-z0-9._~-]+)*$")] = "http://127.0.0.1:8000"
    transport: Transport = "http"
    stateless: bool = False
    json_response: bool = True

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")


class Auth(_Section):
    provider: AuthProvider = "none"
    scopes: list[Scope] = []
    # Provider settings; secrets never live here, they are env vars in the generated `.env`.
    issuer: str | None = None
    # The `aud` access tokens must carry; unset means the MCP endpoint, public_url + "/mcp".
    audience: Annotated[str, Field(min_length=1)] | None = None
    # Where the provider publishes its signing keys; unset means discovered from the issuer.
    jwks_uri: str | None = None
    # The OAuth proxy's client at the provider (default for OIDC_CLIENT_ID); its secret is in .env.
    client_id: Annotated[str, Field(min_length=1, pattern=r"^\S+$")] | None = None
    redirect_uris: list[str] = []
    # Microsoft Entra ID: the directory (tenant) ID, a GUID.
    tenant: str | None = None


class Storage(_Section):
    backend: StorageBackend = "sqlite"
    # Default for the STORAGE_URL setting (redis and postgres).
    url: Annotated[str, Field(pattern=r"^(redis|rediss|postgresql|postgres)://\S+$")] | None = None

    @property
    def default_url(self) -> str | None:
        """STORAGE_URL for a new project: the spec's, or the local server's."""
        local = {"redis": "redis://127.0.0.1:6379/0", "postgres": "postgresql://postgres@127.0.0.1:5432/postgres"}
        return self.url or local.get(self.backend)


class Deploy(_Section):
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    # uvicorn worker processes per server (`serve --workers`).
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    # Which deployment files to render; each builds the image from the Dockerfile.
    target: list[DeployTarget] = ["docker", "compose"]
    # Servers behind the proxy (compose) or pods (Kubernetes; the HPA's minimum).
    replicas: Annotated[int, Field(ge=1, le=64)] = 1
    # Fly.io's primary region.
    region: Annotated[str, Field(pattern=r"^[a-z]{3}$")] = "iad"


class Annotations(_Section):
    """MCP tool annotations (hints to the client, never enforced)."""

    readOnlyHint: bool | None = None  # noqa: N815 - the MCP wire names
    destructiveHint: bool | None = None  # noqa: N815
    idempotentHint: bool | None = None  # noqa: N815
    openWorldHint: bool | None = None  # noqa: N815


class Param(_Section):
    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=64)]
    type: ParamType = "string"
    description: str = ""
    required: bool | None = None
    default: Any = None
    items: ItemType | None = None
    enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(ge=0)] | None = None

    @property
    def is_required(self) -> bool:
        """A parameter is required unless it says otherwise or carries a default."""
        if self.required is not None:
            return self.required
        return "default" not in self.model_fields_set


HttpMethod = Literal["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
UpstreamAuth = Literal["none", "api_key", "bearer", "client_credentials"]
# RFC 9110 §9.2.2: these may be repeated without changing more than once, so a failed try may be retried.
IDEMPOTENT_METHODS: tuple[str, ...] = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


class Operation(_Section):
    """The API operation a tool calls (`mcpgen add openapi` writes and updates it).

    Each map takes a parameter's name in `params` to its name in the API (`petId`, `X-Request-Id`).
    """

    method: HttpMethod
    path: Annotated[str, Field(pattern=r"^/\S*$")]
    id: str = ""  # the operationId, when the document gives one
    path_params: dict[str, str] = {}
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    body: dict[str, str] = {}  # properties of a JSON object body
    json_body: Annotated[str, Field(pattern=IDENTIFIER)] | None = None  # the parameter that is the whole JSON body


class Upstream(_Section):
    """The HTTP API the tools wrap, and how the server authenticates to it (never with the caller's token)."""

    base_url: Annotated[str, Field(pattern=r"^https?://[^/\s?#]+(/\S*)?$")]
    auth: UpstreamAuth = "none"
    # api_key: the header (or query parameter) that carries UPSTREAM_API_KEY.
    key_in: Literal["header", "query"] = "header"
    key_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = "X-API-Key"
    # client_credentials (RFC 6749 §4.4): the token endpoint, and the scopes asked for.
    token_url: str | None = None
    scopes: list[Scope] = []
    timeout: Annotated[float, Field(gt=0, le=300)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    # Where the OpenAPI document came from and which operations were taken: `mcpgen add openapi` reads them again.
    openapi: str = ""
    tags: list[str] = []
    operations: list[str] = []
    paths: list[str] = []
    skip_unsupported: bool = False


class Tool(_Section):
    name: Annotated[str, Field(pattern=TOOL_NAME)]
    title: str = ""
    description: Text
    scopes: list[Scope] = []
    returns: ReturnType = "string"
    annotations: Annotations = Annotations()
    params: list[Param] = []
    # The tool's name before a rename: `generate` moves the user's module and test to the new name.
    renamed_from: Annotated[str, Field(pattern=TOOL_NAME)] | None = None
    # The API operation the tool's body calls through [upstream].
    operation: Operation | None = None

    @property
    def module(self) -> str:
        return python_name(self.name)


class Resource(_Section):
    uri: Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")]
    name: Annotated[str, Field(pattern=IDENTIFIER)]
    title: str = ""
    description: str = ""
    mime_type: str = "text/plain"


class ResourceTemplate(_Section):
    uri_template: Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")]
    name: Annotated[str, Field(pattern=IDENTIFIER)]
    title: str = ""
    description: str = ""
    mime_type: str = "text/plain"

    @property
    def variables(self) -> list[str]:
        return re.findall(r"\{([^{}]*)\}", self.uri_template)


class PromptArgument(_Section):
    name: Annotated[str, Field(pattern=IDENTIFIER)]
    description: str = ""
    required: bool = True


class Prompt(_Section):
    name: Annotated[str, Field(pattern=IDENTIFIER)]
    title: str = ""
    description: str = ""
    arguments: list[PromptArgument] = []


class Spec(_Section):
    """A whole `mcpgen.toml`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, title="mcpgen.toml")

    server: Server
    auth: Auth = Auth()
    storage: Storage = Storage()
    deploy: Deploy = Deploy()
    upstream: Upstream | None = None
    tools: list[Tool] = []
    resources: list[Resource] = []
    resource_templates: list[ResourceTemplate] = []
    prompts: list[Prompt] = []


def python_name(name: str) -> str:
    """The module name for an MCP name such as `notes.search-v2`.

    Names that cannot be a module as they are (`1tool`, `class`, `__init__`) get a `tool_` prefix,
    and so do names starting with `_`, which the generated registry keeps for its own.
    """
    module = re.sub(r"[^A-Za-z0-9_]", "_", name).lower()
    if module[0].isdigit() or keyword.iskeyword(module) or module.startswith("_"):
        return f"tool_{module}"
    return module


KeyPath = tuple[str | int, ...]


def problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Rules that relate several fields, each reported at the key to change."""
    found: list[tuple[KeyPath, str]] = []
    found += _provider_problems(spec)
    found += _deploy_problems(spec)
    if spec.server.public_url.endswith("/mcp"):
        message = "public_url is the base URL (the endpoint is public_url + /mcp): drop the trailing /mcp"
        found.append((("server", "public_url"), message))
    found += _unique(spec.tools, "tools", lambda t: t.name, "tool name")
    # One pass (an imported API has a thousand tools); exact duplicates are reported once, above.
    first_of_module: dict[str, Tool] = {}
    for i, tool in enumerate(spec.tools):
        clash = first_of_module.setdefault(tool.module, tool)
        if clash.name != tool.name:
            found.append(
                (("tools", i, "name"), f"{tool.name!r} and {clash.name!r} make the same module name {tool.module!r}")
            )
    modules, renamed = {t.module for t in spec.tools}, dict[str, str]()
    for i, tool in enumerate(spec.tools):
        if tool.renamed_from is None:
            continue
        if python_name(tool.renamed_from) in modules:
            message = f"renamed_from {tool.renamed_from!r} is a tool the spec still has; drop one of them"
            found.append((("tools", i, "renamed_from"), message))
        elif tool.renamed_from in renamed:
            message = f"{renamed[tool.renamed_from]!r} was already renamed from {tool.renamed_from!r}"
            found.append((("tools", i, "renamed_from"), message))
        renamed[tool.renamed_from] = tool.name
    found += _unique(spec.resources, "resources", lambda r: r.name, "resource name")
    found += _unique(spec.resources, "resources", lambda r: r.uri, "resource uri", key="uri")
    found += _unique(spec.resource_templates, "resource_templates", lambda r: r.name, "resource template name")
    resource_names = {r.name for r in spec.resources}
    for i, tpl in enumerate(spec.resource_templates):
        if tpl.name in resource_names:
            found.append(
                (("resource_templates", i, "name"), f"{tpl.name!r} is also a resource name; names share resources/")
            )
    found += _unique(spec.prompts, "prompts", lambda p: p.name, "prompt name")
    for i, tool in enumerate(spec.tools):
        found += _unique(tool.params, ("tools", i, "params"), lambda p: p.name, "parameter name")
        for j, param in enumerate(tool.params):
            found += [(("tools", i, "params", j, *loc), msg) for loc, msg in _param_problems(param)]
        for j, scope in enumerate(tool.scopes):
            if spec.auth.scopes and scope not in spec.auth.scopes:
                found.append((("tools", i, "scopes", j), f"scope {scope!r} is not listed in [auth] scopes"))
    found += _resource_problems(spec)
    for i, prompt in enumerate(spec.prompts):
        found += _unique(prompt.arguments, ("prompts", i, "arguments"), lambda a: a.name, "argument name")
        for j, arg in enumerate(prompt.arguments):
            if problem := reserved_problem(arg.name):
                found.append((("prompts", i, "arguments", j, "name"), problem))
    found += _name_problems(spec)
    found += _upstream_problems(spec)
    if spec.storage.url is not None:
        scheme = spec.storage.url.split("://", 1)[0]
        wanted = {"redis": ("redis", "rediss"), "postgres": ("postgresql", "postgres")}.get(spec.storage.backend, ())
        if scheme not in wanted:
            found.append((("storage", "url"), f"a {scheme}:// URL does not fit backend {spec.storage.backend!r}"))
    if spec.auth.provider == "builtin" and spec.storage.backend == "memory":
        message = "the built-in authorization server keeps users and tokens in storage; memory loses them (and `users add` runs in its own process): use sqlite, redis or postgres"
        found.append((("storage", "backend"), message))
    if spec.server.transport == "stdio" and spec.auth.provider != "none":
        found.append((("auth", "provider"), 'a stdio-only server has no HTTP to authenticate; use provider = "none"'))
    return found


def reserved_problem(name: str) -> str | None:
    """Why `name` cannot be a parameter of a generated function, or None."""
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword"
    if name in RESERVED_PARAMS or name.startswith("_"):
        return f"{name!r} is reserved by the generated code (store, ctx, context, caller, self, cls and names starting with _)"
    return None


def _resource_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    found: list[tuple[KeyPath, str]] = []
    for i, resource in enumerate(spec.resources):
        if "{" in resource.uri or "}" in resource.uri:
            message = "a fixed resource's uri has no {placeholders}; declare it under [[resource_templates]]"
            found.append((("resources", i, "uri"), message))
    uris = {r.uri: i for i, r in enumerate(spec.resources)}
    for i, tpl in enumerate(spec.resource_templates):
        where = ("resource_templates", i, "uri_template")
        if tpl.uri_template in uris:
            found.append((where, f"the same URI as resources[{uris[tpl.uri_template]}]; keep one of them"))
        if "{{" in tpl.uri_template or "}}" in tpl.uri_template or not tpl.variables:
            found.append((where, "a template names each variable once in single braces, e.g. notes://{id}"))
        for var in tpl.variables:
            if not re.fullmatch(IDENTIFIER, var):
                found.append((where, f"{{{var}}} must be a Python identifier"))
            elif problem := reserved_problem(var):
                found.append((where, f"{{{var}}}: {problem}"))
        if len(set(tpl.variables)) != len(tpl.variables):
            found.append((where, "each {variable} may appear once"))
    return found


# Modules a generated project imports: a package of the same name would shadow them.
SHADOWED_MODULES = frozenset(
    {"mcp", "fastmcp", "pydantic", "pydantic_settings", "starlette", "uvicorn", "httpx", "httpx2", "anyio"}
    | {"key_value", "jwt", "argon2", "cryptography", "prometheus_client", "opentelemetry", "typer", "tests"}
)


def _name_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Names that would break the generated package: its own, and tools, resources and prompts sharing one."""
    found: list[tuple[KeyPath, str]] = []
    package = spec.server.package
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        found.append((("server", "name"), f"{spec.server.name!r} is a Python keyword and cannot name the package"))
    elif package in SHADOWED_MODULES or package in sys.stdlib_module_names:
        message = (
            f"a package named {package!r} would hide the module of that name the server imports; pick another name"
        )
        found.append((("server", "name"), message))
    for key in ("title", "description"):
        if _CONTROL.search(getattr(spec.server, key)):
            found.append((("server", key), "control characters (other than newline and tab) are not allowed"))
    owners: dict[str, str] = {}
    for section, names in (
        ("tools", [t.name for t in spec.tools]),
        ("resources", [r.name for r in spec.resources]),
        ("resource_templates", [r.name for r in spec.resource_templates]),
        ("prompts", [p.name for p in spec.prompts]),
    ):
        for i, name in enumerate(names):
            if section != "tools" and (keyword.iskeyword(name) or name.startswith("_")):
                message = f"{name!r} cannot name a module here: a Python keyword, or a name starting with _ (the generated code's)"
                found.append(((section, i, "name"), message))
            if name in owners and owners[name] != section:
                message = f"{name!r} also names one of the {owners[name]}; give each its own name"
                found.append(((section, i, "name"), message))
            owners.setdefault(name, section)
    return found


def _upstream_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """[upstream] settings that fit together, and operations whose every parameter has one place in the request."""
    found: list[tuple[KeyPath, str]] = []
    upstream = spec.upstream
    if upstream is not None:
        if upstream.auth == "client_credentials" and upstream.token_url is None:
            found.append((("upstream", "auth"), "auth client_credentials needs token_url, the API's token endpoint"))
        if upstream.token_url is not None and upstream.auth != "client_credentials":
            found.append((("upstream", "token_url"), "token_url only applies to auth = client_credentials"))
        if upstream.token_url is not None and (problem := url_problem(upstream.token_url)):
            found.append((("upstream", "token_url"), f"token_url {problem}"))
    for i, tool in enumerate(spec.tools):
        operation = tool.operation
        if operation is None:
            continue
        if upstream is None:
            found.append((("tools", i, "operation"), "a tool with an operation needs an [upstream] section"))
        names = [p.name for p in tool.params]
        placed = [*operation.path_params, *operation.query, *operation.headers, *operation.body]
        placed += [operation.json_body] if operation.json_body else []
        for name in placed:
            if name not in names:
                found.append((("tools", i, "operation"), f"{name!r} is not one of the tool's params"))
        for name in names:
            if placed.count(name) != 1:
                found.append((("tools", i, "operation"), f"param {name!r} needs exactly one place in the request"))
        if operation.body and operation.json_body:
            found.append((("tools", i, "operation", "json_body"), "json_body and body fields exclude each other"))
        in_path = set(re.findall(r"\{([^{}]+)\}", operation.path))
        if in_path != set(operation.path_params.values()):
            message = f"path_params must name the path's variables {sorted(in_path)}"
            found.append((("tools", i, "operation", "path_params"), message))
    return found


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _deploy_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Scale-out needs every process to see the same state: a shared store and no in-process sessions."""
    found: list[tuple[KeyPath, str]] = []
    deploy = spec.deploy
    for key, count in (("workers", deploy.workers), ("replicas", deploy.replicas)):
        if count == 1:
            continue
        # (A memory store is per process too; fine for read-only servers, so it is allowed.)
        if not spec.server.stateless:
            message = f"{key} = {count} needs [server] stateless = true: sessions live in one process"
            found.append((("deploy", key), message))
    if deploy.replicas > 1 and spec.storage.backend == "sqlite" and "kubernetes" in deploy.target:
        message = "replicas > 1 on Kubernetes needs redis or postgres: pods do not share a SQLite volume"
        found.append((("deploy", "replicas"), message))
    if spec.server.transport == "stdio" and "target" in deploy.model_fields_set and deploy.target:
        message = "a stdio server is not deployed as a service: remove target, or use transport http or both"
        found.append((("deploy", "target"), message))
    if len(set(deploy.target)) != len(deploy.target):
        found.append((("deploy", "target"), "each target once"))
    return found


def _provider_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    found: list[tuple[KeyPath, str]] = []
    auth = spec.auth
    if auth.provider in (*RESOURCE_SERVER_PROVIDERS, "oidc-proxy"):
        if auth.issuer is None:
            found.append(
                (
                    ("auth", "provider"),
                    f"provider {auth.provider!r} needs [auth] issuer, the provider's issuer URL "
                    f"(e.g. {_ISSUER_EXAMPLES[auth.provider]!r})",
                )
            )
        elif problem := url_problem(auth.issuer):
            found.append((("auth", "issuer"), f"issuer {problem}"))
    if auth.provider in RESOURCE_SERVER_PROVIDERS:
        if auth.jwks_uri is not None and (problem := url_problem(auth.jwks_uri)):
            found.append((("auth", "jwks_uri"), f"jwks_uri {problem}"))
    else:
        for key in ("audience", "jwks_uri"):
            if getattr(auth, key) is not None:
                found.append(
                    ((("auth", key)), f"{key} only applies to the providers {', '.join(RESOURCE_SERVER_PROVIDERS)}")
                )
    if auth.issuer is not None and auth.provider not in (*RESOURCE_SERVER_PROVIDERS, "oidc-proxy"):
        providers = ", ".join((*RESOURCE_SERVER_PROVIDERS, "oidc-proxy"))
        found.append((("auth", "issuer"), f"issuer only applies to the providers {providers}"))
    if auth.provider == "entra" and auth.tenant is None:
        message = "provider 'entra' needs [auth] tenant, the directory (tenant) ID from the Entra admin center"
        found.append((("auth", "provider"), message))
    elif auth.tenant is not None and auth.provider != "entra":
        found.append((("auth", "tenant"), "tenant only applies to the provider entra"))
    elif auth.tenant is not None and not re.fullmatch(GUID, auth.tenant):
        # Tokens name their tenant's ID in `iss`; a domain, "common" or "organizations" could not be checked.
        message = f"tenant {auth.tenant!r} must be the directory (tenant) ID, a GUID from the Entra admin center"
        found.append((("auth", "tenant"), message))
    if auth.client_id is not None and auth.provider not in PROXY_PROVIDERS:
        found.append((("auth", "client_id"), f"client_id only applies to the providers {', '.join(PROXY_PROVIDERS)}"))
    return found


_ISSUER_EXAMPLES = {
    "oidc": "https://idp.example.com",
    "auth0": "https://example.us.auth0.com/",
    "workos": "https://example.authkit.app",
    "descope": "https://api.descope.com/v1/apps/P2abc",
    "keycloak": "https://keycloak.example.com/realms/example",
    "stytch": "https://example.customers.stytch.com",
    "oidc-proxy": "https://accounts.example.com",
}


def url_problem(url: str) -> str | None:
    """Why `url` cannot identify a provider: tokens and keys travel over https (loopback http for tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} must be an absolute https URL"
    if parts.query or parts.fragment:
        return f"{url!r} must have no query or fragment (RFC 8414 §2)"
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "http" and not loopback:
        return f"{url!r} must use https (plain http only on localhost)"
    return None


def _unique(
    items: list[Any], where: str | KeyPath, name_of: Any, what: str, key: str = "name"
) -> list[tuple[KeyPath, str]]:
    prefix = (where,) if isinstance(where, str) else where
    seen: dict[str, int] = {}
    found: list[tuple[KeyPath, str]] = []
    for i, item in enumerate(items):
        name = name_of(item)
        if name in seen:
            found.append(((*prefix, i, key), f"duplicate {what} {name!r} (first at index {seen[name]})"))
        else:
            seen[name] = i
    return found


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def matches_type(value: Any, type_name: str) -> bool:
    if type_name != "boolean" and isinstance(value, bool):
        return False
    return isinstance(value, _PY_TYPES[type_name])


def _param_problems(param: Param) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    if problem := reserved_problem(param.name):
        found.append((("name",), problem))
    for key in ("minimum", "maximum"):
        bound = getattr(param, key)
        if bound is not None and not math.isfinite(bound):
            found.append(((key,), f"{key} must be a finite number"))
        elif bound is not None and param.type == "integer" and not float(bound).is_integer():
            found.append(((key,), f"{key} of an integer parameter must be a whole number, got {bound}"))
    if param.min_length is not None and param.max_length is not None and param.min_length > param.max_length:
        found.append((("min_length",), f"min_length {param.min_length} is above max_length {param.max_length}"))
    if isinstance(param.default, float) and not math.isfinite(param.default):
        found.append((("default",), "default must be a finite number"))
    if param.type == "array" and param.items is None:
        found.append((("items",), "an array parameter needs items = string | integer | number | boolean | object"))
    if param.type != "array" and param.items is not None:
        found.append((("items",), 'items only applies to type = "array"'))
    numeric = param.type in ("integer", "number")
    if not numeric and (param.minimum is not None or param.maximum is not None):
        found.append((("minimum",), "minimum/maximum only apply to integer and number parameters"))
    if param.type not in ("string", "array") and (param.min_length is not None or param.max_length is not None):
        found.append((("max_length",), "min_length/max_length only apply to string and array parameters"))
    if param.minimum is not None and param.maximum is not None and param.minimum > param.maximum:
        found.append((("minimum",), f"minimum {param.minimum} is above maximum {param.maximum}"))
    if param.enum is not None:
        if not param.enum:
            found.append((("enum",), "enum must list at least one value"))
        if param.type in ("array", "object"):
            found.append((("enum",), "enum applies to string, integer, number and boolean parameters"))
        for value in param.enum if param.type not in ("array", "object") else []:
            if not matches_type(value, param.type):
                found.append((("enum",), f"enum value {value!r} is not of type {param.type}"))
            elif isinstance(value, float):
                # Python's Literal holds no floats; an enum of numbers is a list of whole numbers.
                found.append((("enum",), f"enum value {value!r}: enums list strings, integers or booleans"))
            elif problem := _bound_problem(param, value):
                found.append((("enum",), f"enum value {value!r} {problem}"))
    if "default" in param.model_fields_set:
        found += [(("default",), msg) for msg in _default_problems(param)]
        if param.required:
            found.append((("required",), "a parameter with a default cannot be required"))
    return found


def _default_problems(param: Param) -> list[str]:
    value = param.default
    if not matches_type(value, param.type):
        return [f"default {value!r} is not of type {param.type}"]
    items = param.items
    bad = [v for v in value if not matches_type(v, items)] if items and isinstance(value, list) else []
    if bad:
        return [f"default items {bad!r} are not of type {items}"]
    if param.enum is not None and value not in param.enum:
        return [f"default {value!r} is not one of the enum values {param.enum!r}"]
    problem = _bound_problem(param, value)
    return [f"default {value!r} {problem}"] if problem else []


def _bound_problem(param: Param, value: Any) -> str | None:
    """How `value` breaks the parameter's minimum, maximum or lengths, or None."""
    if param.minimum is not None and isinstance(value, int | float) and value < param.minimum:
        return f"is below minimum {param.minimum}"
    if param.maximum is not None and isinstance(value, int | float) and value > param.maximum:
        return f"is above maximum {param.maximum}"
    size = len(value) if isinstance(value, str | list) else None
    if size is not None and param.max_length is not None and size > param.max_length:
        return f"is longer than max_length {param.max_length}"
    if size is not None and param.min_length is not None and size < param.min_length:
        return f"is shorter than min_length {param.min_length}"
    return None
