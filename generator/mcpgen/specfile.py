"""Read `mcpgen.toml` into a `Spec`, or explain every problem with file, line and key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mcpgen import spec as spec_model
from mcpgen.spec import Spec
from mcpgen.toml_lines import KeyPath, key_lines, line_of

SPEC_FILE = "mcpgen.toml"

# Pattern constraints, said in words.
_PATTERN_WORDS = {
    spec_model.TOOL_NAME: "must be 1-128 characters of A-Z a-z 0-9 _ - . (the MCP tool-name rules)",
    spec_model.PROJECT_NAME: "must be lowercase letters and digits, words joined by single dashes (e.g. my-server)",
    spec_model.IDENTIFIER: "must be a Python identifier (letters, digits, _; not starting with a digit)",
}


def pattern_words(pattern: str) -> str:
    """A name pattern of the spec, said in words."""
    return _PATTERN_WORDS.get(pattern, f"must match {pattern}")


class Problem(BaseModel):
    """One thing wrong with a spec, located for the reader."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class SpecError(Exception):
    """The spec cannot be used; `problems` says why, one entry per problem.

    `answers` is the spec that interactive answers made, to show so that no answer is lost.
    """

    def __init__(self, problems: list[Problem], answers: str = "") -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        self.answers = answers


def load_spec(path: Path) -> Spec:
    """Parse and validate the spec at `path`."""
    return parse_spec(read_spec_text(path), str(path))


def read_spec_text(path: Path) -> str:
    """The text of a spec file (UTF-8, with or without the byte-order mark some editors write)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise SpecError([Problem(file=str(path), line=None, key="", message="no such file")]) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the file as UTF-8"
        raise SpecError([Problem(file=str(path), line=line, key="", message=message)]) from None
    except OSError as exc:
        raise SpecError([Problem(file=str(path), line=None, key="", message=f"cannot read: {exc.strerror}")]) from None


def parse_spec(text: str, filename: str = SPEC_FILE) -> Spec:
    """Validate TOML text as a spec; `filename` only labels the messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise SpecError([Problem(file=filename, line=line, key="", message=f"invalid TOML: {message}")]) from None
    return validate_data(data, filename, key_lines(text))


def validate_data(data: dict[str, Any], filename: str, lines: dict[KeyPath, int] | None = None) -> Spec:
    """Validate spec data (parsed TOML, or answers and flags); `lines` locates keys in a file."""
    lines = lines or {}
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        found = [_from_pydantic(err, data, lines, filename) for err in exc.errors()]
        beside = _problems_beside(exc.errors(), data)
        raise SpecError(found + [_problem(loc, msg, data, lines, filename) for loc, msg in beside]) from None
    if related := spec_model.problems(spec):
        raise SpecError([_problem(loc, msg, data, lines, filename) for loc, msg in related])
    return spec


_ITEMS = {
    "tools": lambda i: {"name": f"mcpgen_placeholder_{i}", "description": "-"},
    "resources": lambda i: {"uri": f"placeholder://{i}", "name": f"mcpgen_placeholder_{i}"},
    "resource_templates": lambda i: {"uri_template": f"placeholder://{i}/{{v}}", "name": f"mcpgen_template_{i}"},
    "prompts": lambda i: {"name": f"mcpgen_prompt_{i}"},
}


def _problems_beside(errors: list[Any], data: dict[str, Any]) -> list[tuple[KeyPath, str]]:
    """The rules that relate several fields, run beside field errors, so every problem shows at once.

    The tools, resources and prompts with field errors are set aside (a placeholder takes each one's
    place, so the others keep their index); an error elsewhere leaves too little to judge by.
    """
    items = {tuple(err["loc"][:2]) for err in errors}
    if not all(len(item) == 2 and item[0] in _ITEMS and isinstance(item[1], int) for item in items):
        return []
    repaired = {**data, **{section: list(data[section]) for section, _ in items}}
    for section, index in items:
        repaired[section][index] = _ITEMS[section](index)
    try:
        spec = Spec.model_validate(repaired)
    except ValidationError:
        return []
    return [(loc, msg) for loc, msg in spec_model.problems(spec) if tuple(loc[:2]) not in items]


def dump_spec(spec: Spec) -> str:
    """TOML text for a spec, leaving out what equals the defaults."""
    import tomli_w

    return tomli_w.dumps(spec.model_dump(mode="json", exclude_defaults=True))


def _problem(loc: KeyPath, message: str, data: dict[str, Any], lines: dict[KeyPath, int], filename: str) -> Problem:
    return Problem(file=filename, line=line_of(lines, loc), key=key_name(loc, data), message=message)


def _from_pydantic(err: Any, data: dict[str, Any], lines: dict[KeyPath, int], filename: str) -> Problem:
    loc: KeyPath = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        message = f"expected one of {ctx.get('expected')}, got {err['input']!r}"
    elif kind == "extra_forbidden":
        message = f"unknown key; allowed here: {', '.join(_allowed_keys(loc[:-1]))}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "string_pattern_mismatch":
        message = f"{err['input']!r} {pattern_words(ctx.get('pattern', ''))}"
    else:
        message = err["msg"]
    return _problem(loc, message, data, lines, filename)


def _allowed_keys(loc: KeyPath) -> list[str]:
    """The keys the model accepts at `loc` (for 'unknown key' messages)."""
    model: Any = Spec
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _model_in(arg)) is not None:
            return found
    return None


def key_name(loc: KeyPath, data: Any) -> str:
    """`("tools", 2, "params", 1, "type")` -> `tools[2].params.limit.type` (named items by name)."""
    out = ""
    node = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            named = i > 0 and loc[i - 1] in ("params", "arguments")
            if named and isinstance(item, dict) and isinstance(item.get("name"), str):
                out += f".{item['name']}"
            else:
                out += f"[{part}]"
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out
