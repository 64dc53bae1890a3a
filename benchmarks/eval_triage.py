"""Triage quality on dev and dev2, side by side, against two baselines, in one run.

    .venv/bin/python benchmarks/eval_triage.py [--misses] [--sweep] [--quick]

For each method and set: the share of enquiries routed to an adviser who covers the enquiry's
``topic`` or one of its ``acceptable`` topics (target >= 95 % on dev2), how many went to an
adviser who is away (must be 0), and topic accuracy (predicted topic == first choice). Then the
confusions behind the misses of the shipped method, its confidence bands (how often each band
is right), and region detection with the region field hidden.

Methods:
  * ``bestbot`` — what ships: the topic model (``matchers/data/triage_model.json``, trained on
    the topic descriptions and dev). On dev its figure is measured by 5-fold cross-validation
    (each dev item predicted by a model that did not see it); ``bestbot (dev in-sample)`` is
    the committed model on dev, which has seen every item, for comparison only.
  * ``model: descriptions only`` — the same model trained on the descriptions alone: dev is
    fully held out for it. ``... words only`` drops the lexicon features too.
  * ``lexicon only`` — the hand-tuned lexicon (the fallback; tuned on dev).
  * baselines: ``all to duty adviser`` and ``keyword substrings`` (a handful of obvious words
    per topic, most hits wins, none -> general), routed by the same router.

``--misses`` lists the shipped method's misses on dev only (study *kinds* of mistakes; never
add rules naming individual enquiries; dev2 misses are not listed on purpose). ``--sweep``
prints dev acceptable share for a range of duty thresholds (how the threshold was chosen).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import build_triage_model as builder  # noqa: E402
from matchers import triage  # noqa: E402
from matchers.triage import (  # noqa: E402
    GENERAL,
    Adviser,
    Enquiry,
    Route,
    advisers_from_json,
    detect_region,
    enquiry_from_json,
    route,
    route_topic,
)
from matchers.triage_model import TopicModel  # noqa: E402

EVAL = REPO / "data" / "eval"
DEV = EVAL / "enquiries_dev.jsonl"
DEV2 = EVAL / "enquiries_dev2.jsonl"
ADVISERS = EVAL / "advisers.json"

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

BANDS = ((0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01))


@dataclass(frozen=True)
class Labelled:
    enquiry: Enquiry
    topic: str
    acceptable: tuple[str, ...]
    region: str | None
    raw: dict[str, object]


@dataclass(frozen=True)
class Pick:
    topic: str
    adviser_id: str | None
    confidence: float = 1.0
    best: str = GENERAL


@dataclass(frozen=True)
class Figures:
    name: str
    acceptable_share: float
    to_away: int
    topic_accuracy: float
    unrouted: int
    misses: tuple[tuple[str, str, str | None], ...]
    confusions: tuple[tuple[tuple[str, str], int], ...] = ()
    bands: tuple[tuple[str, int, int], ...] = ()


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
                raw=obj,
            )
        )
    return items, roster


def fits(item: Labelled, adviser: Adviser | None) -> bool:
    """The scoring rule: the adviser covers the enquiry's topic or one of its acceptable ones."""
    return adviser is not None and any(t in adviser.topics for t in (item.topic, *item.acceptable))


def _score(name: str, items: list[Labelled], roster: list[Adviser], picks: list[Pick]) -> Figures:
    if not items:
        return Figures(name, 0.0, 0, 0.0, 0, ())
    by_id = {a.id: a for a in roster}
    good = away = right_topic = unrouted = 0
    misses = []
    confusions: Counter[tuple[str, str]] = Counter()
    band_counts = {b: [0, 0] for b in BANDS}
    for item, pick in zip(items, picks, strict=True):
        adviser = by_id.get(pick.adviser_id) if pick.adviser_id else None
        if adviser is None:
            unrouted += 1
        elif adviser.away:
            away += 1
        ok = fits(item, adviser)
        good += ok
        right_topic += pick.topic == item.topic
        if not ok:
            misses.append((item.enquiry.id, pick.topic, pick.adviser_id))
            confusions[(item.topic, pick.topic)] += 1
        for band in BANDS:
            if band[0] <= pick.confidence < band[1]:
                band_counts[band][0] += 1
                band_counts[band][1] += pick.best in (item.topic, *item.acceptable)
    n = len(items)
    bands = tuple(
        (f"{lo:.1f}-{min(hi, 1.0):.1f}", c[0], c[1]) for (lo, hi), c in band_counts.items()
    )
    return Figures(
        name,
        good / n,
        away,
        right_topic / n,
        unrouted,
        tuple(misses),
        tuple(confusions.most_common()),
        bands,
    )


