"""An OpenAPI 3.0 or 3.1 document as spec entries: one tool per operation, and the `[upstream]` they call.

What is read: the document's `servers`, `paths` (path-level and operation-level `parameters`, a JSON
`requestBody`, the 2xx response's JSON schema) and `components/securitySchemes`, with local `$ref`s
resolved (JSON Pointer, RFC 6901). Everything this cannot represent faithfully (a cookie parameter,
a body that is not JSON, a value that is one of several types, an external `$ref`) is a problem at
its JSON Pointer, so nothing half-right is written. OpenAPI 3.1.1: https://spec.openapis.org/oas/v3.1.1
"""

from __future__ import annotations

import fnmatch
import json
import keyword
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ValidationError

from mcpgen.spec import RESERVED_PARAMS, TOOL_NAME, Tool, python_name

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Hints from what the HTTP method promises (RFC 9110 §9.2); MCP 2025-06-18 "Tool annotations".
HINTS: dict[str, dict[str, bool]] = {
    "GET": {"readOnlyHint": True, "openWorldHint": True},
    "HEAD": {"readOnlyHint": True, "openWorldHint": True},
    "OPTIONS": {"readOnlyHint": True, "openWorldHint": True},
    "PUT": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True},
    "DELETE": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True, "openWorldHint": True},
    "PATCH": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True},
    "POST": {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True},
}
_SCALARS = ("string", "integer", "number", "boolean")


class OpenAPIError(Exception):
    """The document cannot be imported; each problem names its JSON Pointer."""

    def __init__(self, source: str, problems: list[str], pointers: bool = True) -> None:
        """`problems` start with a JSON Pointer into `source` unless `pointers` is False (it could not be read)."""
        self.source = source
        self.problems = [f"{source}#{p}" if pointers else p for p in problems]
        super().__init__("\n".join(self.problems))


class Filters(BaseModel):
    """Which operations to import; empty lists take everything."""

    tags: list[str] = []
    operations: list[str] = []  # operationIds (or the tool names made for operations without one)
    paths: list[str] = []  # exact paths or globs such as /pets*


class Imported(BaseModel):
    """What the document makes: `[upstream]` and the tools, as spec data."""

    upstream: dict[str, Any]
    tools: list[dict[str, Any]]
    skipped: list[str] = []  # with --skip-unsupported: the operations left out, and why
    notes: list[str] = []  # what the reader must do by hand (a credential, a scheme mcpgen cannot use)


