"""Releases parsed per second on the bundled real samples (feeds/samples).

Measures the whole local path a demo or import takes: read the file, detect the
format, decode JSON/CSV, normalise every release into a Notice (cleaning,
regions, CPV, values). Single process, single thread.

    .venv/bin/python benchmarks/bench_feeds.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from feeds.local import parse_bytes

SAMPLES = Path(__file__).resolve().parent.parent / "feeds" / "samples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".csv"))
    blobs = [p.read_bytes() for p in files]
    per_round = sum(len(parse_bytes(b).notices) for b in blobs)  # warm-up and count
    start = time.perf_counter()
    for _ in range(args.rounds):
        for blob in blobs:
            parse_bytes(blob)
    elapsed = time.perf_counter() - start
    total = per_round * args.rounds
    print(
        f"{total} releases ({per_round} x {args.rounds} rounds, {len(files)} files, "
        f"{sum(map(len, blobs)) / 1e6:.1f} MB) in {elapsed:.2f} s: "
        f"{total / elapsed:,.0f} releases/s"
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")


if __name__ == "__main__":
    main()
