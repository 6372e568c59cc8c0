"""The `mcpgen` command line, driven in-process (prompts answered through stdin)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from mcpgen.specfile import load_spec
from mcpgen.vcs import PRISTINE_BRANCH, git

from .conftest import EXAMPLES, mcpgen


def branches(project: Path) -> list[str]:
    return git(project, "branch", "--format=%(refname:short)").stdout.split()


def test_version_and_help() -> None:
    code, output = mcpgen("--version")
    assert code == 0 and output.startswith("mcpgen ")
    code, output = mcpgen("--help")
    assert code == 0
    assert "new" in output and "check" in output and "schema" in output


def test_help_does_not_import_the_heavy_parts() -> None:
    probe = "import sys; from mcpgen.cli import app; print(sorted(m for m in ('copier', 'fastmcp', 'jinja2') if m in sys.modules))"
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )


def test_new_with_defaults(tmp_path: Path) -> None:
    target = tmp_path / "My Server"
    code, output = mcpgen("new", str(target), "--yes")
    assert code == 0, output
    spec = load_spec(target / "mcpgen.toml")
    assert spec.server.name == "my-server"
    assert [t.name for t in spec.tools] == ["hello"]
    assert (target / "my_server" / "tools" / "hello.py").is_file()
    assert sorted(branches(target)) == ["main", PRISTINE_BRANCH]
    assert git(target, "status", "--porcelain").stdout == ""
    # The spec is the user's: on main, not in the pristine render.
    assert "mcpgen.toml" not in git(target, "ls-tree", "-r", "--name-only", PRISTINE_BRANCH).stdout.split()
    env = (target / ".env").read_text()
    assert "STORAGE_KEY=" in env and "change-me" not in env
    assert (target / ".env").stat().st_mode & 0o077 == 0
    assert ".env" not in git(target, "ls-files").stdout.split()
    assert "my-server serve" in output


def test_new_from_an_example_keeps_the_spec_text(tmp_path: Path) -> None:
    code, output = mcpgen("new", str(tmp_path / "n"), "--spec", str(EXAMPLES / "notes.toml"), "--yes")
    assert code == 0, output
    assert (tmp_path / "n" / "mcpgen.toml").read_text() == (EXAMPLES / "notes.toml").read_text()
    assert (tmp_path / "n" / "notes" / "tools" / "search_notes.py").is_file()


def test_new_with_example_commits_its_bodies_as_the_users_own(tmp_path: Path) -> None:
    """The example's bodies land on main over the render; the pristine branch keeps the generated ones."""
    target = tmp_path / "j"
    code, output = mcpgen("new", str(target), "--example", "journal", "--yes")
    assert code == 0, output
    body = "journal/tools/write_entry.py"
    assert (target / body).read_text() == (EXAMPLES / "journal" / body).read_text()
    assert "caller: Caller" not in git(target, "show", f"{PRISTINE_BRANCH}:{body}").stdout
    assert git(target, "status", "--porcelain").stdout == ""
    code, output = mcpgen("check", cwd=target)
    assert code == 0, output


def test_new_with_an_unknown_example_names_the_known_ones(tmp_path: Path) -> None:
    code, output = mcpgen("new", str(tmp_path / "x"), "--example", "nope", "--yes")
    assert code != 0 and "no example 'nope'" in output and "journal" in output
    assert not (tmp_path / "x").exists()


def test_flags_override_the_spec(tmp_path: Path) -> None:
    target = tmp_path / "n"
    code, output = mcpgen(
        "new", str(target), "--spec", str(EXAMPLES / "notes.toml"), "--stateless", "--storage", "memory"
    )
    assert code == 0, output
    spec = load_spec(target / "mcpgen.toml")
    assert spec.server.stateless and spec.storage.backend == "memory"
    assert len(spec.tools) == 3


def test_new_asks_what_flags_leave_open(tmp_path: Path) -> None:
    answers = "\n".join(
        [
            "weather",  # name
            "Forecasts for any city.",  # description
            "htp",  # a typo, asked again
            "both",  # transport
            "y",  # stateless
            "static",  # auth
            "memory",  # storage
            "forecast",  # first tool
            "The forecast for a city.",
            "city",  # parameter 1
            "string",
            "Which city.",
            "days",  # parameter 2
            "integer",
            "How many days.",
            "",  # no more parameters
        ]
    )
    code, output = mcpgen("new", str(tmp_path / "w"), input=answers + "\n")
    assert code == 0, output
    assert "'htp' is not one of" in output
    data = tomllib.loads((tmp_path / "w" / "mcpgen.toml").read_text())
    assert data["server"] == {
        "name": "weather",
        "description": "Forecasts for any city.",
        "transport": "both",
        "stateless": True,
    }
    assert data["auth"] == {"provider": "static"}
    assert data["storage"] == {"backend": "memory"}
    assert [p["name"] for p in data["tools"][0]["params"]] == ["city", "days"]
    assert (tmp_path / "w" / "weather" / "tools" / "forecast.py").is_file()


