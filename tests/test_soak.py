"""The short soak: bench/soak.py for 60 s on each store it can start (the 10-minute run is the benchmark).

Two replicas behind nginx on their own Redis or PostgreSQL, one replica killed and the store
restarted mid-run: no token a client holds may be refused, and no 5xx or error outside the fault
windows (the script's exit code says both).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, require_or_skip

NEEDS = {
    "redis": ["nginx", "redis-server"],
    "postgres": ["nginx", "/usr/lib/postgresql/*/bin/initdb"],
}


def installed(tool: str) -> bool:
    if "*" in tool:
        return any(Path("/").glob(tool.lstrip("/")))
    return bool(shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists())


@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", sorted(NEEDS))
def test_a_minute_of_faults_loses_no_token(backend: str) -> None:
    missing = [tool for tool in NEEDS[backend] if not installed(tool)]
    if missing:
        require_or_skip(f"the soak on {backend} needs {', '.join(missing)}")
    command = [sys.executable, str(ROOT / "bench" / "soak.py"), "--seconds", "60", "--backend", backend]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "lost tokens: 0;" in done.stdout, done.stdout