def pointer(*parts: str | int) -> str:
    """A JSON Pointer (RFC 6901 §3): `~` as `~0`, `/` as `~1`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def load(source: str) -> tuple[dict[str, Any], str]:
    """The document at `source` (a file or an http(s) URL, JSON or YAML), and the URL or path it came from."""
    if urlsplit(source).scheme in ("http", "https"):
        import httpx

        try:
            response = httpx.get(source, follow_redirects=True, timeout=30)
        except httpx.HTTPError as exc:
            raise OpenAPIError(source, [f"{source}: cannot fetch: {exc}"], pointers=False) from None
        if response.status_code != 200:
            raise OpenAPIError(
                source, [f"{source}: HTTP {response.status_code} {response.reason_phrase}"], pointers=False
            )
        text, where = response.text, str(response.url)
    else:
        try:
            text, where = Path(source).read_text(encoding="utf-8-sig"), source
        except (OSError, UnicodeDecodeError) as exc:
            raise OpenAPIError(source, [f"{source}: cannot read: {exc}"], pointers=False) from None
    return parse(text, source), where


def parse(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as json_error:
        if text.lstrip().startswith("{"):
            raise OpenAPIError(
                source, [f"{source}:{json_error.lineno}: invalid JSON: {json_error.msg}"], pointers=False
            ) from None
        import yaml  # type: ignore[import-untyped]  # copier's dependency; no stubs installed

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark else source
            raise OpenAPIError(
                source, [f"{where}: neither JSON nor YAML: {getattr(exc, 'problem', exc)}"], pointers=False
            ) from None
    if not isinstance(data, dict):
        raise OpenAPIError(
            source, [f"{source}: an OpenAPI document is an object, got {type(data).__name__}"], pointers=False
        )
    return data


class _UnsupportedError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


class _Reader:
    """Walks one document, resolving local `$ref`s and converting schemas to spec parameters."""

    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source

    def resolve(self, node: Any, where: str, seen: tuple[str, ...] = ()) -> tuple[Any, str]:
        """`node` with its `$ref` chain followed, and the pointer of what it ends at."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise _UnsupportedError(f"{where}/$ref", f"external reference {ref!r}; bundle the document first")
            if ref in seen:
                raise _UnsupportedError(f"{where}/$ref", f"{ref!r} refers back to itself")
            seen = (*seen, ref)
            node, where = self._target(ref, where), ref[1:]
        return node, where

    def _target(self, ref: str, where: str) -> Any:
        node: Any = self.document
        for raw in ref[1:].split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise _UnsupportedError(f"{where}/$ref", f"{ref!r} points at nothing in the document")
        return node

    def schema_type(self, schema: Any, where: str, depth: int = 0) -> tuple[dict[str, Any], str]:
        """The flattened schema (allOf merged, a null alternative dropped) and its one JSON type."""
        # 3.1 lets a $ref have siblings (a default, a description); they apply on top of its target.
        siblings = {k: v for k, v in schema.items() if k != "$ref"} if isinstance(schema, dict) else {}
        schema, where = self.resolve(schema, where)
        if isinstance(schema, dict) and siblings:
            schema = {**schema, **siblings}
        if not isinstance(schema, dict):
            raise _UnsupportedError(where, "a schema is an object")
        if "allOf" in schema and depth < 8:
            parts = [self.schema_type(part, f"{where}/allOf/{i}", depth + 1) for i, part in enumerate(schema["allOf"])]
            kinds = {kind for _, kind in parts}
            if len(kinds) == 1:
                merged: dict[str, Any] = {}
                for part, _ in parts:
                    merged.update(part)
                merged.update({k: v for k, v in schema.items() if k != "allOf"})
                return merged, kinds.pop()
            raise _UnsupportedError(f"{where}/allOf", f"parts of different types {sorted(kinds)}")
        for key in ("oneOf", "anyOf"):
            if key in schema and depth < 8:
                options = [
                    (part, f"{where}/{key}/{i}")
                    for i, part in enumerate(schema[key])
                    if self.resolve(part, where)[0] != {"type": "null"}
                ]
                typed = [self.schema_type(part, at, depth + 1) for part, at in options]
                kinds = {kind for _, kind in typed}
                if len(typed) == 1:
                    rest = {k: v for k, v in schema.items() if k != key}
                    return {**typed[0][0], **rest}, typed[0][1]
                if len(kinds) == 1:
                    return {k: v for k, v in schema.items() if k != key}, kinds.pop()
                raise _UnsupportedError(f"{where}/{key}", f"a value of any of the types {sorted(kinds)}")
        kind = schema.get("type")
        if isinstance(kind, list):  # 3.1: ["string", "null"]
            named = [k for k in kind if k != "null"]
            if len(named) != 1:
                raise _UnsupportedError(f"{where}/type", f"a value of any of the types {named}")
            kind = named[0]
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            elif schema.get("enum") and all(isinstance(v, str) for v in schema["enum"]):
                kind = "string"
            else:
                kind = "object"  # any JSON value: the closest the spec's types come is an object
        if kind not in (*_SCALARS, "array", "object"):
            raise _UnsupportedError(f"{where}/type", f"unknown type {kind!r}")
        if kind == "string" and schema.get("format") == "binary":
            raise _UnsupportedError(where, "binary data (a file upload) cannot travel as a JSON tool argument")
        return schema, kind

    def param(self, name: str, schema: Any, where: str, description: str, required: bool) -> dict[str, Any]:
        """A spec parameter (without its name) for a schema; bounds, enum and default kept where they fit."""
        schema, kind = self.schema_type(schema, where)
        out: dict[str, Any] = {"type": kind}
        text = (description or schema.get("description") or schema.get("title") or "").strip()
        if text:
            out["description"] = text
        if kind == "array":
            _, item_kind = self.schema_type(schema.get("items", {}), f"{where}/items")
            if item_kind == "array":
                raise _UnsupportedError(f"{where}/items", "an array of arrays")
            out["items"] = item_kind
            self._copy(schema, out, {"minItems": "min_length", "maxItems": "max_length"})
        if kind == "string":
            self._copy(schema, out, {"minLength": "min_length", "maxLength": "max_length"})
        if kind in ("integer", "number"):
            self._bounds(schema, kind, out)
        enum = schema.get("enum")
        if isinstance(enum, list) and kind in ("string", "integer", "boolean"):
            values = [v for v in enum if v is not None]
            if values and all(_is(v, kind) for v in values):
                out["enum"] = values
        default = schema.get("default")
        if default is not None and _is(default, kind) and (not out.get("enum") or default in out["enum"]):
            out["default"] = default
        elif not required:
            out["required"] = False
        return out

    @staticmethod
    def _copy(schema: dict[str, Any], out: dict[str, Any], keys: dict[str, str]) -> None:
        """Non-negative whole-number constraints (lengths, item counts)."""
        for theirs, ours in keys.items():
            value = schema.get(theirs)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                out[ours] = value

    @staticmethod
    def _bounds(schema: dict[str, Any], kind: str, out: dict[str, Any]) -> None:
        step = 1 if kind == "integer" else 0
        for key, exclusive, ours, sign in (
            ("minimum", "exclusiveMinimum", "minimum", 1),
            ("maximum", "exclusiveMaximum", "maximum", -1),
        ):
            value, other = schema.get(key), schema.get(exclusive)
            if isinstance(other, int | float) and not isinstance(other, bool):  # 3.1: the bound itself
                value, other = other, True
            if isinstance(value, int | float) and not isinstance(value, bool):
                # An exclusive bound of an integer is the next whole number; of a number, kept as is.
                bound = value + sign * step if other is True else value
                out[ours] = int(bound) if kind == "integer" and float(bound).is_integer() else bound


