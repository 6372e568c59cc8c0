"""The Python fragments the template receives."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpgen.spec import Param, matches_type
from mcpgen.specfile import parse_spec
from mcpgen.template_data import base_annotation, copier_data, py_literal, sample_value

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_py_literal_round_trips(value: Any) -> None:
    assert ast.literal_eval(py_literal(value)) == value


def test_strings_are_double_quoted_as_ruff_writes_them() -> None:
    assert py_literal('it\'s <ok> & "fine"') == '"it\'s <ok> & \\"fine\\""'


@pytest.mark.parametrize(
    ("param", "annotation"),
    [
        ({"type": "string"}, "str"),
        ({"type": "integer"}, "int"),
        ({"type": "array", "items": "number"}, "list[float]"),
        ({"type": "array", "items": "object"}, "list[dict[str, Any]]"),
        ({"type": "object"}, "dict[str, Any]"),
        ({"type": "string", "enum": ["a", "b"]}, 'Literal["a", "b"]'),
    ],
)
def test_annotations(param: dict[str, Any], annotation: str) -> None:
    assert base_annotation(Param(name="p", **param)) == annotation


@given(
    kind=st.sampled_from(["string", "integer", "number"]),
    low=st.integers(-50, 50),
    span=st.integers(0, 50),
)
def test_sample_values_satisfy_their_constraints(kind: str, low: int, span: int) -> None:
    if kind == "string":
        param = Param(name="p", type="string", min_length=max(low, 0), max_length=max(low, 0) + span)
        value = sample_value(param)
        assert param.min_length is not None and param.max_length is not None
        assert param.min_length <= len(value) <= param.max_length
    else:
        param = Param(name="p", type=kind, minimum=low, maximum=low + span)  # type: ignore[arg-type]
        value = sample_value(param)
        assert low <= value <= low + span
    assert matches_type(value, kind)


def test_optional_parameters_follow_required_ones_and_imports_match() -> None:
    spec = parse_spec(
        '[server]\nname = "x"\n[[tools]]\nname = "t"\ndescription = "d"\nreturns = "object"\n'
        '[[tools.params]]\nname = "o"\ntype = "integer"\ndefault = 3\n'
        '[[tools.params]]\nname = "r"\ntype = "string"\nenum = ["a"]\n'
        '[[tools.params]]\nname = "maybe"\ntype = "string"\nrequired = false\n'
    )
    tool = copier_data(spec)["project"]["tools"][0]
    assert [p["name"] for p in tool["params"]] == ["r", "o", "maybe"]
    assert [p["default"] for p in tool["params"]] == [None, "3", "None"]
    assert tool["params"][2]["annotation"] == "str | None"
    assert tool["typing"] == ["Any", "Literal"]
    assert copier_data(spec)["project"]["imports"]["typing"] == ["Any", "Literal"]


@pytest.mark.parametrize(
    ("auth", "env", "user_endpoint"),
    [
        ('provider = "oidc-proxy"\nissuer = "https://idp.example.com"', "OIDC", False),
        ('provider = "github"', "GITHUB", True),
        ('provider = "google"', "GOOGLE", True),
        ('provider = "entra"\ntenant = "00000000-0000-4000-8000-000000000000"', "ENTRA", False),
    ],
)
def test_proxy_providers_name_their_settings_and_how_the_user_is_found(
    auth: str, env: str, user_endpoint: bool
) -> None:
    view = copier_data(parse_spec(f'[server]\nname = "p"\n\n[auth]\n{auth}\n'))["project"]["auth"]
    assert view["proxy"] and view["oauth"] and not view["resource_server"]
    assert view["upstream"]["env"] == env and view["user_endpoint"] == user_endpoint
    if user_endpoint:
        # Defaults are the real endpoints, over https.
        urls = [view["upstream"][key] for key in ("authorize_url", "token_url", "user_url")]
        assert all(url.startswith("https://") for url in urls), urls
