"""Releases parsed per second on the bundled real samples (feeds/samples).

Measures the whole local path a demo or import takes: read the file, detect the
format, decode JSON/CSV, normalise every release into a Notice (cleaning,
regions, CPV, values). Single process, single thread.

    .venv/bin/python benchmarks/bench_feeds.py [--rounds N] [--compare]

``--compare`` measures what the storage-safety passes cost (``feeds.limits`` on every
notice, and removing lone surrogates in ``feeds.clean``): rounds alternate between the
parser as shipped and the same parser with those passes switched off, in one process, and
the median of the per-round time ratios is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import statistics
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import feeds.clean
import feeds.local
from feeds.local import parse_bytes

SAMPLES = Path(__file__).resolve().parent.parent / "feeds" / "samples"


def _timed(blobs: list[bytes]) -> float:
    start = time.perf_counter()
    for blob in blobs:
        parse_bytes(blob)
    return time.perf_counter() - start


@contextlib.contextmanager
def _without_safety_passes() -> Iterator[None]:
    """The parser as it was before the storage-safety passes (for --compare only)."""

    def unchecked(items: Iterable[Any], *, start: int = 0) -> Iterator[Any]:
        return iter(items)

    checked, surrogates = feeds.local.checked, feeds.clean._SURROGATE_RE
    feeds.local.checked = unchecked  # type: ignore[assignment]
    feeds.clean._SURROGATE_RE = re.compile("(?!)")  # matches nothing, scans nothing
    try:
        yield
    finally:
        feeds.local.checked, feeds.clean._SURROGATE_RE = checked, surrogates


def compare(blobs: list[bytes], rounds: int) -> None:
    ratios = []
    for _ in range(rounds):
        shipped = _timed(blobs)
        with _without_safety_passes():
            baseline = _timed(blobs)
        ratios.append(shipped / baseline)
    print(
        f"safety passes: {statistics.median(ratios):.3f}x the parse time without them "
        f"(median of {rounds} alternating rounds; min {min(ratios):.3f}, max {max(ratios):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="cost of the safety passes")
    args = parser.parse_args()
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".csv"))
    blobs = [p.read_bytes() for p in files]
    if args.compare:
        parse_bytes(blobs[0])  # warm-up
        compare(blobs, args.rounds)
        return
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
