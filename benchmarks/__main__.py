"""Run bestbot's benchmarks and evaluations, one after another, each in its own process.

    .venv/bin/python -m benchmarks                 # every bench_*.py and eval_*.py, full size
    .venv/bin/python -m benchmarks --quick         # quick modes and the evaluations
    .venv/bin/python -m benchmarks delivery crash  # only names containing these words
    .venv/bin/python -m benchmarks --list

A script takes part when its file name starts with ``bench_`` or ``eval_`` and it has a
``main()``; it "offers --quick" when its source declares that option. With ``--quick`` those
run in quick mode, the ``eval_*`` scripts (one pass over a labelled dev set, seconds) run as
they are, and any other benchmark is skipped. Each runs as ``python benchmarks/<name>.py
[--quick]`` from the repository root, so a crash or a failed assertion in one never stops the
others; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass(frozen=True)
class Script:
    path: Path
    quick: bool  # offers --quick

    @property
    def name(self) -> str:
        return self.path.stem


def discover(directory: Path = HERE) -> list[Script]:
    """The runnable benchmark and evaluation scripts, in name order (benches first)."""
    found = []
    for path in sorted(directory.glob("*.py")):
        if not path.stem.startswith(("bench_", "eval_")):
            continue
        source = path.read_text(encoding="utf-8")
        if "def main(" not in source:
            continue
        found.append(Script(path, quick='"--quick"' in source))
    return sorted(found, key=lambda s: (not s.name.startswith("bench_"), s.name))


def select(scripts: list[Script], words: list[str], quick: bool) -> list[tuple[Script, str]]:
    """(script, why it is skipped or "") for the scripts matching ``words``."""
    chosen = []
    for script in scripts:
        if words and not any(w in script.name for w in words):
            continue
        fast = script.quick or script.name.startswith("eval_")
        skip = "no --quick mode" if quick and not fast else ""
        chosen.append((script, skip))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("names", nargs="*", help="run only scripts whose name contains one")
    parser.add_argument("--quick", action="store_true", help="quick modes and the evaluations")
    parser.add_argument("--list", action="store_true", help="list the scripts and exit")
    args = parser.parse_args(argv)
    plan = select(discover(), args.names, args.quick)
    if args.list:
        for script, skip in plan:
            print(f"{script.name:<20} {'--quick' if script.quick else '':<8} {skip}")
        return 0
    if not plan:
        print("no benchmark matches", args.names, file=sys.stderr)
        return 2
    results: list[tuple[str, str, float]] = []
    for script, skip in plan:
        if skip:
            results.append((script.name, f"skipped ({skip})", 0.0))
            continue
        quick = args.quick and script.quick
        cmd = [sys.executable, str(script.path)] + (["--quick"] if quick else [])
        print(f"\n=== {script.name}: {' '.join(Path(c).name for c in cmd[1:])}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call(cmd, cwd=REPO)
        elapsed = time.perf_counter() - start
        results.append((script.name, "ok" if rc == 0 else f"FAILED (exit {rc})", elapsed))
    print("\n=== summary")
    for name, outcome, elapsed in results:
        print(f"{name:<20} {outcome:<26} {elapsed:7.1f} s")
    return 1 if any(outcome.startswith("FAILED") for _, outcome, _ in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
