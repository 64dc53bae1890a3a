"""Triage quality on the labelled dev set, against two baselines, in one run.

    .venv/bin/python benchmarks/eval_triage.py [--enquiries FILE] [--advisers FILE] [--misses]

Prints, for bestbot and for each baseline: the share of enquiries routed to an adviser who covers
an acceptable topic (target >= 90 %), how many went to an adviser who is away (must be 0), and
topic accuracy (predicted topic == first routing choice). Also region detection accuracy with
the region field hidden. ``--misses`` lists the enquiries bestbot got wrong, to study the
*kinds* of mistakes (never add rules naming individual enquiries).

Baselines: "duty" sends everything to the duty adviser; "keywords" is plain substring rules (a
handful of obvious words per topic, most hits wins, none -> general) routed by the same router.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from matchers.triage import (  # noqa: E402
    GENERAL,
    Adviser,
    Enquiry,
    advisers_from_json,
    detect_region,
    enquiry_from_json,
    route,
    route_topic,
)

EVAL = REPO / "data" / "eval"

BASELINE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "tendering": ("tender", "bid", "procurement", "contract", "framework"),
    "legal": ("legal", "law", "governance", "constitution", "director"),
    "finance": ("finance", "vat", "tax", "accounts", "price", "cost"),
    "funding": ("fund", "grant", "lottery", "donation"),
    "social_value": ("social value", "impact", "outcomes"),
    "start_up": ("start up", "start-up", "startup", "new business", "idea"),
    "employment": ("staff", "employ", "payroll", "pension", "hr ", "recruit"),
}
"""What someone would write down first for each topic: the substring baseline."""


@dataclass(frozen=True)
class Labelled:
    enquiry: Enquiry
    topic: str
    acceptable: tuple[str, ...]
    region: str | None


@dataclass(frozen=True)
class Figures:
    name: str
    acceptable_share: float
    to_away: int
    topic_accuracy: float
    unrouted: int
    misses: tuple[tuple[str, str, str | None], ...]


def load(enquiries: Path, advisers: Path) -> tuple[list[Labelled], list[Adviser]]:
    roster = advisers_from_json(json.loads(advisers.read_text(encoding="utf-8")))
    items = []
    for n, line in enumerate(enquiries.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        obj = json.loads(line)
        items.append(
            Labelled(
                enquiry=enquiry_from_json(obj, f"line {n}"),
                topic=obj["topic"],
                acceptable=tuple(obj.get("acceptable") or [obj["topic"]]),
                region=obj.get("region"),
            )
        )
    return items, roster


def _score(
    name: str, items: list[Labelled], roster: list[Adviser], picks: list[tuple[str, str | None]]
) -> Figures:
    by_id = {a.id: a for a in roster}
    good = away = right_topic = unrouted = 0
    misses = []
    for item, (topic, adviser_id) in zip(items, picks, strict=True):
        adviser = by_id.get(adviser_id) if adviser_id else None
        if adviser is None:
            unrouted += 1
        elif adviser.away:
            away += 1
        ok = adviser is not None and any(t in adviser.topics for t in item.acceptable)
        good += ok
        right_topic += topic == item.topic
        if not ok:
            misses.append((item.enquiry.id, topic, adviser_id))
    n = len(items)
    return Figures(name, good / n, away, right_topic / n, unrouted, tuple(misses))


def bestbot(items: list[Labelled], roster: list[Adviser]) -> Figures:
    picks = []
    for item in items:
        r = route(item.enquiry, roster)
        picks.append((r.topic, r.adviser_id))
    return _score("bestbot", items, roster, picks)


def duty_baseline(items: list[Labelled], roster: list[Adviser]) -> Figures:
    picks = []
    for item in items:
        adviser_id, _, _ = route_topic(item.enquiry.id, GENERAL, item.enquiry.region, roster)
        picks.append((GENERAL, adviser_id))
    return _score("baseline: all to duty adviser", items, roster, picks)


def keyword_topic(text: str) -> str:
    lowered = text.lower()
    hits = {t: sum(lowered.count(w) for w in words) for t, words in BASELINE_KEYWORDS.items()}
    best = max(hits, key=lambda t: hits[t])
    return best if hits[best] > 0 else GENERAL


def keyword_baseline(items: list[Labelled], roster: list[Adviser]) -> Figures:
    picks = []
    for item in items:
        topic = keyword_topic((item.enquiry.subject or "") + "\n" + item.enquiry.text)
        adviser_id, _, _ = route_topic(item.enquiry.id, topic, item.enquiry.region, roster)
        picks.append((topic, adviser_id))
    return _score("baseline: keyword substrings", items, roster, picks)


def region_accuracy(items: list[Labelled]) -> tuple[int, int]:
    """Region detected from the text alone (field hidden) vs the labelled base."""
    right = 0
    for item in items:
        right += detect_region(item.enquiry.text) == item.region
    return right, len(items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--enquiries", type=Path, default=EVAL / "enquiries_dev.jsonl")
    parser.add_argument("--advisers", type=Path, default=EVAL / "advisers.json")
    parser.add_argument("--misses", action="store_true", help="list bestbot's misses")
    args = parser.parse_args(argv)
    items, roster = load(args.enquiries, args.advisers)
    results = [
        bestbot(items, roster),
        duty_baseline(items, roster),
        keyword_baseline(items, roster),
    ]
    print(f"triage evaluation: {len(items)} enquiries, {len(roster)} advisers")
    print(f"{'method':32} {'acceptable':>10} {'to away':>8} {'topic acc':>10}")
    for f in results:
        print(f"{f.name:32} {f.acceptable_share:>9.1%} {f.to_away:>8d} {f.topic_accuracy:>9.1%}")
    right, total = region_accuracy(items)
    print(f"region from text alone (field hidden): {right}/{total} = {right / total:.1%}")
    best = results[0]
    target = best.acceptable_share >= 0.9 and best.to_away == 0
    print("target (>= 90 % acceptable, 0 to away):", "met" if target else "NOT met")
    if args.misses:
        for ident, topic, adviser in best.misses:
            print(f"  miss {ident}: topic {topic} -> {adviser}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
