"""A generated project's own CI workflow, run as a fresh GitHub runner would run it.

actionlint checks every matrix combination's workflow (tests/test_render.py, where each is rendered).
Here a small "runner" plays the workflow of a representative set of projects: it clones the
project as `actions/checkout` would, makes a fresh venv for `actions/setup-python`, checks that the
services the job declares answer at their declared ports (this machine's Redis and PostgreSQL
stand in for the containers), and runs every step in order with bash, in an environment of only
the runner's variables and the workflow's own. Every step must pass, and pytest must skip nothing.

mcpgen itself comes from where the workflow says: MCPGEN_REQUIREMENT names a wheel built from this
checkout once per session, as a git URL at a commit would name a pushed one. The notes example is
made by that installed wheel, as a user would make it.

Sharing, for CI time: projects whose pyproject asks for the same packages share a venv, and all
plays share RUNNER_TEMP, so mcpgen's own venv is made once. The played matrix combinations' suites
do not run again in tests/test_render.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import yaml

from mcpgen import install_source

from .conftest import mcpgen, require_or_skip
from .test_render import PLAYED, spec_data

pytestmark = pytest.mark.slow

WORKFLOW = Path(".github/workflows/ci.yml")
# The actions the play knows, at the majors the template uses (both run on Node 24).
CHECKOUT = "actions/checkout@v7"
SETUP_PYTHON = "actions/setup-python@v7"
# The images this machine has a stand-in for, by name.
LOCAL_SERVICES = {"redis": "Redis", "postgres": "PostgreSQL"}
STEPS = ["Install", "Lint", "Format", "Type check", "Test", "Install mcpgen", "mcpgen check"]


def workflow(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / WORKFLOW).read_text())
    return loaded


@dataclass
class Runner:
    """What plays share: RUNNER_TEMP, and the venvs made so far by dependency set."""

    root: Path
    venvs: dict[str, Path] = field(default_factory=dict)

    @property
    def temp(self) -> Path:
        return self.root / "runner-temp"

    def env(self, home: Path, venv: Path | None) -> dict[str, str]:
        """A fresh runner's variables; pip's settings and cache are this machine's (its registry access)."""
        path = ":".join([*([str(venv / "bin")] if venv else []), "/usr/local/bin", "/usr/bin", "/bin"])
        env = {"PATH": path, "HOME": str(home), "RUNNER_TEMP": str(self.temp), "CI": "true", "GITHUB_ACTIONS": "true"}
        env |= {"LANG": "C.UTF-8", **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}}
        env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
        # Byte-compiling every installed package is most of an install's time; imports compile what they use.
        env.setdefault("PIP_COMPILE", "0")
        return env | ({"VIRTUAL_ENV": str(venv)} if venv else {})

    def venv(self, project: Path) -> Path:
        """A venv per dependency set: projects whose pyproject asks for the same packages share one."""
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
        key = repr((sorted(pyproject["dependencies"]), sorted(pyproject["optional-dependencies"]["dev"])))
        if key not in self.venvs:
            venv = self.root / f"venv-{len(self.venvs)}"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=self.env(self.root, None))
            self.venvs[key] = venv
        return self.venvs[key]


def check_services(job: dict[str, Any]) -> None:
    """Each declared service has a health check and answers at its host port (a stand-in here)."""
    for name, service in (job.get("services") or {}).items():
        image = str(service["image"])
        kind = image.split(":")[0]
        assert kind in LOCAL_SERVICES, f"no stand-in for the image {image}"
        assert str(service.get("options", "")).count("--health-cmd") == 1, f"service {name} has no health check"
        for mapping in service["ports"]:
            port = int(str(mapping).split(":")[0])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=3).close()
            except OSError as exc:
                require_or_skip(f"{LOCAL_SERVICES[kind]} is not at 127.0.0.1:{port} ({exc})")


