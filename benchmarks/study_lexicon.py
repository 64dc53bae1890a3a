"""What the lexicon's trade groups add, for trades the labelled dev set does not cover.

    .venv/bin/python benchmarks/study_lexicon.py

``matchers.lexicon.TRADE_GROUPS`` were written from general knowledge for the trades SEEM
supports that have no profile in the dev set (catering, community transport, alternative
education, care, housing help, grounds, employment). There are no labels for them, so this
study matches seven fresh profiles (``benchmarks/data/fresh_trade_profiles.json``, written
before looking at any match) against the same open sample notices as ``eval_matching.py``,
once with the whole lexicon and once (in a fresh process) without the trade groups, and
prints the pairs the groups add or remove, with the title and the reason.

It also scores every match against ``benchmarks/data/fresh_trade_judgements.jsonl``: our own
reading of each matched notice (relevant, not relevant, or doubtful = null), made once after
the fixes of the fourth round. That measures precision on trades the rules were not developed
on; it cannot measure recall (the unmatched notices were not read), and the judge is not
independent. Matches nobody judged yet are listed. Not run by ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PROFILES = REPO / "benchmarks" / "data" / "fresh_trade_profiles.json"
JUDGEMENTS = REPO / "benchmarks" / "data" / "fresh_trade_judgements.jsonl"


def _matches(without_trade_groups: bool) -> dict[str, list[str]]:
    """{"profile notice": [title, first reason]} for the fresh profiles."""
    from matchers import lexicon

    if without_trade_groups:
        # before anything compiles a keyword, so no cache holds the whole lexicon
        lexicon.SYNONYM_GROUPS = lexicon.CORE_GROUPS
    from benchmarks.eval_matching import load_open_notices
    from matchers.engine import Matcher
    from matchers.profile import parse_profiles

    notices = load_open_notices()
    titles = {n.ocid: n.title or "" for n in notices}
    profiles = parse_profiles(json.loads(PROFILES.read_text("utf-8")))
    return {
        f"{m.profile_id} {m.notice_ocid}": [titles[m.notice_ocid], m.reasons[0]]
        for m in Matcher(profiles).match(notices)
    }


def _precision(matches: dict[str, list[str]]) -> None:
    judged: dict[str, bool | None] = {}
    for line in JUDGEMENTS.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            judged[f"{row['profile']} {row['notice']}"] = row["relevant"]
    verdicts = [judged[k] for k in matches if k in judged]
    right = sum(1 for v in verdicts if v is True)
    wrong = sum(1 for v in verdicts if v is False)
    doubtful = sum(1 for v in verdicts if v is None)
    print(
        f"judged {len(verdicts)} of {len(matches)} matches: {right} relevant, {wrong} not, "
        f"{doubtful} doubtful -> precision {right / max(1, right + wrong + doubtful):.2f}"
        f" to {(right + doubtful) / max(1, right + wrong + doubtful):.2f}"
    )
    for key in sorted(set(matches) - set(judged)):
        print(f"  not judged yet: {key} {matches[key][0][:70]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump-without", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump_without:
        print(json.dumps(_matches(without_trade_groups=True)))
        return 0
    with_groups = _matches(without_trade_groups=False)
    run = subprocess.run(
        [sys.executable, __file__, "--dump-without"], capture_output=True, text=True, check=True
    )
    without: dict[str, list[str]] = json.loads(run.stdout)
    _precision(with_groups)
    print(f"{len(with_groups)} matches with the trade groups, {len(without)} without\n")
    for key in sorted(set(with_groups) | set(without)):
        if key in with_groups and key not in without:
            title, reason = with_groups[key]
            print(f"added   {key.split()[0]:16} {title[:70]!r}\n        {reason}")
        elif key in without and key not in with_groups:
            print(f"removed {key.split()[0]:16} {without[key][0][:70]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
