"""`mcpgen generate`, `plan` and `check` on a project the user has edited, in temporary git repos."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mcpgen.vcs import PRISTINE_BRANCH, git, status

from .conftest import mcpgen, run_project_tests, run_tool, service_env

SPEC = """\
[server]
name = "shop"
description = "A small shop."

[[tools]]
name = "a"
description = "Tool a."
returns = "object"

  [[tools.params]]
  name = "item"
  type = "string"

[[tools]]
name = "b"
description = "Tool b."
"""
USER_BODY = '    return {"user": "body of a", "item": item}\n'
USER_HELPER = '\n\ndef helper_of_a() -> str:\n    return "mine"\n'
USER_PARAGRAPH = "Our team runs this in the staging cluster.\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def make_project(tmp_path: Path) -> Path:
    """A generated project with the user's edits committed: a's body and a helper, a README paragraph."""
    (tmp_path / "spec.toml").write_text(SPEC)
    code, output = mcpgen("new", str(tmp_path / "shop"), "--spec", str(tmp_path / "spec.toml"), "--yes")
    assert code == 0, output
    root = tmp_path / "shop"
    module = root / "shop" / "tools" / "a.py"
    text = module.read_text()
    body = text[text.index("    # Example body") :]
    module.write_text(text.replace(body, USER_BODY) + USER_HELPER)
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("## Run it", USER_PARAGRAPH + "\n## Run it"))
    git(root, "commit", "--quiet", "-am", "Implement a; note the cluster")
    return root


def edit_spec(root: Path, change: Callable[[str], str]) -> None:
    spec = root / "mcpgen.toml"
    spec.write_text(change(spec.read_text()))


def user_edits_intact(root: Path, tool_a: bool = True) -> None:
    if tool_a:
        module = (root / "shop" / "tools" / "a.py").read_text()
        assert USER_BODY in module and USER_HELPER.strip() in module
    assert USER_PARAGRAPH in (root / "README.md").read_text()


def generate(root: Path) -> str:
    code, output = mcpgen("generate", str(root))
    assert code == 0, output
    assert status(root) == []
    return output


def check_clean(root: Path) -> None:
    code, output = mcpgen("check", str(root))
    assert code == 0, output


def add_tool_c(text: str) -> str:
    return text + '\n[[tools]]\nname = "c"\ndescription = "Tool c."\nreturns = "integer"\n'


def add_param_to_a(text: str) -> str:
    return text.replace(
        '  name = "item"\n  type = "string"\n',
        '  name = "item"\n  type = "string"\n\n  [[tools.params]]\n  name = "count"\n  type = "integer"\n  default = 1\n',
    )


def test_adding_a_tool(project: Path) -> None:
    edit_spec(project, add_tool_c)
    output = generate(project)
    assert "shop/tools/c.py" in output
    assert (project / "shop" / "tools" / "c.py").is_file()
    assert '"c"' in (project / "shop" / "registry.py").read_text()
    user_edits_intact(project)
    check_clean(project)
    result = run_project_tests(project)
    assert result.returncode == 0, result.stdout[-3000:]


def test_changing_a_description(project: Path) -> None:
    edit_spec(project, lambda t: t.replace('description = "Tool b."', 'description = "Tool b, described better."'))
    output = generate(project)
    assert "Added to .env" not in output and "dependencies changed" not in output
    assert "Tool b, described better." in (project / "shop" / "registry.py").read_text()
    user_edits_intact(project)
    check_clean(project)
    result = run_project_tests(project, "tests/test_tools.py")
    assert result.returncode == 0, result.stdout[-3000:]


def test_adding_a_parameter_reaches_the_users_signature(project: Path) -> None:
    edit_spec(project, add_param_to_a)
    generate(project)
    module = (project / "shop" / "tools" / "a.py").read_text()
    assert re.search(r"count: int,", module)
    user_edits_intact(project)
    check_clean(project)
    result = run_project_tests(project, "-k", "tool_a or tools")
    assert result.returncode == 0, result.stdout[-3000:]


def test_removing_tools_removes_unedited_files_and_keeps_edited_ones(project: Path) -> None:
    edit_spec(project, lambda t: t[: t.index("[[tools]]")] + '[[tools]]\nname = "c"\ndescription = "Tool c."\n')
    output = generate(project)
    assert not (project / "shop" / "tools" / "b.py").exists()
    assert not (project / "tests" / "test_tool_b.py").exists()
    assert not (project / "tests" / "test_tool_a.py").exists()
    assert "shop/tools/a.py (kept: the spec no longer makes it, but you edited it)" in output
    user_edits_intact(project)  # a.py stays, with the user's code
    assert '"a"' not in (project / "shop" / "registry.py").read_text()
    result = run_project_tests(project)
    assert result.returncode == 0, result.stdout[-3000:]


def test_switching_storage_to_postgres(project: Path) -> None:
    edit_spec(project, lambda t: t + '\n[storage]\nbackend = "postgres"\n')
    generate(project)
    assert "PostgreSQLStore" in (project / "shop" / "storage.py").read_text()
    assert "compose.yaml" in git(project, "diff", "--name-only", "HEAD~2", "HEAD").stdout
    user_edits_intact(project)
    check_clean(project)
    result = run_project_tests(project, "tests/test_storage.py", env=service_env("postgres"))
    assert result.returncode == 0, result.stdout[-3000:]


def test_switching_auth_to_the_builtin_authorization_server(project: Path) -> None:
    env = project / ".env"
    env.write_text(env.read_text() + "LOG_LEVEL=DEBUG\n")
    edit_spec(project, lambda t: t + '\n[auth]\nprovider = "builtin"\n')
    output = generate(project)
    assert "Added to .env with fresh values: JWT_SIGNING_KEY" in output
    assert 'The dependencies changed: reinstall with `pip install -e ".[dev]"`.' in output
    settings = env.read_text()
    assert settings.count("JWT_SIGNING_KEY=") == 1 and "LOG_LEVEL=DEBUG" in settings
    assert "BuiltinAuthorizationServer" in (project / "shop" / "auth.py").read_text()
    assert (project / "shop" / "oauth" / "provider.py").is_file()
    user_edits_intact(project)
    check_clean(project)
    # The official client signs in to the regenerated server and calls its tools; the authorization server's
    # whole suite runs in the render matrix.
    signs_in = "tests/test_oauth.py::test_the_official_client_signs_in_and_calls_tools"
    result = run_project_tests(project, signs_in, "tests/test_auth.py", "tests/test_tools.py")
    assert result.returncode == 0, result.stdout[-3000:]


def test_upgrading_mcpgen_brings_template_changes(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer mcpgen whose template changes the generated wiring and adds a file."""
    import mcpgen.render

    newer = tmp_path / "template-next"
    shutil.copytree(mcpgen.render.template_dir(), newer)
    app = newer / "project" / "{{ project.package }}" / "app.py.jinja"
    app.write_text(
        app.read_text().replace("NAME = {{ project.name | py }}", "NAME = {{ project.name | py }}\nWIRING_VERSION = 2")
    )
    (newer / "project" / "CHANGELOG.md").write_text("# Changes\n")
    monkeypatch.setattr(mcpgen.render, "template_dir", lambda: newer)
    output = generate(project)
    assert "CHANGELOG.md" in output
    assert "WIRING_VERSION = 2" in (project / "shop" / "app.py").read_text()
    user_edits_intact(project)
    check_clean(project)
    result = run_project_tests(project, "tests/test_tools.py")
    assert result.returncode == 0, result.stdout[-3000:]


