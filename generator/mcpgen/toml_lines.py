"""Find the line of a key in a TOML document, for error messages.

`tomllib` keeps no positions, so this walks the text the way a reader does: table headers
(`[server]`, `[[tools]]`, `[[tools.params]]`) set the current table, `key = value` lines
define keys in it. Values that span lines (arrays, multi-line strings) are skipped over.
Good enough to point at the right line; never used to read values.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_dotted(key: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return tuple(p.strip("\"'") for p in parts)


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path the document defines (tables, array items, keys) to its 1-based line."""
    lines: dict[KeyPath, int] = {}
    counts: dict[KeyPath, int] = {}
    current: KeyPath = ()
    depth = 0  # open brackets/braces of a value that spans lines
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if depth > 0:
            depth += _bracket_balance(line)
            continue
        if header := _HEADER.match(line):
            array = header.group(1) == "[["
            names = _split_dotted(header.group(2))
            current = _resolve(names, counts, array)
            lines.setdefault(current, number)
            continue
        if key := _KEY.match(line):
            path = current + _split_dotted(key.group(1))
            lines.setdefault(path, number)
            value = line[key.end() :]
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    in_multiline = quote
            if not in_multiline:
                depth = max(0, _bracket_balance(value))
    return lines


def _resolve(names: tuple[str, ...], counts: dict[KeyPath, int], array: bool) -> KeyPath:
    """Turn `tools.params` into ("tools", 2, "params", 0), tracking array-of-tables indexes."""
    path: KeyPath = ()
    for i, name in enumerate(names):
        path = (*path, name)
        last = i == len(names) - 1
        if last and array:
            index = counts.get(path, 0)
            counts[path] = index + 1
            # A new item starts fresh counts for the arrays nested inside it.
            for other in [k for k in counts if len(k) > len(path) and k[: len(path)] == path]:
                del counts[other]
            return (*path, index)
        if path in counts:
            path = (*path, counts[path] - 1)
    return path


def _bracket_balance(text: str) -> int:
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'', "", text).split("#", 1)[0]
    return text.count("[") + text.count("{") - text.count("]") - text.count("}")


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its nearest ancestor the document spells out."""
    for end in range(len(path), 0, -1):
        if (found := lines.get(path[:end])) is not None:
            return found
    return None