def _pick(r: Route) -> Pick:
    best = r.topic
    for reason in r.reasons[:1]:
        if "best guess: " in reason:
            best = reason.split("best guess: ", 1)[1].split(" ", 1)[0]
    return Pick(r.topic, r.adviser_id, r.confidence, best)


def routed(
    name: str,
    items: list[Labelled],
    roster: list[Adviser],
    method: str = "auto",
    model: TopicModel | None = None,
) -> Figures:
    picks = [_pick(route(item.enquiry, roster, method=method, model=model)) for item in items]
    return _score(name, items, roster, picks)


def bestbot(items: list[Labelled], roster: list[Adviser]) -> Figures:
    """The shipped method (the committed topic model, or the lexicon if it is missing)."""
    return routed("bestbot", items, roster)


def lexicon_only(items: list[Labelled], roster: list[Adviser]) -> Figures:
    return routed("lexicon only (fallback)", items, roster, method="lexicon")


def cross_validated(
    name: str, items: list[Labelled], roster: list[Adviser], lexicon: bool = True
) -> Figures:
    """Dev figures of the shipped recipe: each item predicted by a model trained on the
    descriptions and the other dev folds (the temperature is the committed one's)."""
    committed = triage.load_model()
    temperature = committed.temperature if committed is not None else 1.0
    base = builder.description_examples(lexicon)
    dev = [builder.enquiry_example(item.raw, lexicon) for item in items]
    picks: list[Pick | None] = [None] * len(items)
    for model, held in builder.fold_models(base, dev):
        tuned = TopicModel(model.topics, model.bias, model.weights, temperature, model.meta)
        for i in held:
            picks[i] = _pick(route(items[i].enquiry, roster, method="model", model=tuned))
    return _score(name, items, roster, [p for p in picks if p is not None])


def descriptions_only(lexicon: bool) -> TopicModel:
    return builder.build(lexicon=lexicon, with_dev=False)


def duty_baseline(items: list[Labelled], roster: list[Adviser]) -> Figures:
    picks = []
    for item in items:
        adviser_id, _, _ = route_topic(item.enquiry.id, GENERAL, item.enquiry.region, roster)
        picks.append(Pick(GENERAL, adviser_id))
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
        picks.append(Pick(topic, adviser_id))
    return _score("baseline: keyword substrings", items, roster, picks)


def region_accuracy(items: list[Labelled]) -> tuple[int, int]:
    """Region detected from the text alone (field hidden) vs the labelled base."""
    right = 0
    for item in items:
        right += detect_region(item.enquiry.text) == item.region
    return right, len(items)


def sweep(items: list[Labelled], roster: list[Adviser]) -> None:
    """Dev acceptable share by duty threshold, from the cross-validated predictions."""
    committed = triage.load_model()
    temperature = committed.temperature if committed is not None else 1.0
    base = builder.description_examples()
    dev = [builder.enquiry_example(item.raw) for item in items]
    saved = triage.MODEL_MIN_CONFIDENCE
    models = builder.fold_models(base, dev)
    try:
        for threshold in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
            triage.MODEL_MIN_CONFIDENCE = threshold
            picks: list[Pick | None] = [None] * len(items)
            for model, held in models:
                tuned = TopicModel(model.topics, model.bias, model.weights, temperature)
                for i in held:
                    r = route(items[i].enquiry, roster, method="model", model=tuned)
                    picks[i] = _pick(r)
            f = _score("", items, roster, [p for p in picks if p is not None])
            print(f"  threshold {threshold:.2f}: dev (cv) acceptable {f.acceptable_share:.1%}")
    finally:
        triage.MODEL_MIN_CONFIDENCE = saved


