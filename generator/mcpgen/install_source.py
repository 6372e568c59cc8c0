"""Where this mcpgen was installed from, as a pip requirement a CI runner can install again.

A generated project's workflow runs `mcpgen check`, so it installs mcpgen: the same source at the
same version that generated the project, or the check reports the workflow itself as stale. The
source is read from the install record of PEP 610 (`direct_url.json`,
https://packaging.python.org/en/latest/specifications/direct-url-data-structure/):

- a VCS install (`pip install git+https://...`): that URL at the commit it resolved to;
- an archive at an http(s) URL: that URL, with its hash when pip recorded one;
- no record: installed from an index by name, so `mcpgen==<version>`;
- a local checkout or file: the checkout's git remote at HEAD when the work tree is clean and a
  remote branch contains HEAD; otherwise nothing a runner could reach (None).

`MCPGEN_REQUIREMENT` in the environment overrides all of this. The generated workflow sets it to
the requirement it installs, so `mcpgen check` there renders exactly what was generated.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel

from mcpgen import __version__

ENV = "MCPGEN_REQUIREMENT"


class _VcsInfo(BaseModel):
    vcs: str
    commit_id: str


class _ArchiveInfo(BaseModel):
    hash: str | None = None
    hashes: dict[str, str] = {}


class DirectUrl(BaseModel):
    """The fields of direct_url.json this module reads."""

    url: str
    vcs_info: _VcsInfo | None = None
    archive_info: _ArchiveInfo | None = None


def requirement() -> str | None:
    """The pip requirement for this mcpgen (see the module docstring), or None when a runner cannot reach it."""
    if override := os.environ.get(ENV, "").strip():
        return override
    return _detected()


@cache
def _detected() -> str | None:
    """Once per process: it asks importlib and, for a checkout, git."""
    return from_record(_direct_url())


def from_record(record: DirectUrl | None) -> str | None:
    """The requirement for an install `record` (None: installed from an index by name)."""
    if record is None:
        return f"mcpgen=={__version__}"
    if record.vcs_info is not None:
        return f"mcpgen @ {record.vcs_info.vcs}+{record.url}@{record.vcs_info.commit_id}"
    scheme = urlsplit(record.url).scheme
    if scheme in ("http", "https"):
        info = record.archive_info or _ArchiveInfo()
        digest = next(iter(info.hashes.items()), None)
        fragment = f"#{digest[0]}={digest[1]}" if digest else (f"#{info.hash}" if info.hash else "")
        return f"mcpgen @ {record.url}{fragment}"
    if scheme == "file":
        return _pushed_checkout(Path(unquote(urlsplit(record.url).path)))
    return None


def _direct_url() -> DirectUrl | None:
    """This distribution's PEP 610 record; an egg-info of a source tree has none and is passed over."""
    for dist in metadata.distributions(name="mcpgen"):
        if text := dist.read_text("direct_url.json"):
            return DirectUrl.model_validate(json.loads(text))
    return None


def _pushed_checkout(path: Path) -> str | None:
    """`mcpgen @ git+<remote>@<HEAD>` for a clean git checkout whose HEAD a remote branch holds."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    if not path.is_dir() or git("status", "--porcelain") != "":
        return None
    remotes = git("branch", "--remotes", "--contains", "HEAD")
    head = git("rev-parse", "HEAD")
    if not remotes or not head:
        return None
    remote = remotes.splitlines()[0].strip().split("/", 1)[0]
    url = git("remote", "get-url", remote)
    if not url:
        return None
    # scp-like `git@host:owner/repo` is not a URL pip reads.
    if scp := re.fullmatch(r"([\w.-]+@[\w.-]+):(.+)", url):
        url = f"ssh://{scp[1]}/{scp[2]}"
    if urlsplit(url).scheme not in ("https", "ssh"):
        return None
    return f"mcpgen @ git+{url}@{head}"
