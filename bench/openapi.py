"""Time `mcpgen add openapi` on a large real document against openapi-mcp-generator on the same one.

Run: python bench/openapi.py [--runs N]

The document is GitHub's own (npm @octokit/openapi, api.github.com.json: about 1,200 operations).
mcpgen's side is what a user runs: `mcpgen add openapi DOC --skip-unsupported` in a fresh project
(import, spec edit, render of a module and a test per tool, ruff, the git commits and merge).
The other side is the npm `openapi-mcp-generator` CLI, which writes one TypeScript file (it neither
builds nor formats nor type-checks it). Rounds interleave the two and swap their order every other
round, so a busy machine slows both alike; the table shows medians. Both packages are installed
once under .cache/ (node and npm needed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"@octokit/openapi": "23.0.2", "openapi-mcp-generator": "4.0.1"}
PREFIX = ROOT / ".cache" / "bench-openapi"
DOCUMENT = PREFIX / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"


def install() -> None:
    wanted = [f"{name}@{version}" for name, version in PACKAGES.items()]
    installed = all(
        (PREFIX / "node_modules" / name / "package.json").is_file()
        and json.loads((PREFIX / "node_modules" / name / "package.json").read_text())["version"] == version
        for name, version in PACKAGES.items()
    )
    if not installed:
        npm = shutil.which("npm") or sys.exit("npm is needed")
        subprocess.run([npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", *wanted], check=True)


def mcpgen_side(scratch: Path) -> tuple[float, int]:
    project = scratch / "gh"
    mcpgen = [sys.executable, "-m", "mcpgen"]
    subprocess.run([*mcpgen, "new", str(project), "--yes", "--tool", ""], check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run(
        [*mcpgen, "add", "openapi", str(DOCUMENT), "--skip-unsupported", "--project", str(project)],
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    return elapsed, int(done.stdout.split(" operations", 1)[0])


def generator_side(scratch: Path) -> tuple[float, int]:
    cli = PREFIX / "node_modules" / ".bin" / "openapi-mcp-generator"
    out = scratch / "omg"
    start = time.perf_counter()
    subprocess.run(
        [str(cli), "--input", str(DOCUMENT), "--output", str(out), "--force"], check=True, capture_output=True
    )
    elapsed = time.perf_counter() - start
    source = (out / "src" / "index.ts").read_text(encoding="utf-8")
    return elapsed, source.count("inputSchema:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    runs = parser.parse_args().runs
    install()
    operations = sum(
        1
        for item in json.loads(DOCUMENT.read_text())["paths"].values()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    )
    times: dict[str, list[float]] = {"mcpgen add openapi": [], "openapi-mcp-generator": []}
    tools: dict[str, int] = {}
    for round_number in range(runs):
        sides = [("mcpgen add openapi", mcpgen_side), ("openapi-mcp-generator", generator_side)]
        for name, side in sides if round_number % 2 == 0 else reversed(sides):
            with tempfile.TemporaryDirectory(prefix="bench-openapi-") as scratch:
                elapsed, count = side(Path(scratch))
            times[name].append(elapsed)
            tools[name] = count
    print(f"GitHub's api.github.com.json: {operations} operations; median of {runs} run(s)")
    for name, values in times.items():
        print(f"  {name:<24} {statistics.median(values):7.2f} s   {tools[name]} tools")
    ratio = statistics.median(times["mcpgen add openapi"]) / statistics.median(times["openapi-mcp-generator"])
    print(f"  ratio mcpgen / openapi-mcp-generator: {ratio:.1f}")


if __name__ == "__main__":
    main()