def test_a_bad_spec_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nname = "x"\n\n[[tools]]\nname = "a b"\ndescription = "d"\n')
    code, output = mcpgen("new", str(tmp_path / "x"), "--spec", str(bad), "--yes")
    assert code == 2
    assert f"{bad}:5 tools[0].name: 'a b' must be 1-128 characters" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_provider_missing_its_settings_exits_2(tmp_path: Path) -> None:
    code, output = mcpgen("new", str(tmp_path / "x"), "--yes", "--auth", "entra")
    assert code == 2
    assert "auth.provider: provider 'entra' needs [auth] tenant" in output
    assert not any(tmp_path.iterdir())


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    code, output = mcpgen("new", str(tmp_path / "x"), "--yes")
    assert code == 2
    assert "already exists and is not empty" in output
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["keep.txt"]


def test_a_failed_render_leaves_nothing(tmp_path: Path, monkeypatch: object) -> None:
    import mcpgen.commands.new as new_command

    def broken(*args: object) -> None:
        raise RuntimeError("render failed")

    monkeypatch.setattr(new_command, "render", broken)  # type: ignore[attr-defined]
    with contextlib.suppress(RuntimeError):
        mcpgen("new", str(tmp_path / "x"), "--yes")
    assert not any(tmp_path.iterdir())


def test_check(tmp_path: Path) -> None:
    code, output = mcpgen("new", str(tmp_path / "x"), "--yes")
    assert code == 0
    code, output = mcpgen("check", str(tmp_path / "x"))
    assert code == 0 and "valid" in output
    spec = tmp_path / "x" / "mcpgen.toml"
    spec.write_text(spec.read_text().replace('name = "hello"', 'name = "hello world"'))
    code, output = mcpgen("check", str(tmp_path / "x"))
    assert code == 2
    assert "mcpgen.toml:6 tools[0].name:" in output


def test_schema_is_json_schema() -> None:
    code, output = mcpgen("schema")
    assert code == 0
    schema = json.loads(output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"server", "auth", "storage", "deploy", "tools", "resources", "prompts"} <= set(schema["properties"])


def test_new_with_an_identity_provider_says_what_to_register(tmp_path: Path) -> None:
    target = tmp_path / "n"
    code, output = mcpgen("new", str(target), "--yes", "--auth", "auth0", "--issuer", "https://t.us.auth0.com/")
    assert code == 0, output
    assert load_spec(target / "mcpgen.toml").auth.issuer == "https://t.us.auth0.com/"
    assert "must carry aud = PUBLIC_URL/mcp (http://127.0.0.1:8000/mcp now)" in output
    assert "Dynamic Client Registration" in (target / "README.md").read_text()


def test_an_identity_provider_without_an_issuer_exits_2(tmp_path: Path) -> None:
    code, output = mcpgen("new", str(tmp_path / "x"), "--yes", "--auth", "keycloak")
    assert code == 2
    assert "auth.provider: provider 'keycloak' needs [auth] issuer" in output
    assert not any(tmp_path.iterdir())


def test_the_issuer_is_asked_for_when_an_identity_provider_is_chosen(tmp_path: Path) -> None:
    answers = ["idp", "An IdP-backed server.", "http", "n", "oidc", "https://idp.example.com", "sqlite", ""]
    code, output = mcpgen("new", str(tmp_path / "i"), input="\n".join(answers) + "\n")
    assert code == 0, output
    data = tomllib.loads((tmp_path / "i" / "mcpgen.toml").read_text())
    assert data["auth"] == {"provider": "oidc", "issuer": "https://idp.example.com"}


def test_the_prompt_offers_the_proxies_and_every_backend(tmp_path: Path) -> None:
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    answers = ["corp", "A server for the directory.", "http", "y", "entra", tenant, "redis", ""]
    code, output = mcpgen("new", str(tmp_path / "e"), input="\n".join(answers) + "\n")
    assert code == 0, output
    data = tomllib.loads((tmp_path / "e" / "mcpgen.toml").read_text())
    assert data["auth"] == {"provider": "entra", "tenant": tenant}
    assert data["storage"] == {"backend": "redis"}
    assert "oidc-proxy" in output and "postgres" in output


def test_new_with_the_oauth_proxy_prints_the_callback_to_register(tmp_path: Path) -> None:
    target = tmp_path / "p"
    args = ["--auth", "oidc-proxy", "--issuer", "https://accounts.example.com", "--public-url", "https://t.example.com"]
    code, output = mcpgen("new", str(target), "--yes", *args)
    assert code == 0, output
    assert (
        "Register one redirect URI for the client at https://accounts.example.com: https://t.example.com/auth/callback"
        in output
    )
    env = (target / ".env").read_text()
    assert "OIDC_CLIENT_SECRET=change-me" in env and "JWT_SIGNING_KEY=" in env
    assert "https://t.example.com/auth/callback" in (target / "README.md").read_text()