def _is(value: Any, kind: str) -> bool:
    if kind != "boolean" and isinstance(value, bool):
        return False
    wanted = {"string": str, "integer": int, "number": int | float, "boolean": bool, "array": list, "object": dict}
    return isinstance(value, wanted[kind])


def parameter_name(wire: str) -> str:
    """A Python parameter name for an API name: `petId` -> `pet_id`, `X-Request-Id` -> `x_request_id`."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", wire)
    name = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "value"
    if name[0].isdigit():
        name = f"p_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED_PARAMS:
        name = f"{name}_"
    return name[:60]


def tool_name(operation: dict[str, Any], method: str, path: str) -> str:
    """The operationId where it fits MCP's tool-name rules (made to fit otherwise), else method and path."""
    source = operation.get("operationId")
    if not isinstance(source, str) or not source.strip():
        words = [w.strip("{}") for w in path.split("/") if w]
        source = "_".join([method.lower(), *words])
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.strip()).strip("_")[:128]
    return name or method.lower()


def convert(
    document: dict[str, Any],
    source: str,
    filters: Filters,
    skip_unsupported: bool = False,
    base_url: str | None = None,
) -> Imported:
    """Every selected operation of the document as a tool, and the `[upstream]` they share (at `base_url`, if given)."""
    reader = _Reader(document, source)
    version = document.get("openapi")
    if not isinstance(version, str) or not re.match(r"^3\.[01]\.\d+", version):
        found = document.get("swagger", version)
        hint = "; convert it to OpenAPI 3 first (e.g. npx swagger2openapi)" if "swagger" in document else ""
        raise OpenAPIError(source, [f"/openapi: OpenAPI 3.0 or 3.1 is supported, this is {found!r}{hint}"])
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise OpenAPIError(source, ["/paths: the document has no paths object"])
    problems: list[str] = []
    skipped: list[str] = []
    tools: list[tuple[str, dict[str, Any]]] = []
    security: set[str] = set()
    for path, item in paths.items():
        item_where = pointer("paths", path)
        try:
            item, item_where = reader.resolve(item, item_where)
        except _UnsupportedError as exc:
            problems.append(str(exc))
            continue
        if not isinstance(item, dict):
            problems.append(f"{item_where}: a path item is an object")
            continue
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            where = f"{item_where}/{method}"
            if not isinstance(operation, dict):
                problems.append(f"{where}: an operation is an object")
                continue
            name = tool_name(operation, method, path)
            if not _selected(filters, operation, name, path):
                continue
            try:
                tools.append((where, _tool(reader, name, method.upper(), path, item, operation, where)))
            except _UnsupportedError as exc:
                if not skip_unsupported:
                    problems.append(
                        f"{exc} (leave the operation out with --operation/--tag/--path, or --skip-unsupported)"
                    )
                else:
                    skipped.append(f"{method.upper()} {path}: {exc}")
                continue
            requirements = operation.get("security", document.get("security", []))
            for requirement in requirements if isinstance(requirements, list) else []:
                if isinstance(requirement, dict):
                    security.update(requirement)
    problems += _clashes(tools)
    if problems:
        raise OpenAPIError(source, problems)
    if not tools:
        why = (
            f"every selected operation is unsupported ({len(skipped)} skipped)"
            if skipped
            else "no operation matches the filters"
        )
        raise OpenAPIError(source, [f"/paths: {why}"])
    upstream, notes = _upstream(reader, source, security, base_url)
    return Imported(upstream=upstream, tools=[tool for _, tool in tools], skipped=skipped, notes=notes)


