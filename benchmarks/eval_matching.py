"""Matching quality on the labelled dev set: bestbot against two naive baselines.

    .venv/bin/python benchmarks/eval_matching.py [--json] [--errors] [--ablate]

Notices: the real samples in ``feeds/samples/`` parsed by the real ``feeds`` parser, keeping
the open ones (planning or tender stage) and the newest release per ocid, without the bluetail
file (its tags were rewritten). Profiles: ``data/eval/matching_profiles_dev.json``, using only
``id``, ``keywords`` and ``exclude`` (``about`` and ``pool_*`` describe the enterprise for
people, they are not matching input). Labels: ``data/eval/matching_labels_dev.jsonl``.

``--ablate`` re-runs bestbot with each method of ``matchers.rules`` / ``matchers.keywords``
switched off in turn (each in a fresh process, so no cache carries over) and prints what each
is worth.

Only judged pairs count: a prediction for a pair that was never judged is neither right nor
wrong; recall is over the pairs judged relevant.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from feeds.local import parse_file  # noqa: E402
from feeds.notice import Notice  # noqa: E402
from matchers.engine import Matcher  # noqa: E402
from matchers.profile import Profile, parse_profile  # noqa: E402

SAMPLES = REPO / "feeds" / "samples"
EVAL = REPO / "data" / "eval"
OPEN_STAGES = ("planning", "tender")
SKIP_FILES = ("cf_bluetail_",)

Pair = tuple[str, str]


def load_open_notices(samples: Path = SAMPLES) -> list[Notice]:
    """Open notices from every sample file but the bluetail one: per ocid, its newest
    planning or tender release."""
    newest: dict[str, tuple[tuple[str, int], Notice]] = {}
    order = 0
    for path in sorted(samples.iterdir()):
        if path.suffix not in (".json", ".jsonl", ".csv") or path.name.startswith(SKIP_FILES):
            continue
        for notice in parse_file(path).notices:
            order += 1
            if notice.stage not in OPEN_STAGES:
                continue
            when = notice.updated or notice.published
            key = (when.isoformat() if when else "", order)
            held = newest.get(notice.ocid)
            if held is None or key >= held[0]:
                newest[notice.ocid] = (key, notice)
    return [n for _, n in newest.values()]


SETS = ("dev", "dev2")


def load_profiles(
    path: Path = EVAL / "matching_profiles_dev.json", description: bool = True
) -> list[Profile]:
    """The profiles' matching input: ``keywords``, ``exclude`` and, as the enterprise's own
    description (what onboarding keeps), ``about``."""
    raw = json.loads(path.read_text("utf-8"))
    return [
        parse_profile(
            {
                "id": p["id"],
                "keywords": p["keywords"],
                "exclude": p.get("exclude"),
                "description": p.get("about") if description else None,
            }
        )
        for p in raw
    ]


def load_labels(path: Path = EVAL / "matching_labels_dev.jsonl") -> dict[Pair, bool]:
    labels: dict[Pair, bool] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            labels[(row["profile"], row["notice"])] = bool(row["relevant"])
    return labels


@dataclass(frozen=True)
class Score:
    name: str
    tp: int
    fp: int
    fn: int
    unjudged: int
    seconds: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(name: str, predicted: set[Pair], labels: dict[Pair, bool], seconds: float) -> Score:
    tp = sum(1 for pair in predicted if labels.get(pair) is True)
    fp = sum(1 for pair in predicted if labels.get(pair) is False)
    fn = sum(1 for pair, rel in labels.items() if rel and pair not in predicted)
    unjudged = sum(1 for pair in predicted if pair not in labels)
    return Score(name, tp, fp, fn, unjudged, seconds)


def _text(n: Notice) -> str:
    return f"{n.title}\n{n.description}".casefold()


def predict_bestbot(notices: list[Notice], profiles: list[Profile]) -> set[Pair]:
    return {(m.profile_id, m.notice_ocid) for m in Matcher(profiles).match(notices)}


def _baseline(
    notices: list[Notice], profiles: list[Profile], hit: Callable[[str, str], bool]
) -> set[Pair]:
    texts = [(n.ocid, _text(n)) for n in notices]
    out: set[Pair] = set()
    for p in profiles:
        kws = [k.casefold() for k in p.keywords]
        for ocid, text in texts:
            if any(hit(k, text) for k in kws):
                out.add((p.id, ocid))
    return out


def predict_substring(notices: list[Notice], profiles: list[Profile]) -> set[Pair]:
    return _baseline(notices, profiles, lambda k, t: k in t)


def predict_partial_ratio(notices: list[Notice], profiles: list[Profile]) -> set[Pair]:
    return _baseline(notices, profiles, lambda k, t: fuzz.partial_ratio(k, t) >= 85)


def evaluate_all() -> tuple[list[Score], int, set[Pair], dict[Pair, bool]]:
    notices = load_open_notices()
    profiles = load_profiles()
    labels = load_labels()
    scores: list[Score] = []
    bestbot: set[Pair] = set()
    methods: Iterable[tuple[str, Callable[[list[Notice], list[Profile]], set[Pair]]]] = (
        ("bestbot", predict_bestbot),
        ("substring", predict_substring),
        ("partial_ratio>=85", predict_partial_ratio),
    )
    for name, method in methods:
        start = time.perf_counter()
        predicted = method(notices, profiles)
        scores.append(score(name, predicted, labels, time.perf_counter() - start))
        if name == "bestbot":
            bestbot = predicted
    return scores, len(notices), bestbot, labels


#: (label, module, attribute, value that switches the method off)
ABLATIONS: tuple[tuple[str, str, str, object], ...] = (
    ("without keyword -> CPV inference", "matchers.rules", "CPV_INFERENCE", False),
    ("CPV inference from the keyword only", "matchers.inference", "INFER_FROM_SYNONYMS", False),
    ("CPV inference from group level (3+ digits)", "matchers.inference", "MIN_PREFIX", 3),
    ("without the contract-type check", "matchers.rules", "TYPE_RULE", False),
    ("without the title-is-a-CPV-label rule", "matchers.rules", "TITLE_LABEL_RULE", False),
    ("without the title-names-the-service rule", "matchers.rules", "TITLE_SERVICES_RULE", False),
    ("without the title-is-the-keyword's-label rule", "matchers.rules", "OWN_LABEL_TITLE", False),
    ("one-word description hits always count", "matchers.rules", "ONE_WORD_DESCRIPTION", "any"),
    ("one-word description hits never count", "matchers.rules", "ONE_WORD_DESCRIPTION", "never"),
    ("without head-noun/generic-head variants", "matchers.keywords", "HEAD_VARIANTS", False),
    ("head noun without workforce context", "matchers.rules", "HEAD_CONTEXT", False),
    ("without acronym senses", "matchers.rules", "ACRONYM_SENSES", False),
    ("phrases with generic words as loose as others", "matchers.keywords", "GENERIC_SLACK", 3),
    ("description: first 50 words", "matchers.rules", "LEAD_WORDS", 50),
    ("trade: reject far (other division and type)", "matchers.rules", "TRADE_REJECT", "far"),
    ("trade: reject other division", "matchers.rules", "TRADE_REJECT", "division"),
    ("trade: head noun in title under the trade", "matchers.rules", "TRADE_HEADS", True),
    ("without the two-signal rule", "matchers.rules", "TWO_SIGNALS", "off"),
    ("two signals: profile's trade divisions", "matchers.rules", "TWO_SIGNALS", "trade"),
    (
        "two signals: also words in 5+ label divisions",
        "matchers.inference",
        "AMBIGUOUS_DIVISIONS",
        5,
    ),
)


def _ablated(module: str, attr: str, value: object) -> Score:
    import importlib

    importlib.import_module(module).__dict__[attr] = value
    return evaluate_all()[0][0]


def ablate() -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    rows = [("bestbot as shipped", "", "", None)]
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        base = pool.apply(_ablated, ("matchers.rules", "LEAD_WORDS", 30))
        print(f"{'variant':<48} {'P':>5} {'R':>5} {'F1':>5} {'TP':>4} {'FP':>4} {'FN':>4}")
        for label, module, attr, value in [*rows, *ABLATIONS]:
            s = base if not module else pool.apply(_ablated, (module, attr, value))
            print(
                f"{label:<48} {s.precision:5.2f} {s.recall:5.2f} {s.f1:5.2f} "
                f"{s.tp:4d} {s.fp:4d} {s.fn:4d}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--errors", action="store_true", help="list bestbot's misjudged pairs (ids only)"
    )
    parser.add_argument(
        "--ablate", action="store_true", help="switch each method off in turn and compare"
    )
    args = parser.parse_args(argv)
    if args.ablate:
        ablate()
        return 0
    scores, n_notices, predicted, labels = evaluate_all()
    if args.json:
        print(
            json.dumps(
                {
                    s.name: {
                        "precision": round(s.precision, 3),
                        "recall": round(s.recall, 3),
                        "f1": round(s.f1, 3),
                        "tp": s.tp,
                        "fp": s.fp,
                        "fn": s.fn,
                        "unjudged": s.unjudged,
                    }
                    for s in scores
                }
            )
        )
        return 0
    relevant = sum(labels.values())
    print(f"{n_notices} open notices, {len(labels)} judged pairs ({relevant} relevant)\n")
    print(
        f"{'method':<20} {'P':>6} {'R':>6} {'F1':>6} {'TP':>4} {'FP':>4} {'FN':>4} {'unjudged':>9}"
    )
    for s in scores:
        print(
            f"{s.name:<20} {s.precision:6.2f} {s.recall:6.2f} {s.f1:6.2f} "
            f"{s.tp:4d} {s.fp:4d} {s.fn:4d} {s.unjudged:9d}"
        )
    if args.errors:
        for pair, rel in sorted(labels.items()):
            if rel and pair not in predicted:
                print("FN", *pair)
            elif not rel and pair in predicted:
                print("FP", *pair)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
