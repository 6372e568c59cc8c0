"""What the template sees: the spec as JSON plus the Python source fragments derived from it.

Everything that needs Python knowledge (type annotations, literals, sample arguments for the
generated tests) is computed here, where it is unit-tested, so the Jinja files stay plain.
The result is JSON-clean: no dates, enums or shared objects reach copier.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from mcpgen import __version__, install_source
from mcpgen.spec import (
    PROXY_CALLBACK_PATH,
    PROXY_PROVIDERS,
    RESOURCE_SERVER_PROVIDERS,
    UPSTREAMS,
    USER_ENDPOINT_PROVIDERS,
    Param,
    Prompt,
    Resource,
    ResourceTemplate,
    Spec,
    Tool,
)

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_RETURNS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "object": "dict[str, Any]",
    "array": "list[Any]",
    "content": "list[TextContent]",
}
# What the registry's wrapper declares: wider than the user module's first signature, so any
# correct body fits (calls.ToolContent, a Sequence: a body's list[ImageContent] is one too).
_WRAPPER_RETURNS = {**_RETURNS, "content": "_ToolContent"}


def py_literal(value: Any) -> str:
    """A Python literal for a JSON value, double-quoted as ruff format writes it."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def docstring_text(text: str) -> str:
    """`text` as it can stand inside a triple-quoted docstring: backslashes and quotes escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def base_annotation(param: Param) -> str:
    if param.enum is not None:
        return "Literal[" + ", ".join(py_literal(v) for v in param.enum) + "]"
    if param.type == "array":
        item = "dict[str, Any]" if param.items == "object" else _SCALARS.get(param.items or "string", "str")
        return f"list[{item}]"
    if param.type == "object":
        return "dict[str, Any]"
    return _SCALARS[param.type]


def _param_view(param: Param) -> dict[str, Any]:
    annotation = base_annotation(param)
    has_default = "default" in param.model_fields_set
    optional = not param.is_required and not has_default
    if optional:
        annotation = f"{annotation} | None"
    field: list[str] = []
    if param.description:
        field.append(f"description={py_literal(param.description)}")
    for key in ("minimum", "maximum"):
        value = getattr(param, key)
        if value is not None:
            bound = int(value) if param.type == "integer" and float(value).is_integer() else value
            field.append(f"{'ge' if key == 'minimum' else 'le'}={py_literal(bound)}")
    for key in ("min_length", "max_length"):
        value = getattr(param, key)
        if value is not None:
            field.append(f"{key}={value}")
    # Mutable defaults go into Field so the wrapper's signature stays free of shared lists.
    mutable_default = has_default and isinstance(param.default, list | dict)
    if mutable_default:
        field.insert(0, f"default={py_literal(param.default)}")
    if has_default and not mutable_default:
        default: str | None = py_literal(param.default)
    else:
        default = "None" if optional else None
    return {
        "name": param.name,
        "annotation": annotation,
        "wrapped": f"Annotated[{annotation}, Field({', '.join(field)})]" if field else annotation,
        "default": default,
        "sample": py_literal(sample_value(param)),
        "bad_sample": py_literal(bad_value(param)),
    }


def sample_value(param: Param) -> Any:
    """A valid argument for `param`, used by the generated tests."""
    if "default" in param.model_fields_set:
        return param.default
    if param.enum:
        return param.enum[0]
    if param.type == "string":
        text = "example"
        if param.max_length is not None:
            text = text[: param.max_length]
        if param.min_length is not None and len(text) < param.min_length:
            text = text + "x" * (param.min_length - len(text))
        return text
    if param.type in ("integer", "number"):
        low = param.minimum if param.minimum is not None else None
        high = param.maximum if param.maximum is not None else None
        value: float = low if low is not None else (min(1, high) if high is not None else 1)
        if param.type == "integer":
            return int(value) if float(value).is_integer() else int(value) + 1
        return float(value)
    if param.type == "boolean":
        return True
    if param.type == "array":
        size = param.min_length or 0
        item = {"string": "item", "integer": 1, "number": 1.0, "boolean": True, "object": {}}[param.items or "string"]
        return [item] * size
    return {}


def bad_value(param: Param) -> Any:
    """An argument of the wrong JSON type, which the server must reject as a tool error."""
    return {"string": 12345, "integer": "not a number", "number": "not a number", "boolean": "maybe"}.get(
        param.type, 12345
    )


def _tool_view(tool: Tool) -> dict[str, Any]:
    params = sorted(tool.params, key=lambda p: not p.is_required)
    hints = tool.annotations.model_dump(exclude_none=True)
    views = [_param_view(p) for p in params]
    code = " ".join([v["annotation"] for v in views] + [_RETURNS[tool.returns]])
    return {
        "name": tool.name,
        "module": tool.module,
        "title": tool.title,
        "description": tool.description,
        "returns": tool.returns,
        "return_annotation": _RETURNS[tool.returns],
        "wrapper_return": _WRAPPER_RETURNS[tool.returns],
        "scopes": list(tool.scopes),
        # mcp 2.x spells the hints in snake case in Python (camelCase on the wire).
        "annotations": ", ".join(f"{_snake(k)}={py_literal(v)}" for k, v in hints.items()),
        "hints": hints,
        "params": views,
        "required": [p.name for p in tool.params if p.is_required],
        # What the user's module imports for its signature.
        "typing": _names_used(code, ("Any", "Literal")),
        "operation": _operation_view(tool, views),
    }


# How an upstream body turns the API's answer into the tool's return type (upstream.Answer).
_ANSWERS = {"object": "json_object", "array": "json_array", "string": "text"}


def _operation_view(tool: Tool, views: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The call an upstream body makes, as code: `path={"petId": pet_id}` and so on; None without an operation."""
    operation = tool.operation
    if operation is None or tool.returns not in _ANSWERS:
        return None
    samples = {view["name"]: view["sample"] for view in views}
    arguments = [
        f"{keyword}={{" + ", ".join(f"{py_literal(wire)}: {name}" for name, wire in mapping.items()) + "}"
        for keyword, mapping in (
            ("path", operation.path_params),
            ("query", operation.query),
            ("headers", operation.headers),
            ("json", operation.body),
        )
        if mapping
    ]
    if operation.json_body:
        arguments.append(f"json={operation.json_body}")
    # The path the generated test expects for the sample arguments (what upstream.call sends).
    expected = operation.path
    for name, wire in operation.path_params.items():
        value = json.loads(samples[name]) if samples[name] not in ("True", "False") else samples[name] == "True"
        expected = expected.replace(f"{{{wire}}}", _path_text(value))
    return {
        "method": operation.method,
        "path": operation.path,
        "arguments": arguments,
        "answer": _ANSWERS[tool.returns],
        "expected_path": expected,
    }