def _selected(filters: Filters, operation: dict[str, Any], name: str, path: str) -> bool:
    tags = operation.get("tags") if isinstance(operation.get("tags"), list) else []
    if filters.tags and not set(filters.tags) & set(tags or []):
        return False
    if filters.operations and operation.get("operationId") not in filters.operations and name not in filters.operations:
        return False
    return not filters.paths or any(fnmatch.fnmatchcase(path, pattern) for pattern in filters.paths)


def _tool(
    reader: _Reader, name: str, method: str, path: str, item: dict[str, Any], operation: dict[str, Any], where: str
) -> dict[str, Any]:
    if "servers" in operation:
        raise _UnsupportedError(f"{where}/servers", "an operation on servers of its own")
    params: list[dict[str, Any]] = []
    places: dict[str, dict[str, str]] = {"path_params": {}, "query": {}, "headers": {}, "body": {}, "json_body": {}}
    taken: set[str] = set()

    def add(wire: str, location: str, param: dict[str, Any]) -> None:
        base = parameter_name(wire)
        suffix = {"path_params": "path", "headers": "header", "json_body": "body"}.get(location, location)
        name = base if base not in taken else f"{base}_{suffix}"
        counter = 2
        while name in taken:
            name, counter = f"{base}_{counter}", counter + 1
        taken.add(name)
        params.append({"name": name, **param})
        places[location][name] = wire

    declared: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for level, owner in (("", item), (f"/{where.rsplit('/', 1)[1]}", operation)):
        base_where = where.rsplit("/", 1)[0] + level
        for i, raw in enumerate(owner.get("parameters") or []):
            parameter, at = reader.resolve(raw, f"{base_where}/parameters/{i}")
            if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
                raise _UnsupportedError(at, "a parameter needs a name")
            declared[(parameter["name"], str(parameter.get("in")))] = (parameter, at)
    locations = {"path": "path_params", "query": "query", "header": "headers"}
    for (wire, location), (parameter, at) in declared.items():
        if location == "cookie":
            raise _UnsupportedError(f"{at}/in", f"cookie parameter {wire!r}")
        if location not in locations:
            raise _UnsupportedError(f"{at}/in", f"'in' is path, query, header or cookie, got {location!r}")
        if location == "header" and wire.lower() in ("accept", "content-type", "authorization"):
            continue  # OpenAPI 3.1.1 §4.8.12.1: these are ignored as parameters
        schema = parameter.get("schema")
        if schema is None and isinstance(parameter.get("content"), dict) and parameter["content"]:
            media = next(iter(parameter["content"].values()))
            schema, at = (media or {}).get("schema", {}), f"{at}/content"
        required = location == "path" or parameter.get("required") is True
        param = reader.param(wire, schema or {}, f"{at}/schema", str(parameter.get("description") or ""), required)
        if param["type"] == "object":  # its serialization (style, explode) would be guesswork
            raise _UnsupportedError(f"{at}/schema", f"an object in the {location}")
        if location == "path":
            param.pop("required", None)
            param.pop("default", None)
        add(wire, locations[location], param)
    _body(reader, operation, where, add)
    json_body = next(iter(places.pop("json_body")), None)
    in_path = re.findall(r"\{([^{}]+)\}", path)
    missing = [v for v in in_path if v not in places["path_params"].values()]
    if missing:
        raise _UnsupportedError(
            f"{where}/parameters", f"the path's variables {missing} are not declared as path parameters"
        )
    summary = str(operation.get("summary") or "").strip()
    details = str(operation.get("description") or "").strip()
    description = "\n\n".join(part for part in (summary, details) if part) or f"{method} {path}"
    if operation.get("deprecated") is True:
        description = f"Deprecated. {description}"
    tool: dict[str, Any] = {
        "name": name,
        "description": description[:4000],
        "returns": _returns(reader, operation, where),
        "annotations": HINTS[method],
        "operation": {"method": method, "path": path}
        | ({"id": operation["operationId"]} if isinstance(operation.get("operationId"), str) else {})
        | {key: value for key, value in places.items() if value}
        | ({"json_body": json_body} if json_body else {}),
        "params": params,
    }
    _check(tool, where)
    return tool