def test_check_sees_a_newer_template_behind_an_unchanged_spec(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check skips the render when the last generate's Render-Key matches; a changed template must not match."""
    import mcpgen.render as render_module

    check_clean(project)
    newer = tmp_path / "template-next"
    shutil.copytree(render_module.template_dir(), newer)
    readme = newer / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nOne more line.\n")
    monkeypatch.setattr(render_module, "template_dir", lambda: newer)
    code, output = mcpgen("check", str(project))
    assert code == 1 and "stale" in output and "README.md" in output, output


def test_a_true_conflict_is_a_git_conflict(project: Path) -> None:
    # The user and the spec change the same line: a's signature.
    module = project / "shop" / "tools" / "a.py"
    module.write_text(module.read_text().replace("    item: str,\n", "    item: str,  # an item id\n"))
    git(project, "commit", "--quiet", "-am", "Document item")
    edit_spec(project, lambda t: t.replace('  name = "item"\n  type = "string"', '  name = "item"\n  type = "integer"'))
    code, output = mcpgen("plan", str(project))
    assert code == 0 and "Would conflict:\n  shop/tools/a.py" in output
    code, output = mcpgen("generate", str(project))
    assert code == 1
    assert "shop/tools/a.py" in output and "git merge --abort" in output
    assert "<<<<<<<" in module.read_text()
    assert git(project, "ls-files", "-u", "--", "shop/tools/a.py").stdout
    code, output = mcpgen("check", str(project))
    assert code == 1 and "unmerged files" in output
    git(project, "merge", "--abort")
    assert "<<<<<<<" not in module.read_text()
    code, output = mcpgen("check", str(project))
    assert code == 1 and "stale:" in output


def test_plan_writes_nothing(project: Path) -> None:
    edit_spec(project, add_tool_c)
    before = {ref: git(project, "rev-parse", ref).stdout for ref in ("HEAD", PRISTINE_BRANCH)}
    code, output = mcpgen("plan", str(project))
    assert code == 0
    assert "Would change:" in output and "shop/tools/c.py" in output
    assert {ref: git(project, "rev-parse", ref).stdout for ref in before} == before
    assert status(project) == [" M mcpgen.toml"]
    assert not (project / "shop" / "tools" / "c.py").exists()


def test_nothing_to_do(project: Path) -> None:
    output = generate(project)
    assert "Up to date" in output


def test_a_dirty_tree_is_refused(project: Path) -> None:
    (project / "shop" / "tools" / "a.py").write_text("# half done\n")
    code, output = mcpgen("generate", str(project))
    assert code == 2
    assert "uncommitted changes" in output and "shop/tools/a.py" in output
    assert (project / "shop" / "tools" / "a.py").read_text() == "# half done\n"


def test_drift_is_reported(project: Path) -> None:
    registry = project / "shop" / "registry.py"
    registry.write_text(registry.read_text() + "# hand edit\n")
    code, output = mcpgen("check", str(project))
    assert code == 1
    assert "drift: generated files edited by hand" in output and "shop/registry.py" in output


def test_the_users_own_pre_commit_hooks_are_kept_and_not_drift(project: Path) -> None:
    hooks = project / ".pre-commit-config.yaml"
    mine = "      - id: codespell\n        name: codespell\n        entry: codespell\n        language: system\n"
    hooks.write_text(hooks.read_text() + mine)
    git(project, "commit", "--quiet", "-am", "Spell-check too")
    check_clean(project)
    edit_spec(project, add_tool_c)
    generate(project)
    assert hooks.read_text().endswith(mine)
    check_clean(project)


def test_a_clone_without_the_pristine_branch_is_told_how_to_fetch_it(project: Path) -> None:
    git(project, "branch", "-D", PRISTINE_BRANCH)
    edit_spec(project, add_tool_c)
    code, output = mcpgen("generate", str(project))
    assert code == 2
    assert f"git fetch origin {PRISTINE_BRANCH}:{PRISTINE_BRANCH}" in output
    assert status(project) == [" M mcpgen.toml"]  # nothing was committed either


def edit_registry_description(root: Path, tool: str, text: str) -> None:
    """A hand edit of a generated file, committed: the user changed a tool's description in registry.py."""
    registry = root / "shop" / "registry.py"
    source = registry.read_text()
    assert f'"Tool {tool}."' in source
    registry.write_text(source.replace(f'"Tool {tool}."', f'"{text}"'))
    git(root, "commit", "--quiet", "-am", f"Describe {tool} by hand")


def test_a_change_merged_into_an_edited_file_is_reported(project: Path) -> None:
    edit_registry_description(project, "a", "Tool a, as the team says it.")
    edit_spec(project, lambda t: t.replace('description = "Tool b."', 'description = "Tool b, renamed."'))
    code, output = mcpgen("plan", str(project))
    assert code == 0 and "Up to date" not in output
    assert "shop/registry.py (merged with your edits)" in output
    output = generate(project)
    assert "Up to date" not in output and "shop/registry.py (merged with your edits)" in output
    registry = (project / "shop" / "registry.py").read_text()
    assert "Tool a, as the team says it." in registry and "Tool b, renamed." in registry


def test_a_conflict_alone_is_listed_with_the_way_back(project: Path) -> None:
    edit_registry_description(project, "b", "Tool b, as the team says it.")
    edit_spec(project, lambda t: t.replace('description = "Tool b."', 'description = "Tool b, from the spec."'))
    code, output = mcpgen("plan", str(project))
    assert code == 0 and "Up to date" not in output and "Would conflict:\n  shop/registry.py" in output
    code, output = mcpgen("generate", str(project))
    assert code == 1 and "Up to date" not in output
    assert "Conflicts" in output and "  shop/registry.py" in output
    # mcpgen committed the spec change before merging: the way back undoes that commit too.
    assert "git merge --abort && git reset --soft HEAD~1" in output
    git(project, "merge", "--abort")
    git(project, "reset", "--soft", "HEAD~1")
    assert status(project) == ["M  mcpgen.toml"]


def test_files_mcpgen_never_generated_are_the_users(project: Path) -> None:
    (project / "LICENSE").write_text("MIT\n")
    (project / "shop" / "notebook.py").write_text('"""The team\'s helpers."""\n')
    (project / "tests" / "test_shop_flow.py").write_text("def test_flow() -> None:\n    assert True\n")
    git(project, "add", ".")
    git(project, "commit", "--quiet", "-m", "Add a license, a helper module and a flow test")
    check_clean(project)
    (project / "shop" / "app.py").unlink()
    git(project, "commit", "--quiet", "-am", "Remove a generated module")
    code, output = mcpgen("check", str(project))
    assert code == 1 and "drift" in output and "shop/app.py" in output
    assert "notebook.py" not in output and "LICENSE" not in output


def test_generate_commits_as_the_user_and_runs_their_hooks(project: Path) -> None:
    git(project, "config", "user.name", "Ada Lovelace")
    git(project, "config", "user.email", "ada@example.com")
    hooks = project / ".git" / "hooks"
    for hook in ("pre-commit", "pre-merge-commit"):
        (hooks / hook).write_text(f"#!/bin/sh\necho ran >> {hook}.ran\n")
        (hooks / hook).chmod(0o755)
    (project / ".git" / "info" / "exclude").write_text("*.ran\n")
    edit_spec(project, add_tool_c)
    generate(project)
    authors = git(project, "log", "-2", "--first-parent", "--format=%an <%ae>|%cn").stdout.splitlines()
    assert authors == ["Ada Lovelace <ada@example.com>|Ada Lovelace"] * 2
    assert (project / "pre-commit.ran").exists() and (project / "pre-merge-commit.ran").exists()
    # What mcpgen rendered stays mcpgen's.
    assert git(project, "log", "-1", "--format=%an", PRISTINE_BRANCH).stdout.strip() == "mcpgen"


def rename_a_to_renamed(text: str, marker: bool = True) -> str:
    renamed = 'name = "renamed_a"\nrenamed_from = "a"' if marker else 'name = "renamed_a"'
    return text.replace('name = "a"\n', renamed + "\n", 1)


def test_a_renamed_tool_keeps_its_body(project: Path) -> None:
    edit_spec(project, rename_a_to_renamed)
    code, output = mcpgen("plan", str(project))
    assert code == 0 and "shop/tools/a.py -> shop/tools/renamed_a.py" in output
    assert "Would conflict" not in output
    output = generate(project)
    assert "shop/tools/a.py -> shop/tools/renamed_a.py" in output
    assert not (project / "shop" / "tools" / "a.py").exists()
    module = (project / "shop" / "tools" / "renamed_a.py").read_text()
    assert USER_BODY in module and USER_HELPER.strip() in module
    assert "async def renamed_a(" in module and "def a(" not in module
    assert 'call_tool("renamed_a"' in (project / "tests" / "test_tool_renamed_a.py").read_text()
    check_clean(project)
    # Later spec changes merge into the moved body as into any other.
    edit_spec(project, add_param_to_a)
    generate(project)
    module = (project / "shop" / "tools" / "renamed_a.py").read_text()
    assert USER_BODY in module and "count: int," in module
    check_clean(project)


def test_a_rename_without_renamed_from_says_where_the_body_is(project: Path) -> None:
    edit_spec(project, lambda t: rename_a_to_renamed(t, marker=False))
    output = generate(project)
    assert "No tool calls shop/tools/a.py any more" in output and "renamed_from" in output
    assert USER_BODY in (project / "shop" / "tools" / "a.py").read_text()


def test_renamed_from_must_name_a_tool_that_is_gone(tmp_path: Path) -> None:
    spec = tmp_path / "mcpgen.toml"
    spec.write_text(SPEC.replace('name = "b"\n', 'name = "b"\nrenamed_from = "a"\n'))
    code, output = mcpgen("new", str(tmp_path / "shop"), "--spec", str(spec), "--yes")
    assert code == 2 and "renamed_from" in output and "still has" in output
    assert not (tmp_path / "shop").exists()


# mcpgen's last commit before bodies could ask for the caller and context (issue #13).
PREVIOUS_TEMPLATE = "41be104c32de83a487ddfda1814de38c6e1f8773"
ROOT = Path(__file__).resolve().parent.parent


def test_a_project_of_the_previous_template_regenerates_onto_the_new_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendered by the template before calls.py and extend.py, edited, then regenerated by this mcpgen:
    the bodies are kept untouched, and a body can then ask for the caller and type-check."""
    import mcpgen.render

    current = mcpgen.render.template_dir()
    if git(ROOT, "cat-file", "-e", f"{PREVIOUS_TEMPLATE}^{{commit}}", check=False).returncode != 0:
        pytest.skip(f"this clone lacks the commit {PREVIOUS_TEMPLATE} (a shallow clone)")
    previous = tmp_path / "previous"
    previous.mkdir()
    archive = git(ROOT, "archive", "--format=tar", "-o", str(tmp_path / "previous.tar"), PREVIOUS_TEMPLATE, "template")
    assert archive.returncode == 0
    shutil.unpack_archive(tmp_path / "previous.tar", previous)
    monkeypatch.setattr(mcpgen.render, "template_dir", lambda: previous / "template")
    root = make_project(tmp_path)
    assert not (root / "shop" / "calls.py").exists()
    monkeypatch.setattr(mcpgen.render, "template_dir", lambda: current)

    output = generate(root)
    assert "calls.py" in output and "extend.py" in output
    user_edits_intact(root)
    check_clean(root)

    # The user now asks for the caller in a's signature; a's body is theirs, so it type-checks as it stands.
    module = root / "shop" / "tools" / "a.py"
    text = module.read_text().replace("    item: str,\n", "    item: str,\n    caller: Caller,\n")
    text = text.replace(USER_BODY, '    return {"user": caller.subject, "item": item}\n')
    module.write_text(text.replace("from key_value", "from ..calls import Caller\nfrom key_value", 1))
    git(root, "commit", "--quiet", "-am", "a knows its caller")
    check_clean(root)
    typed = run_tool(root, "mypy")
    assert typed.returncode == 0, typed.stdout + typed.stderr
    result = run_project_tests(root, "tests/test_tool_a.py", "tests/test_calls.py")
    assert result.returncode == 0, result.stdout[-3000:]
