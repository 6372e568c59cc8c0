"""Jinja filters the template uses to write Python, TOML and YAML literals.

Jinja's own `tojson` escapes `<`, `>`, `&` and `'` for HTML, which reads badly in code.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from mcpgen.template_data import docstring_text, py_literal


class Literals(Extension):
    """`{{ value | py }}`: a Python literal (double-quoted strings, also valid TOML and YAML);
    `{{ text | doc }}`: text inside a Python docstring."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["py"] = py_literal
        environment.filters["doc"] = docstring_text