def _body(reader: _Reader, operation: dict[str, Any], where: str, add: Any) -> None:
    """Add the JSON body's parameters: an object's properties one by one, anything else as `body`."""
    if "requestBody" not in operation:
        return
    body, at = reader.resolve(operation["requestBody"], f"{where}/requestBody")
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or not content:
        raise _UnsupportedError(at, "a request body needs content")
    media = next(
        (m for m in content if m == "application/json" or re.fullmatch(r"application/[\w.+-]*\+json", m)), None
    )
    if media is None:
        raise _UnsupportedError(
            f"{at}/content", f"a request body of {', '.join(content)}: only JSON bodies are supported"
        )
    required = body.get("required") is True
    schema_where = f"{at}/content/{pointer(media)[1:]}/schema"
    schema, kind = reader.schema_type(content[media].get("schema") or {}, schema_where)
    properties = schema.get("properties") if kind == "object" else None
    if isinstance(properties, dict) and properties and not schema.get("additionalProperties"):
        needed = set(schema.get("required") or [])
        for prop, sub in properties.items():
            resolved, _ = reader.resolve(sub, f"{schema_where}/properties/{pointer(prop)[1:]}")
            if isinstance(resolved, dict) and resolved.get("readOnly") is True:
                continue  # the API sets it; requests leave it out (OpenAPI 3.1.1 §4.8.24.1)
            prop_required = required and prop in needed
            param = reader.param(prop, sub, f"{schema_where}/properties/{pointer(prop)[1:]}", "", prop_required)
            add(prop, "body", param)
        return
    add("body", "json_body", reader.param("body", schema, schema_where, str(body.get("description") or ""), required))


def _returns(reader: _Reader, operation: dict[str, Any], where: str) -> str:
    """`object` or `array` when the success response is a JSON object or array, else `string` (its text)."""
    found = operation.get("responses")
    # YAML reads an unquoted 200 as a number: the codes are compared as text.
    responses: dict[str, Any] = {str(k): v for k, v in found.items()} if isinstance(found, dict) else {}
    for code in sorted(responses):
        if not (code.startswith("2") or code == "default"):
            continue
        try:
            response, at = reader.resolve(responses[code], f"{where}/responses/{code}")
            content = response.get("content") if isinstance(response, dict) else None
            for media, value in (content or {}).items():
                if media == "application/json" or media.endswith("+json"):
                    _, kind = reader.schema_type((value or {}).get("schema") or {}, at)
                    return kind if kind in ("object", "array") else "string"
        except (_UnsupportedError, KeyError):
            return "string"
        return "string"
    return "string"


