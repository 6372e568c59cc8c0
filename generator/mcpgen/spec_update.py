"""Edit `mcpgen.toml` in place for `mcpgen add openapi`: the `[upstream]` table and the imported tools.

The file is the user's, so only what the import owns changes: the `[upstream]` table and the
`[[tools]]` entries that carry an `operation`. Every other line (comments, other tools, their
order and spacing) stays byte for byte. An imported tool keeps what the user gave it that the
document does not say (`title`, `scopes`, `renamed_from`); comments inside a replaced entry are
not kept. Blocks are found with `toml_lines`, which already knows where multi-line values end.
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w
from pydantic import BaseModel

from mcpgen.toml_lines import _HEADER, _split_dotted, key_lines

# Keys of an imported tool that are the user's, kept when the operation is imported again.
USER_KEYS = ("title", "scopes", "renamed_from")
# [upstream] keys that are the user's once written: how to reach and authenticate to the API.
UPSTREAM_KEYS = ("base_url", "auth", "key_in", "key_name", "token_url", "scopes", "timeout", "retries")


class Changes(BaseModel):
    """The imported tools that an update adds, changes and removes, by name."""

    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []


class _Block(BaseModel):
    root: str  # "" for the lines before the first table
    text: str


def _blocks(text: str) -> list[_Block]:
    """The document cut at each top-level table header; a comment right above a header goes with it."""
    lines = text.splitlines(keepends=True)
    headers = sorted(n for n in set(key_lines(text).values()) if _HEADER.match(lines[n - 1]))
    starts: list[tuple[int, str]] = []
    for number in headers:
        match = _HEADER.match(lines[number - 1])
        names = _split_dotted(match.group(2)) if match else ()
        if len(names) == 1:
            start = number - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            starts.append((start, names[0]))
    blocks = [_Block(root="", text="".join(lines[: starts[0][0] if starts else len(lines)]))]
    for i, (start, root) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(lines)
        blocks.append(_Block(root=root, text="".join(lines[start:end])))
    return blocks


def _tool_of(block: _Block) -> dict[str, Any] | None:
    if block.root != "tools":
        return None
    tools = tomllib.loads(block.text).get("tools") or [{}]
    return dict(tools[0])


def imported_tools(text: str) -> dict[str, dict[str, Any]]:
    """The tools of a spec text that an import made (they carry an `operation`), by name."""
    tools = (_tool_of(block) for block in _blocks(text))
    return {tool["name"]: tool for tool in tools if tool is not None and "operation" in tool}


def _dump(table: str, value: dict[str, Any], array: bool = False) -> str:
    return tomli_w.dumps({table: [value] if array else value}, multiline_strings=True)


def update(text: str, upstream: dict[str, Any], tools: list[dict[str, Any]]) -> tuple[str, Changes]:
    """`text` with `[upstream]` and the imported tools replaced by these; see the module docstring."""
    blocks = _blocks(text)
    old = imported_tools(text)
    new = {tool["name"]: tool for tool in tools}
    current = next((tomllib.loads(b.text)["upstream"] for b in blocks if b.root == "upstream"), None)
    if current is not None:
        upstream = {**upstream, **{k: current[k] for k in UPSTREAM_KEYS if k in current}}
    upstream_text = _dump("upstream", upstream)
    changes = Changes(
        added=[name for name in new if name not in old],
        removed=[name for name in old if name not in new],
    )
    out: list[str] = []
    placed: set[str] = set()
    for block in blocks:
        tool = _tool_of(block)
        if block.root == "upstream":
            out.append(_spaced(upstream_text, block.text))
            upstream_text = ""
        elif tool is not None and tool.get("name") in old:
            name = tool["name"]
            if name in new:
                merged = {**new[name], **{k: tool[k] for k in USER_KEYS if k in tool}}
                if merged != tool:
                    changes.changed.append(name)
                out.append(_spaced(_dump("tools", _ordered(merged), array=True), block.text))
                placed.add(name)
        else:
            out.append(block.text)
    if upstream_text:
        first_tool = next((i for i, b in enumerate(blocks) if b.root == "tools"), len(out))
        out.insert(min(first_tool, len(out)), upstream_text + "\n")
    for i in range(1, len(out)):  # a table inserted after one that ended without a blank line
        if out[i - 1].strip() and not out[i - 1].endswith("\n\n"):
            out[i - 1] = out[i - 1].rstrip("\n") + "\n\n"
    result = "".join(out).rstrip("\n") + "\n"
    for name, tool in new.items():
        if name not in placed:
            result += "\n" + _dump("tools", _ordered(tool), array=True)
    return result, changes


def _ordered(tool: dict[str, Any]) -> dict[str, Any]:
    """Name and description first, the params last, as people write a tool."""
    first = ("name", "title", "description", "returns", "scopes", "renamed_from")
    rest = ("annotations", "operation", "params")
    return {k: tool[k] for k in (*first, *rest) if k in tool} | {k: v for k, v in tool.items() if k not in first + rest}


def _spaced(text: str, replaced: str) -> str:
    """`text` with the blank lines that ended the block it replaces, so the spacing stays as it was."""
    trailing = len(replaced) - len(replaced.rstrip("\n"))
    return text.rstrip("\n") + "\n" * max(trailing, 1)
