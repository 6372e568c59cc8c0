"""Time `mcpgen new` against a bare `copier copy` of the same template, `mcpgen check`, and `mcpgen --help`.

Run: python bench/render.py [--runs N]

Every measurement is a fresh subprocess of this interpreter, so both sides of each comparison pay
interpreter start-up and their imports. Rounds interleave the two sides (and swap their order every
other round) so that drift on a busy machine hits both alike; the table shows medians.
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
from typing import Any

import tomli_w

from mcpgen.render import template_dir
from mcpgen.specfile import validate_data
from mcpgen.template_data import copier_data

RENDER_TARGET = 0.6  # mcpgen new / copier copy
CHECK_TARGET = 0.5  # seconds for `mcpgen check` on the 50-tool project
STARTUP_TARGET = 0.4  # seconds for `mcpgen --help`
TOOL_COUNTS = (1, 50)

# The copier side: exactly the run_copy call mcpgen.render makes, with the data mcpgen would pass.
COPIER = """\
import json, sys
from copier import run_copy
data = json.loads(open(sys.argv[3], encoding="utf-8").read())
run_copy(sys.argv[1], sys.argv[2], data=data, defaults=True, overwrite=True, unsafe=True, quiet=True)
"""


def tool(i: int) -> dict[str, Any]:
    """A tool with 2 or 3 typed parameters (string, bounded integer, and every other tool a boolean)."""
    params: list[dict[str, Any]] = [
        {"name": "text", "type": "string", "description": "Some text.", "max_length": 500},
        {"name": "count", "type": "integer", "description": "How many.", "default": 1, "minimum": 1, "maximum": 99},
    ]
    if i % 2:
        params.append({"name": "loud", "type": "boolean", "required": False})
    return {"name": f"tool_{i:02d}", "description": f"Benchmark tool number {i}.", "params": params}


def spec_data(tools: int) -> dict[str, Any]:
    return {
        "server": {"name": f"bench-{tools}", "description": "A generated benchmark server."},
        "tools": [tool(i) for i in range(1, tools + 1)],
    }


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return elapsed


class Case:
    """One spec, written to `work`, with the commands that render it either way."""

    def __init__(self, work: Path, tools: int) -> None:
        data = spec_data(tools)
        spec = validate_data(data, f"{tools}-tool bench spec")
        self.label = f"render {tools} tool{'s' if tools > 1 else ''}"
        self.work = work
        self.spec_file = work / f"bench-{tools}.toml"
        self.spec_file.write_text(tomli_w.dumps(data), encoding="utf-8")
        self.data_file = work / f"bench-{tools}.json"
        self.data_file.write_text(json.dumps(copier_data(spec)), encoding="utf-8")
        self.mcpgen: list[float] = []
        self.copier: list[float] = []

    def run_mcpgen(self) -> None:
        dst = self.work / "out-mcpgen"
        cmd = [sys.executable, "-m", "mcpgen", "new", str(dst), "--spec", str(self.spec_file), "--yes"]
        self.mcpgen.append(timed(cmd))
        shutil.rmtree(dst)

    def run_copier(self) -> None:
        dst = self.work / "out-copier"
        cmd = [sys.executable, "-c", COPIER, str(template_dir()), str(dst), str(self.data_file)]
        self.copier.append(timed(cmd))
        shutil.rmtree(dst)


def row(label: str, ours: float, base: float, target: str, ok: bool) -> str:
    verdict = "ok" if ok else "MISSED"
    return f"{label:<24}{ours:>9.3f} s{base:>9.3f} s{ours / base:>8.2f}x  {target:<10}{verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds to take the median of (default 5)")
    args = parser.parse_args()

    help_times: list[float] = []
    pass_times: list[float] = []
    check_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mcpgen-bench-") as tmp:
        cases = [Case(Path(tmp), n) for n in TOOL_COUNTS]
        checked = Path(tmp) / "checked"  # the 50-tool project, as CI checks it on every push
        timed([sys.executable, "-m", "mcpgen", "new", str(checked), "--spec", str(cases[-1].spec_file), "--yes"])
        check = [sys.executable, "-m", "mcpgen", "check", str(checked)]
        for round_no in range(args.runs):
            swap = round_no % 2 == 1
            for case in cases:
                pair = [case.run_mcpgen, case.run_copier]
                for step in reversed(pair) if swap else pair:
                    step()
            pair_cmds = [
                (help_times, [sys.executable, "-m", "mcpgen", "--help"]),
                (check_times, check),
                (pass_times, [sys.executable, "-c", "pass"]),
            ]
            for times, cmd in reversed(pair_cmds) if swap else pair_cmds:
                times.append(timed(cmd))
            print(f"round {round_no + 1}/{args.runs} done", file=sys.stderr)

    median = statistics.median
    print(f"median of {args.runs} interleaved runs; every run is a fresh `{Path(sys.executable).name}` subprocess,")
    print("so both columns pay interpreter start-up and imports (a fair comparison).")
    print("mcpgen new = copier + ruff format + git init + .env; copier = bare run_copy, same template and data.")
    print("check = `mcpgen check` of an unchanged 50-tool project (what its CI runs on every push).\n")
    print(f"{'case':<24}{'mcpgen':>11}{'baseline':>11}{'ratio':>9}  {'target':<10}verdict")
    for case in cases:
        ours, base = median(case.mcpgen), median(case.copier)
        print(row(case.label, ours, base, f"<= {RENDER_TARGET}x", ours / base <= RENDER_TARGET))
    ours, base = median(help_times), median(pass_times)
    print(row("--help vs python -c pass", ours, base, f"< {STARTUP_TARGET} s", ours < STARTUP_TARGET))
    ours = median(check_times)
    print(row("check 50 tools vs pass", ours, base, f"<= {CHECK_TARGET} s", ours <= CHECK_TARGET))


if __name__ == "__main__":
    main()
