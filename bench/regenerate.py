"""Time `mcpgen generate` after a one-tool change in a 50-tool project, against a fresh `mcpgen new`.

Run: python bench/regenerate.py [--runs N]

Both sides are fresh `python -m mcpgen` subprocesses on the same spec, interleaved round by
round (order swapped every other round); the table shows medians. Target: regenerate <= 2x new.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import tomli_w
from render import spec_data, timed

TARGET = 2.0
TOOLS = 50


def mcpgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcpgen", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds to take the median of (default 5)")
    args = parser.parse_args()
    regenerate: list[float] = []
    fresh: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mcpgen-bench-") as tmp:
        work = Path(tmp)
        data = spec_data(TOOLS)
        spec = work / "spec.toml"
        spec.write_text(tomli_w.dumps(data), encoding="utf-8")
        changed = work / "changed.toml"
        data["tools"][7]["description"] = "Benchmark tool number 7, described again."
        changed.write_text(tomli_w.dumps(data), encoding="utf-8")
        for round_no in range(args.runs):
            project = work / f"project-{round_no}"
            subprocess.run(mcpgen("new", str(project), "--spec", str(spec), "--yes"), check=True, capture_output=True)
            shutil.copy(changed, project / "mcpgen.toml")

            def run_regenerate(project: Path = project) -> None:
                regenerate.append(timed(mcpgen("generate", str(project))))

            def run_new(round_no: int = round_no) -> None:
                target = work / f"fresh-{round_no}"
                fresh.append(timed(mcpgen("new", str(target), "--spec", str(changed), "--yes")))
                shutil.rmtree(target)

            steps = [run_regenerate, run_new]
            for step in reversed(steps) if round_no % 2 else steps:
                step()
            shutil.rmtree(project)
            print(f"round {round_no + 1}/{args.runs} done", file=sys.stderr)
    ours, base = statistics.median(regenerate), statistics.median(fresh)
    verdict = "ok" if ours / base <= TARGET else "MISSED"
    print(f"median of {args.runs} interleaved runs, {TOOLS}-tool project, one tool's description changed\n")
    print(f"{'case':<34}{'generate':>10}{'new':>10}{'ratio':>8}  {'target':<8}verdict")
    print(f"{'regenerate vs fresh new':<34}{ours:>8.3f} s{base:>8.3f} s{ours / base:>7.2f}x  <= {TARGET}x   {verdict}")


if __name__ == "__main__":
    main()
