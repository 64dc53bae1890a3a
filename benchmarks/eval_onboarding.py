"""How well onboarding reads "What does your enterprise do?": the keywords from each answer
must match a notice that fits the enterprise and not one that merely shares a word with it.

    .venv/bin/python benchmarks/eval_onboarding.py             # dev and dev2, both methods
    .venv/bin/python benchmarks/eval_onboarding.py --set dev2

Methods: ``bestbot`` (:func:`matchers.extract.extract`, places as the region) and the
``as typed`` baseline, the onboarding before it (the answer split at commas, "and" and new
lines, every piece a keyword, all the East Midlands). Each keyword set goes through the
matcher as the pipeline runs it (:class:`matchers.engine.Matcher`, the default stages).

``data/eval/onboarding_dev.jsonl`` is the development set (the reader was tuned while it was
written); ``onboarding_dev2.jsonl`` was written afterwards and is only measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.chat.text import split_keywords  # noqa: E402
from feeds.notice import Notice  # noqa: E402
from matchers.engine import Matcher  # noqa: E402
from matchers.extract import LONG_WORDS, extract, word_count  # noqa: E402
from matchers.profile import parse_profile  # noqa: E402

SETS = {
    "dev": REPO / "data" / "eval" / "onboarding_dev.jsonl",
    "dev2": REPO / "data" / "eval" / "onboarding_dev2.jsonl",
}
NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)


@dataclass
class Score:
    cases: int = 0
    fit: int = 0  # the fitting notice matched
    shares: int = 0  # the word-sharing notice matched
    clean: int = 0  # fit and not shares
    region: int = 0  # the region suggestion is the one expected (cases naming a place)
    places: int = 0
    terms: int = 0
    long: int = 0  # keywords of more than LONG_WORDS words


def _notice(raw: dict[str, Any], n: int) -> Notice:
    return Notice(
        source="find_a_tender",
        ocid=f"ocds-eval-{n}",
        release_id="r1",
        notice_type="UK4",
        stage="tender",
        title=raw["title"],
        description=raw.get("description", ""),
        buyer=raw.get("buyer"),
        cpv=tuple(raw.get("cpv", ())),
        regions=tuple(raw.get("regions", ())),
        deadline=NOW + timedelta(days=30),
        published=NOW,
    )


def bestbot(answer: str) -> tuple[list[str], list[str]]:
    found = extract(answer)
    return list(found.terms), [c for p in found.places for c in p.codes]


def as_typed(answer: str) -> tuple[list[str], list[str]]:
    return split_keywords(answer).good[:50], []


METHODS: dict[str, Callable[[str], tuple[list[str], list[str]]]] = {
    "bestbot": bestbot,
    "as typed (before)": as_typed,
}


def evaluate(path: Path, method: Callable[[str], tuple[list[str], list[str]]]) -> Score:
    score = Score()
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        keywords, regions = method(raw["answer"])
        score.cases += 1
        score.terms += len(keywords)
        score.long += sum(word_count(k) > LONG_WORDS for k in keywords)
        expected = raw.get("region")
        if expected is not None:
            score.places += 1
            score.region += regions == expected
        if not keywords:
            continue
        profile = parse_profile(
            {
                "id": "1",
                "keywords": keywords,
                "regions": regions or ["UKF"],
                "stages": ["planning", "tender"],
            }
        )
        matcher = Matcher([profile])
        fit = bool(matcher.match([_notice(raw["fit"], 1)]))
        shares = bool(matcher.match([_notice(raw["shares"], 2)]))
        score.fit += fit
        score.shares += shares
        score.clean += fit and not shares
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=[*SETS, "both"], default="both")
    args = parser.parse_args(argv)
    names = list(SETS) if args.set == "both" else [args.set]
    print("| set | method | fits matched | word-sharers matched | both right | region | "
          "keywords per answer | keywords > 4 words |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        for label, method in METHODS.items():
            s = evaluate(SETS[name], method)
            region = f"{s.region}/{s.places}" if label == "bestbot" else "–"
            print(
                f"| {name} | {label} | {s.fit}/{s.cases} | {s.shares}/{s.cases} | "
                f"{s.clean}/{s.cases} | {region} | {s.terms / max(s.cases, 1):.1f} | {s.long} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