Row = tuple[str, Callable[[list[Labelled], list[Adviser]], Figures], Callable[..., Figures]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--dev2", type=Path, default=DEV2)
    parser.add_argument("--advisers", type=Path, default=ADVISERS)
    parser.add_argument("--misses", action="store_true", help="list bestbot's misses on dev")
    parser.add_argument("--sweep", action="store_true", help="dev share by duty threshold")
    parser.add_argument("--quick", action="store_true", help="skip the variants that train")
    parser.add_argument(
        "--dev-only", action="store_true", help="tuning runs: dev figures only, dev2 not read"
    )
    args = parser.parse_args(argv)
    dev, roster = load(args.dev, args.advisers)
    dev2 = [] if args.dev_only else load(args.dev2, args.advisers)[0]

    rows: list[tuple[str, Figures, Figures]] = []
    rows.append(
        (
            "bestbot (topic model)",
            cross_validated("bestbot", dev, roster) if not args.quick else bestbot(dev, roster),
            bestbot(dev2, roster),
        )
    )
    if not args.quick:
        rows.append(("bestbot (dev in-sample)", bestbot(dev, roster), bestbot(dev2, roster)))
        for lexicon, label in ((True, "words + lexicon"), (False, "words only")):
            m = descriptions_only(lexicon)
            rows.append(
                (
                    f"model: descriptions only, {label}",
                    routed("", dev, roster, "model", m),
                    routed("", dev2, roster, "model", m),
                )
            )
        rows.append(
            (
                "model: dev folds, words only",
                cross_validated("", dev, roster, lexicon=False),
                routed("", dev2, roster, "model", builder.build(lexicon=False)),
            )
        )
    rows.append(("lexicon only (fallback)", lexicon_only(dev, roster), lexicon_only(dev2, roster)))
    rows.append(("baseline: all to duty", duty_baseline(dev, roster), duty_baseline(dev2, roster)))
    rows.append(
        (
            "baseline: keyword substrings",
            keyword_baseline(dev, roster),
            keyword_baseline(dev2, roster),
        )
    )

    print(f"triage evaluation: dev {len(dev)}, dev2 {len(dev2)} enquiries, {len(roster)} advisers")
    print(f"{'':36} {'---------- dev ----------':>27}   {'---------- dev2 ---------':>27}")
    print(
        f"{'method':36} {'fit':>7} {'away':>5} {'topic':>7}     {'fit':>7} {'away':>5} {'topic':>7}"
    )
    for name, a, b in rows:
        print(
            f"{name:36} {a.acceptable_share:>7.1%} {a.to_away:>5d} {a.topic_accuracy:>7.1%}"
            f"     {b.acceptable_share:>7.1%} {b.to_away:>5d} {b.topic_accuracy:>7.1%}"
        )
    shipped_dev, shipped_dev2 = rows[0][1], rows[0][2]
    for label, f in (("dev (cv)", shipped_dev), ("dev2", shipped_dev2)):
        pairs = ", ".join(f"{t}->{p} {n}" for (t, p), n in f.confusions) or "none"
        print(f"misses of bestbot on {label} (labelled -> routed as): {pairs}")
    print("confidence bands of bestbot (band: enquiries, best guess acceptable):")
    for label, f in (("dev (cv)", shipped_dev), ("dev2", shipped_dev2)):
        if not f.bands:
            continue
        shown = "  ".join(
            f"{band} {n:>3} {right / n:>5.0%}" if n else f"{band}   0    -"
            for band, n, right in f.bands
        )
        print(f"  {label:9} {shown}")
    for label, items in (("dev", dev), ("dev2", dev2)):
        if not items:
            continue
        right, total = region_accuracy(items)
        print(
            f"region from text alone on {label} (field hidden): "
            f"{right}/{total} = {right / total:.1%}"
        )
    met = shipped_dev2.acceptable_share >= 0.95 and shipped_dev2.to_away == 0
    print("target (dev2 >= 95 % to a fitting adviser, 0 to away):", "met" if met else "NOT met")
    if args.misses:
        for ident, topic, adviser in shipped_dev.misses:
            print(f"  dev miss {ident}: topic {topic} -> {adviser}")
    if args.sweep:
        sweep(dev, roster)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
