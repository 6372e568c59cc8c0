"""Jinja filters the template uses to write Python, TOML and YAML literals, and the compiled-template cache.

Jinja's own `tojson` escapes `<`, `>`, `&` and `'` for HTML, which reads badly in code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, nodes
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
            cache_string_templates(environment, environment.bytecode_cache)


def cache_string_templates(environment: Environment, cache: BytecodeCache) -> None:
    """Keep the code of templates made from strings in `cache` too, keyed by their source.

    copier renders every path and every question default with `from_string`, which Jinja compiles
    afresh each time (its bytecode cache covers loaded files only): a tenth of each `mcpgen new`.
    """
    compile_source: Callable[..., Any] = environment.compile

    def compile(
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if name is not None or raw or defer_init or not isinstance(source, str):
            return compile_source(source, name, filename, raw, defer_init)
        bucket = cache.get_bucket(environment, source, None, source)
        if bucket.code is None:
            bucket.code = compile_source(source)
            cache.set_bucket(bucket)
        else:
            # As compiling would: extensions reset per-template state there (copier's `yield` tag does).
            environment.preprocess(source)
        return bucket.code

    environment.compile = compile  # type: ignore[method-assign]


# Where mcpgen's renders keep compiled templates (set by mcpgen.render; a plain `copier copy` keeps none).
# Jinja checks each file's source against what it compiled, so an edited template is compiled again.
cache_dir: Path | None = None
