"""Locating keys in TOML text, for error messages."""

from __future__ import annotations

from mcpgen.toml_lines import key_lines, line_of

DOC = '''\
# comment with [brackets] and key = "value"
[server]
name = "x"
description = """
multi = "line"
"""

[[tools]]
name = "a"
annotations = { readOnlyHint = true }
tags = [
  "one",
  "two",
]

  [[tools.params]]
  name = "p"

[[tools]]
name = "b"
"quoted key" = 1
dotted.key = 2

  [[tools.params]]
  name = "q"

  [[tools.params]]
  name = "r"   # trailing comment
'''


def test_tables_keys_and_array_items() -> None:
    lines = key_lines(DOC)
    assert lines[("server",)] == 2
    assert lines[("server", "name")] == 3
    assert lines[("server", "description")] == 4
    assert lines[("tools", 0)] == 8
    assert lines[("tools", 0, "annotations")] == 10
    assert lines[("tools", 0, "params", 0, "name")] == 17
    assert lines[("tools", 1, "name")] == 20
    assert lines[("tools", 1, "quoted key")] == 21
    assert lines[("tools", 1, "dotted", "key")] == 22
    assert lines[("tools", 1, "params", 1, "name")] == 28


def test_multiline_values_define_no_keys() -> None:
    lines = key_lines(DOC)
    assert ("server", "multi") not in lines
    assert ("tools", 0, "one") not in lines


def test_nearest_ancestor_for_keys_the_document_leaves_out() -> None:
    lines = key_lines(DOC)
    assert line_of(lines, ("tools", 0, "annotations", "readOnlyHint")) == 10
    assert line_of(lines, ("tools", 1, "params", 0, "type")) == 24
    assert line_of(lines, ("storage", "backend")) is None