def _check(tool: dict[str, Any], where: str) -> None:
    """The tool as the spec will validate it, so a problem points into the document, not mcpgen.toml."""
    from mcpgen.spec import _param_problems, reserved_problem

    try:
        model = Tool.model_validate(tool)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _UnsupportedError(
            where, f"makes an invalid tool: {'.'.join(map(str, first['loc']))}: {first['msg']}"
        ) from None
    for param in model.params:
        for loc, message in _param_problems(param):
            raise _UnsupportedError(where, f"parameter {param.name!r} {'.'.join(loc)}: {message}")
        if problem := reserved_problem(param.name):
            raise _UnsupportedError(where, problem)
    if not re.fullmatch(TOOL_NAME, model.name):
        raise _UnsupportedError(where, f"tool name {model.name!r} breaks MCP's rules")


def _clashes(tools: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Two operations that would make the same tool or module name."""
    problems = []
    names: dict[str, str] = {}
    modules: dict[str, str] = {}
    for where, tool in tools:
        name, module = tool["name"], python_name(tool["name"])
        if name in names:
            problems.append(f"{where}: makes the tool {name!r}, like {names[name]}; give one a distinct operationId")
        elif module in modules:
            problems.append(f"{where}: the tool {name!r} makes the module {module!r}, like {modules[module]}")
        names.setdefault(name, where)
        modules.setdefault(module, where)
    return problems


def _upstream(
    reader: _Reader, source: str, security: set[str], base_url: str | None
) -> tuple[dict[str, Any], list[str]]:
    """The base URL (servers[0], its variables at their defaults) and how to authenticate to the API."""
    document = reader.document
    servers = document.get("servers")
    url = base_url or "/"
    if base_url is None and isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url") or "/")
        for variable, spec in (servers[0].get("variables") or {}).items():
            url = url.replace(f"{{{variable}}}", str((spec or {}).get("default", "")))
    if not urlsplit(url).scheme:
        if urlsplit(source).scheme not in ("http", "https"):
            message = f"the servers URL {url!r} is relative to where the document is served; give --base-url"
            raise OpenAPIError(source, [f"/servers/0/url: {message}"])
        url = urljoin(source, url)  # OpenAPI 3.1.1 §4.8.5: relative to the document's location
    upstream: dict[str, Any] = {"base_url": url.rstrip("/") or url}
    notes: list[str] = []
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for scheme_name in sorted(security):
        scheme, _ = reader.resolve(schemes.get(scheme_name, {}), pointer("components", "securitySchemes", scheme_name))
        kind = scheme.get("type") if isinstance(scheme, dict) else None
        if kind == "apiKey" and scheme.get("in") in ("header", "query"):
            upstream |= {"auth": "api_key", "key_in": scheme["in"], "key_name": scheme["name"]}
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            upstream["auth"] = "bearer"
        elif kind == "oauth2" and isinstance((scheme.get("flows") or {}).get("clientCredentials"), dict):
            flow = scheme["flows"]["clientCredentials"]
            upstream |= {"auth": "client_credentials", "token_url": urljoin(url + "/", flow.get("tokenUrl", ""))}
        elif kind in ("oauth2", "openIdConnect"):
            upstream["auth"] = "bearer"
            notes.append(
                f"{scheme_name} signs in users; the server sends UPSTREAM_TOKEN instead (README: calling the API on the user's behalf)"
            )
        else:
            notes.append(
                f"security scheme {scheme_name!r} ({kind}) is not one mcpgen can use; set [upstream] auth by hand"
            )
            continue
        break
    parts = urlsplit(upstream["base_url"])
    if upstream.get("auth", "none") != "none" and parts.scheme == "http" and not _loopback(parts.hostname or ""):
        upstream["base_url"] = "https" + upstream["base_url"][4:]
        notes.append(
            f"the document's server is {url}; [upstream] base_url is https, as the server sends its"
            " credential for the API over https only (--base-url to choose another)"
        )
    return upstream, notes


def _loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1", "[::1]")
