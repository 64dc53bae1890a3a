"""What matching lot by lot (``matchers.lots``) changes: on the labelled sets, and in time.

    .venv/bin/python benchmarks/bench_lots.py [--set dev|dev2] [--rounds 5]

The notices and profiles are those of ``benchmarks/eval_matching.py`` (the open sample
notices, the labelled profiles with their keywords and exclusions only: no value or
suitability filters, so lots can only *add* a match, where a keyword is in a lot's title or
description but not in the notice's). Prints how many notices have two or more lots, the
scores of the whole-notice matcher against ``match_lots``, and the time of each (best of
``--rounds``; the matcher is built once, as the service does).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.eval_matching import (  # noqa: E402
    EVAL,
    Pair,
    load_labels,
    load_open_notices,
    load_profiles,
    score,
)
from matchers.engine import Matcher  # noqa: E402
from matchers.lots import MIN_LOTS, lot_views, match_lots  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev", "dev2"), default="dev")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    notices = load_open_notices()
    profiles = load_profiles(EVAL / f"matching_profiles_{args.set}.json")
    labels = load_labels(EVAL / f"matching_labels_{args.set}.jsonl")
    lotted = [n for n in notices if len(n.lots) >= MIN_LOTS]
    views = lot_views(notices)
    print(
        f"{len(notices)} open notices, {len(lotted)} with {MIN_LOTS}+ lots "
        f"({len(views) - len(notices)} lot views); {len(profiles)} {args.set} profiles"
    )
    matcher = Matcher(profiles)

    def whole() -> set[Pair]:
        return {(m.profile_id, m.notice_ocid) for m in matcher.match(notices)}

    def by_lot() -> set[Pair]:
        found = match_lots(matcher.match, notices, profiles)
        return {(m.match.profile_id, m.match.notice_ocid) for m in found}

    for name, method in (("whole notices", whole), ("with lots", by_lot)):
        best = float("inf")
        predicted: set[Pair] = set()
        for _ in range(max(1, args.rounds)):
            started = time.perf_counter()
            predicted = method()
            best = min(best, time.perf_counter() - started)
        s = score(name, predicted, labels, best)
        print(
            f"{name:14} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
            f"(tp {s.tp}, fp {s.fp}, fn {s.fn}, unjudged {s.unjudged})  {best * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