class Play:
    """One run of the workflow's `test` job; `steps` records what each step printed, and how long it took."""

    def __init__(self, project: Path, workdir: Path, runner: Runner) -> None:
        self.project = project
        self.runner = runner
        self.flow = workflow(project)
        self.job: dict[str, Any] = self.flow["jobs"]["test"]
        self.home = workdir / "home"
        self.home.mkdir(parents=True)
        runner.temp.mkdir(parents=True, exist_ok=True)
        self.workspace = workdir / "workspace"
        self.venv: Path | None = None
        self.steps: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def env(self, step: dict[str, Any]) -> dict[str, str]:
        layers = [self.flow.get("env") or {}, self.job.get("env") or {}, step.get("env") or {}]
        return self.runner.env(self.home, self.venv) | {k: str(v) for layer in layers for k, v in layer.items()}

    def run(self, only: str | None = None) -> None:
        """Every step in order (or, with `only`, the checkout and that one step); the first failure fails the play."""
        check_services(self.job)
        for step in self.job["steps"]:
            name = str(step.get("name") or step.get("uses") or step["run"])
            if only is not None and name not in (only, CHECKOUT):
                continue
            started = time.monotonic()
            if "uses" in step:
                self.action(step)
            else:
                self.shell(name, step)
            self.seconds[name] = time.monotonic() - started

    def shell(self, name: str, step: dict[str, Any]) -> None:
        # GitHub's `bash` shell on Linux: bash --noprofile --norc -eo pipefail {0}.
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
        done = subprocess.run(
            command, cwd=self.workspace, env=self.env(step), capture_output=True, text=True, timeout=900
        )
        self.steps[name] = done.stdout + done.stderr
        assert done.returncode == 0, (
            f"step {name!r} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
        )

    def action(self, step: dict[str, Any]) -> None:
        uses = step["uses"]
        if uses == CHECKOUT:
            # fetch-depth 0: every branch, as remote-tracking refs; the work tree on the default branch.
            assert (step.get("with") or {}).get("fetch-depth") == 0
            clone = ["git", "clone", "--quiet", "--no-local", str(self.project), str(self.workspace)]
            subprocess.run(clone, check=True, env=self.runner.env(self.home, None))
        elif uses == SETUP_PYTHON:
            version = str(step["with"]["python-version"])
            assert version == f"{sys.version_info.major}.{sys.version_info.minor}", f"no Python {version} here"
            self.venv = self.runner.venv(self.project)
        else:
            raise AssertionError(f"the play does not know the action {uses}")


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("runner"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[tuple[str, str, str, str], str], Path]:
    """`mcpgen new` of a matrix combination (in this process), a git repository as a user would push it."""

    def make(combo: tuple[str, str, str, str], requirement: str) -> Path:
        folder = tmp_path_factory.mktemp("generated")
        spec = folder / "mcpgen.toml"
        spec.write_text(tomli_w.dumps(spec_data(*combo)))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(install_source.ENV, requirement)
            code, output = mcpgen("new", str(folder / "project"), "--spec", str(spec), "--yes")
        assert code == 0, output
        return folder / "project"

    return make


def installed_mcpgen(runner: Runner, wheel: Path) -> Path:
    """The wheel installed as the workflow's "Install mcpgen" step installs it (that step then finds it there)."""
    venv = runner.temp / "mcpgen"
    env = runner.env(runner.root, None)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], check=True, env=env)
    return venv / "bin" / "mcpgen"


def play(project: Path, workdir: Path, runner: Runner) -> Play:
    """The whole job; every step passes, the suite skips nothing, and mcpgen check finds the project as generated."""
    played = Play(project, workdir, runner)
    played.run()
    assert list(played.steps) == STEPS
    assert " passed" in played.steps["Test"] and "skipped" not in played.steps["Test"], played.steps["Test"][-3000:]
    assert "valid, and the project matches it" in played.steps["mcpgen check"]
    print(", ".join(f"{name} {seconds:.0f} s" for name, seconds in played.seconds.items()))
    return played


@pytest.mark.parametrize("combo", PLAYED, ids=["-".join(c) for c in PLAYED])
def test_the_workflow_passes_on_a_fresh_runner(
    combo: tuple[str, str, str, str],
    generated: Callable[[tuple[str, str, str, str], str], Path],
    mcpgen_wheel: Path,
    runner: Runner,
    tmp_path: Path,
) -> None:
    play(generated(combo, f"mcpgen @ {mcpgen_wheel.as_uri()}"), tmp_path, runner)


