"""Jinja filters the template uses to write Python, TOML and YAML literals, and the compiled-template cache.

Jinja's own `tojson` escapes `<`, `>`, `&` and `'` for HTML, which reads badly in code.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache
from jinja2.ext import Extension

from mcpgen.template_data import docstring_text, py_literal


class Literals(Extension):
    """`{{ value | py }}`: a Python literal (double-quoted strings, also valid TOML and YAML);
    `{{ text | doc }}`: text inside a Python docstring."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["py"] = py_literal
        environment.filters["doc"] = docstring_text
        if cache_dir is not None:
            # Compiling the template's files is most of a render; compiled once, they load from here.
            environment.bytecode_cache = FileSystemBytecodeCache(str(cache_dir))


# Where mcpgen's renders keep compiled templates (set by mcpgen.render; a plain `copier copy` keeps none).
# Jinja checks each file's source against what it compiled, so an edited template is compiled again.
cache_dir: Path | None = None