def test_new_with_github_prints_where_to_register_and_who_gets_in(tmp_path: Path) -> None:
    target = tmp_path / "g"
    code, output = mcpgen("new", str(target), "--yes", "--auth", "github", "--public-url", "https://t.example.com")
    assert code == 0, output
    assert "Register one redirect URI for the client at GitHub (GitHub → Settings" in output
    assert ": https://t.example.com/auth/callback (PUBLIC_URL + /auth/callback)" in output
    assert "(GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET)" in output and "ALLOWED_USERS" in output
    env = (target / ".env").read_text()
    assert "GITHUB_CLIENT_SECRET=change-me\n" in env and "ALLOWED_USERS=\n" in env and "OIDC_" not in env
    readme = (target / "README.md").read_text()
    assert "https://t.example.com/auth/callback" in readme and "everyone who signs in gets every scope" in readme


def test_new_with_entra_prints_the_callback_and_the_api_to_expose(tmp_path: Path) -> None:
    spec = tmp_path / "mcpgen.toml"
    spec.write_text('[server]\nname = "e"\npublic_url = "https://t.example.com"\n\n[auth]\nscopes = ["notes:read"]\n')
    tenant = "00000000-0000-4000-8000-000000000000"
    code, output = mcpgen(
        "new", str(tmp_path / "e"), "--spec", str(spec), "--yes", "--auth", "entra", "--tenant", tenant
    )
    assert code == 0, output
    assert tomllib.loads((tmp_path / "e" / "mcpgen.toml").read_text())["auth"]["tenant"] == tenant
    assert "at Microsoft Entra ID (Entra admin center" in output and "https://t.example.com/auth/callback" in output
    assert "api://<client id>" in output and "notes:read" in output
    env = (tmp_path / "e" / ".env").read_text()
    assert "ENTRA_CLIENT_SECRET=change-me\n" in env and "OIDC_" not in env


def test_a_spec_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "notes.toml").read_bytes())
    code, output = mcpgen("new", str(tmp_path / "notes"), "--spec", str(spec), "--yes")
    assert code == 0, output


def test_a_spec_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b'[server]\nname = "x"\ndescription = "caf\xe9"\n')
    code, output = mcpgen("new", str(tmp_path / "x"), "--spec", str(spec), "--yes")
    assert code == 2 and f"{spec}:3: not UTF-8 text (byte 0xe9)" in output
    assert not (tmp_path / "x").exists()


def test_a_directory_that_cannot_be_made_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory\n")
    code, output = mcpgen("new", str(tmp_path / "taken" / "x"), "--spec", str(EXAMPLES / "notes.toml"), "--yes")
    assert code == 2 and "cannot create a directory in" in output and "nothing written" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_each_answer_is_checked_when_it_is_given(tmp_path: Path) -> None:
    answers = [
        "My Server",  # refused: the rule is said, and the question asked again
        "books",
        "",  # description: the default
        "http",
        "n",
        "builtin",
        "sqlite",
        "add book",  # refused at its prompt
        "add_book",
        "",  # its description
        "1st",  # not a Python identifier
        "store",  # reserved
        "title",
        "string",
        "",
        "",  # no more parameters
    ]
    code, output = mcpgen("new", str(tmp_path / "books"), input="\n".join(answers) + "\n")
    assert code == 0, output
    assert "'My Server' must be lowercase letters and digits" in output
    assert "'add book' must be 1-128 characters of A-Z a-z 0-9 _ - ." in output
    assert "'1st' must be a Python identifier" in output and "'store' is reserved by the generated code" in output
    data = tomllib.loads((tmp_path / "books" / "mcpgen.toml").read_text())
    assert data["tools"][0]["name"] == "add_book" and data["tools"][0]["params"][0]["name"] == "title"
    assert "Nobody can sign in yet: add the first account with `books users add NAME`." in output


def test_an_empty_tool_name_means_no_tools(tmp_path: Path) -> None:
    answers = ["quiet", "", "http", "n", "none", "sqlite", ""]
    code, output = mcpgen("new", str(tmp_path / "quiet"), input="\n".join(answers) + "\n")
    assert code == 0, output
    assert "tools" not in tomllib.loads((tmp_path / "quiet" / "mcpgen.toml").read_text())


def test_answers_that_fail_together_are_shown_by_question_and_kept(tmp_path: Path) -> None:
    answers = ["vault", "Secrets.", "http", "n", "builtin", "memory", ""]
    code, output = mcpgen("new", str(tmp_path / "vault"), input="\n".join(answers) + "\n")
    assert code == 2 and not (tmp_path / "vault").exists()
    assert 'error: your answers "Storage backend": the built-in authorization server keeps users' in output
    assert "Your answers, as a spec to fix and pass back with --spec FILE:" in output
    assert 'backend = "memory"' in output and 'description = "Secrets."' in output