def test_the_notes_example_made_by_the_installed_wheel_passes_its_workflow(
    mcpgen_wheel: Path, runner: Runner, tmp_path: Path
) -> None:
    # As a user would: mcpgen from the wheel, run somewhere else, the example's spec and bodies from the wheel.
    tool = installed_mcpgen(runner, mcpgen_wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = runner.env(tmp_path, None) | {install_source.ENV: f"mcpgen @ {mcpgen_wheel.as_uri()}"}
    made = subprocess.run(
        [str(tool), "new", "notes", "--example", "notes", "--yes"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    play(elsewhere / "notes", tmp_path / "play", runner)


def test_a_project_from_a_local_checkout_says_what_to_do_in_ci(
    generated: Callable[[tuple[str, str, str, str], str], Path], tmp_path: Path
) -> None:
    # A render with no requirement a runner could reach: the workflow fails at that step, and says why.
    project = generated(("none", "memory", "stdio", "stateful"), "")
    assert workflow(project)["env"]["MCPGEN_REQUIREMENT"] == ""
    assert "from a local checkout of mcpgen" in (project / "README.md").read_text()
    played = Play(project, tmp_path, Runner(tmp_path / "runner"))
    with pytest.raises(AssertionError, match="generated this project from a local checkout or file"):
        played.run(only="Install mcpgen")


def test_the_workflow_never_runs_on_the_generated_branch(
    generated: Callable[[tuple[str, str, str, str], str], Path],
) -> None:
    # mcpgen/generated holds no mcpgen.toml, so `mcpgen check` could only fail there.
    flow = workflow(generated(("none", "memory", "stdio", "stateful"), "mcpgen==0.1.0"))
    on = flow[True]  # YAML 1.1 reads the key `on` as true
    assert on["push"]["branches-ignore"] == ["mcpgen/generated"]
    assert flow["env"]["MCPGEN_REQUIREMENT"] == "mcpgen==0.1.0"


def test_the_pre_commit_hooks_run(generated: Callable[[tuple[str, str, str, str], str], Path], tmp_path: Path) -> None:
    # The ruff hooks on the whole project, with the ruff beside this interpreter (as a project's venv has it).
    project = generated(("none", "memory", "stdio", "stateful"), "")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    for command in (
        ["validate-config", ".pre-commit-config.yaml"],
        ["run", "--all-files", "ruff"],
        ["run", "--all-files", "ruff-format"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "pre_commit", *command], cwd=project, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_a_pushed_checkout_is_installed_from_its_remote(tmp_path: Path) -> None:
    # A checkout whose HEAD a remote branch holds: the runner installs that commit from the remote.
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(origin), str(checkout))
    (checkout / "README").write_text("mcpgen\n")
    git(checkout, "add", "README")
    git(checkout, "commit", "--quiet", "-m", "first")
    git(checkout, "push", "--quiet", "origin", "HEAD")
    git(checkout, "fetch", "--quiet")
    head = git(checkout, "rev-parse", "HEAD")
    # A local bare repository is no URL a runner reaches; the one users have is like this.
    git(checkout, "remote", "set-url", "origin", "git@github.com:someone/mcpgen.git")
    assert install_source._pushed_checkout(checkout) == f"mcpgen @ git+ssh://git@github.com/someone/mcpgen.git@{head}"
    # A commit of its own (not pushed), or uncommitted changes: nothing a runner could install.
    (checkout / "README").write_text("changed\n")
    assert install_source._pushed_checkout(checkout) is None
    git(checkout, "commit", "--quiet", "-am", "second")
    assert install_source._pushed_checkout(checkout) is None


def test_install_records_name_what_a_runner_installs() -> None:
    vcs = {"url": "https://github.com/someone/mcpgen", "vcs_info": {"vcs": "git", "commit_id": "a" * 40}}
    assert install_source.from_record(install_source.DirectUrl.model_validate(vcs)) == (
        f"mcpgen @ git+https://github.com/someone/mcpgen@{'a' * 40}"
    )
    archive = {"url": "https://example.test/mcpgen-0.1.0.tar.gz", "archive_info": {"hashes": {"sha256": "b" * 64}}}
    assert install_source.from_record(install_source.DirectUrl.model_validate(archive)) == (
        f"mcpgen @ https://example.test/mcpgen-0.1.0.tar.gz#sha256={'b' * 64}"
    )
    assert install_source.from_record(None) == "mcpgen==0.1.0"
    # A wheel file on this machine: no runner reaches it.
    wheel = {"url": "file:///tmp/nowhere/mcpgen-0.1.0-py3-none-any.whl", "archive_info": {}}
    assert install_source.from_record(install_source.DirectUrl.model_validate(wheel)) is None