def _path_text(value: Any) -> str:
    """A path argument as upstream.call writes it: JSON's spelling of booleans, percent-encoded."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return quote(text, safe="")


def _resource_view(resource: Resource) -> dict[str, Any]:
    return {**resource.model_dump(mode="json"), "module": resource.name, "uri_template": None, "variables": []}


def _template_view(template: ResourceTemplate) -> dict[str, Any]:
    view = template.model_dump(mode="json")
    return {**view, "module": template.name, "uri": template.uri_template, "variables": template.variables}


def _prompt_view(prompt: Prompt) -> dict[str, Any]:
    arguments = sorted(prompt.arguments, key=lambda a: not a.required)
    return {
        **prompt.model_dump(mode="json"),
        "module": prompt.name,
        "arguments": [a.model_dump(mode="json") for a in arguments],
    }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _names_used(code: str, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if re.search(rf"\b{name}\b", code)]


def registry_imports(tools: list[dict[str, Any]], prompts: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The names registry.py imports, so it imports exactly what it uses."""
    code = " ".join([p["wrapped"] for t in tools for p in t["params"]] + [t["wrapper_return"] for t in tools])
    typing = _names_used(code, ("Annotated", "Any", "Literal"))
    arguments = any(p["arguments"] for p in prompts)
    if arguments and "Annotated" not in typing:
        typing = sorted([*typing, "Annotated"])
    types = [
        name
        for name, used in (
            ("TextContent", "TextContent" in code),
            ("ToolAnnotations", any(t["annotations"] for t in tools)),
        )
        if used
    ]
    pydantic = ["Field"] if "Field(" in code or arguments else []
    return {"typing": typing, "mcp_types": types, "pydantic": pydantic}


def copier_data(spec: Spec) -> dict[str, Any]:
    """The answers copier renders with: `project` (the view), `mcpgen_version` and `mcpgen_requirement`."""
    server = spec.server
    tools = [_tool_view(t) for t in spec.tools]
    prompts = [_prompt_view(p) for p in spec.prompts]
    project = {
        "spec": spec.model_dump(mode="json"),
        "name": server.name,
        "package": server.package,
        "title": server.title or server.name,
        "description": server.description,
        "version": server.version,
        "public_url": server.public_url,
        "transport": server.transport,
        "http": server.transport in ("http", "both"),
        "stdio": server.transport in ("stdio", "both"),
        "stateless": server.stateless,
        "json_response": server.json_response,
        "auth": {
            **spec.auth.model_dump(mode="json"),
            # The server only checks the provider's JWTs; the provider runs sign-in and registration.
            "resource_server": spec.auth.provider in RESOURCE_SERVER_PROVIDERS,
            # fastmcp's OAuth proxy in front of a provider without DCR; it issues its own tokens.
            "proxy": spec.auth.provider in PROXY_PROVIDERS,
            # Behind the proxy, a provider asked who signed in at its user endpoint (GitHub, Google).
            "user_endpoint": spec.auth.provider in USER_ENDPOINT_PROVIDERS,
            "upstream": UPSTREAMS.get(spec.auth.provider, {}),
            "callback_path": PROXY_CALLBACK_PATH,
            # Tokens carry scopes, so per-tool scopes are enforced (403 insufficient_scope).
            "oauth": spec.auth.provider in ("builtin", *RESOURCE_SERVER_PROVIDERS, *PROXY_PROVIDERS),
        },
        "storage": {
            **spec.storage.model_dump(mode="json"),
            "default_url": spec.storage.default_url,
            # The py-key-value-aio extra the backend needs.
            "extra": {"sqlite": "disk", "memory": "memory", "redis": "redis", "postgres": "postgresql"}[
                spec.storage.backend
            ],
        },
        "deploy": spec.deploy.model_dump(mode="json"),
        "tools": tools,
        "upstream": spec.upstream.model_dump(mode="json") if spec.upstream else None,
        # Fixed resources and URI templates share resources/, one module each.
        "resources": [_resource_view(r) for r in spec.resources] + [_template_view(t) for t in spec.resource_templates],
        "prompts": prompts,
        "imports": registry_imports(tools, prompts),
    }
    # A JSON round trip gives fresh objects, so copier's YAML dump never writes anchors.
    return {
        "project": json.loads(json.dumps(project)),
        "mcpgen_version": __version__,
        # What the project's CI installs to run `mcpgen check`; empty when no runner could reach it.
        "mcpgen_requirement": install_source.requirement() or "",
    }
