"""Matching quality on the labelled sets (dev and dev2), both tiers, against the baselines.

    .venv/bin/python benchmarks/eval_matching.py            # dev and dev2 side by side
    .venv/bin/python benchmarks/eval_matching.py --errors   # dev's misjudged pairs (ids, titles)
    .venv/bin/python benchmarks/eval_matching.py --ablate   # each method off in turn
    .venv/bin/python benchmarks/eval_matching.py --feedback # the simulated subscriber
    .venv/bin/python benchmarks/eval_matching.py --json

Tune on dev only; dev2 stands for the trades the service has never seen: it is measured when
a change is finished, and ``--errors`` lists dev only (no rule may come from a dev2 item).

Baselines, in the same run: plain substring of the keywords, rapidfuzz ``partial_ratio >= 85``,
and the previous rules (``matchers`` and ``feeds`` as of ``PREVIOUS_RULES``, extracted with
``git archive`` and run in a subprocess).

Notices: the real samples in ``feeds/samples/`` parsed by the real ``feeds`` parser, keeping
the open ones (planning or tender stage) and the newest release per ocid, without the bluetail
file (its tags were rewritten). Profiles: ``data/eval/matching_profiles_{dev,dev2}.json``:
``id``, ``keywords`` and ``exclude``, and ``about`` as the enterprise's own description (what
onboarding keeps; the maybe tier's second signal, never a keyword). ``pool_*`` are not
matching input. Labels: ``data/eval/matching_labels_{dev,dev2}.jsonl``.

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from feeds.local import parse_file  # noqa: E402
from feeds.notice import Notice  # noqa: E402
from matchers.engine import Matcher  # noqa: E402
from matchers.profile import Profile, parse_profile  # noqa: E402
from matchers.rules import Match  # noqa: E402

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
    """The alert tier (what the bot sends at once)."""
    return {(m.profile_id, m.notice_ocid) for m in Matcher(profiles).match(notices)}


def predict_tiers(notices: list[Notice], profiles: list[Profile]) -> tuple[set[Pair], set[Pair]]:
    """(alert pairs, maybe pairs)."""
    alert: set[Pair] = set()
    maybe: set[Pair] = set()
    for m in Matcher(profiles).match_tiers(notices):
        (alert if m.tier == "alert" else maybe).add((m.profile_id, m.notice_ocid))
    return alert, maybe


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


# --- the previous rules, in the same run ------------------------------------------------------

#: The rules as they were before the two tiers (the branch point of this work).
PREVIOUS_RULES = "77272b7"

_PREVIOUS_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
from benchmarks.eval_matching_previous import run
print(json.dumps(run(sys.argv[3], sys.argv[4])))
"""


def predict_previous(sets: Iterable[str]) -> dict[str, set[Pair]] | None:
    """The previous rules' matches per set, or None when git cannot give them."""
    import os
    import subprocess
    import tarfile
    import tempfile

    out: dict[str, set[Pair]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "previous.tar"
        try:
            subprocess.run(
                ["git", "-C", str(REPO), "archive", "-o", str(archive), PREVIOUS_RULES,
                 "matchers", "feeds"],
                check=True,
                capture_output=True,
            )  # fmt: skip
        except (OSError, subprocess.CalledProcessError):
            return None
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "old", filter="data")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        for name in sets:
            result = subprocess.run(
                [sys.executable, "-c", _PREVIOUS_SCRIPT, str(Path(tmp) / "old"), str(REPO),
                 str(EVAL / f"matching_profiles_{name}.json"), str(SAMPLES)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )  # fmt: skip
            out[name] = {tuple(pair) for pair in json.loads(result.stdout)}  # type: ignore[misc]
    return out


# --- one set ----------------------------------------------------------------------------------


@dataclass
class SetResult:
    name: str
    notices: int
    labels: dict[Pair, bool]
    rows: dict[str, Score]
    alert: set[Pair]
    maybe: set[Pair]


def evaluate_set(
    name: str, notices: list[Notice], previous: dict[str, set[Pair]] | None = None
) -> SetResult:
    profiles = load_profiles(EVAL / f"matching_profiles_{name}.json")
    labels = load_labels(EVAL / f"matching_labels_{name}.jsonl")
    rows: dict[str, Score] = {}
    start = time.perf_counter()
    alert, maybe = predict_tiers(notices, profiles)
    seconds = time.perf_counter() - start
    rows["alert"] = score("alert", alert, labels, seconds)
    rows["alert+maybe"] = score("alert+maybe", alert | maybe, labels, seconds)
    rows["maybe"] = score("maybe", maybe, labels, seconds)
    if previous is not None and name in previous:
        rows["previous rules"] = score("previous rules", previous[name], labels, 0.0)
    for label, method in (
        ("substring", predict_substring),
        ("partial_ratio>=85", predict_partial_ratio),
    ):
        start = time.perf_counter()
        predicted = method(notices, profiles)
        rows[label] = score(label, predicted, labels, time.perf_counter() - start)
    return SetResult(name, len(notices), labels, rows, alert, maybe)


def evaluate_all() -> tuple[list[Score], int, set[Pair], dict[Pair, bool]]:
    """The dev set's alert tier and the two naive baselines (the regression floor's view)."""
    notices = load_open_notices()
    result = evaluate_set("dev", notices)
    best = replace(result.rows["alert"], name="bestbot")
    scores = [best, result.rows["substring"], result.rows["partial_ratio>=85"]]
    return scores, len(notices), result.alert, result.labels


def _row(s: Score | None) -> str:
    if s is None:
        return f"{'':>27}"
    return f"{s.precision:5.2f} {s.recall:5.2f} {s.f1:5.2f} {s.tp:3d}/{s.fp:<3d}/{s.fn:<3d}"


def print_side_by_side(results: list[SetResult]) -> None:
    header = "".join(f" | {r.name:^27}" for r in results)
    print(f"{'method':<20}{header}")
    print(
        f"{'':<20}"
        + " | {:>5} {:>5} {:>5} {:>11}".format("P", "R", "F1", "TP/FP/FN") * len(results)
    )
    for row in ("alert", "alert+maybe", "maybe", "previous rules", "substring",
                "partial_ratio>=85"):  # fmt: skip
        print(f"{row:<20}" + "".join(f" | {_row(r.rows.get(row))}" for r in results))
    for r in results:
        relevant = sum(r.labels.values())
        print(
            f"{r.name}: {r.notices} open notices, {len(r.labels)} judged pairs ({relevant} "
            f"relevant); unjudged predictions: alert {r.rows['alert'].unjudged}, "
            f"maybe {r.rows['maybe'].unjudged}"
        )


def print_errors(result: SetResult) -> None:
    """dev only: the pairs each tier gets wrong, with the notice title."""
    notices = {n.ocid: n for n in load_open_notices()}
    for pair, rel in sorted(result.labels.items()):
        title = notices[pair[1]].title[:80] if pair[1] in notices else "(not open)"
        if rel and pair not in result.alert and pair not in result.maybe:
            print("FN      ", *pair, title)
        elif rel and pair in result.maybe:
            print("TP maybe", *pair, title)
        elif not rel and pair in result.alert:
            print("FP alert", *pair, title)
        elif not rel and pair in result.maybe:
            print("FP maybe", *pair, title)


# --- ablation ---------------------------------------------------------------------------------

#: (label, module, attribute, value that switches the method off)
ABLATIONS: tuple[tuple[str, str, str, object], ...] = (
    ("maybe: no vetoed hits", "matchers.tiers", "VETOED", False),
    ("maybe: no related CPV wording", "matchers.tiers", "RELATED", False),
    ("maybe: no CPV class links", "matchers.tiers", "CLASS_LINKS", False),
    ("maybe: no bundled-notice statistics", "matchers.links", "NOTICE_STATS", False),
    ("maybe: label containment off", "matchers.links", "LABEL_LINKS", False),
    ("maybe: no description (similarity 0)", "matchers.tiers", "USE_DESCRIPTION", False),
    ("maybe: every kind without the description gate", "matchers.tiers", "GATE", False),
    ("alert: phrases may cross clause breaks", "matchers.text", "CLAUSE_GAP", 0),
    ("alert: without the object check", "matchers.rules", "OBJECT_CHECK", False),
    ("alert: broader synonyms allowed", "matchers.keywords", "NARROW_SYNONYMS", False),
    ("alert: single words: senses only", "matchers.rules", "SINGLE_WORDS", "senses"),
    ("alert: single words: all need a 2nd signal", "matchers.rules", "SINGLE_WORDS", "all"),
    ("alert: single words: labelled need one", "matchers.rules", "SINGLE_WORDS", "labelled"),
    ("without keyword -> CPV inference", "matchers.rules", "CPV_INFERENCE", False),
    ("without the contract-type check", "matchers.rules", "TYPE_RULE", False),
    ("without the title-is-a-CPV-label rule", "matchers.rules", "TITLE_LABEL_RULE", False),
    ("one-word description hits always count", "matchers.rules", "ONE_WORD_DESCRIPTION", "any"),
    ("without head-noun/generic-head variants", "matchers.keywords", "HEAD_VARIANTS", False),
    ("without the two-signal rule", "matchers.rules", "TWO_SIGNALS", "off"),
    ("description: first 50 words", "matchers.rules", "LEAD_WORDS", 50),
)


def _ablated(module: str, attr: str, value: object) -> dict[str, tuple[Score, Score, Score]]:
    import importlib

    if module:
        importlib.import_module(module).__dict__[attr] = value
    notices = load_open_notices()
    out = {}
    for name in SETS:
        r = evaluate_set(name, notices)
        out[name] = (r.rows["alert"], r.rows["alert+maybe"], r.rows["maybe"])
    return out


def ablate() -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    print(f"{'variant':<46}" + "".join(
        f" | {n + ': alert P R F1, +maybe R, maybe P':<40}" for n in SETS))  # fmt: skip
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        for label, module, attr, value in [("as shipped", "", "", None), *ABLATIONS]:
            got = pool.apply(_ablated, (module, attr, value))
            cells = []
            for name in SETS:
                a, both, maybe = got[name]
                cells.append(
                    f"{a.precision:.2f} {a.recall:.2f} {a.f1:.2f} ({a.tp}/{a.fp}), "
                    f"{both.recall:.2f}, {maybe.precision:.2f} ({maybe.tp}/{maybe.fp})"
                )
            print(f"{label:<46}" + "".join(f" | {c:<40}" for c in cells), flush=True)


# --- the simulated subscriber -------------------------------------------------------------------

#: The subscriber answers this many of each profile's first alerts (and maybes, if asked).
ANSWERED = 5


def _order(notices: list[Notice]) -> dict[str, tuple[str, str]]:
    """Notices in the order a subscriber would see them: by publication date."""
    out: dict[str, tuple[str, str]] = {}
    for n in notices:
        when = n.published or n.updated
        out[n.ocid] = (when.isoformat() if when else "", n.ocid)
    return out


def simulate_feedback(name: str, notices: list[Notice], answer_maybe: bool) -> dict[str, object]:
    """A subscriber per profile answers its first alerts from the labels; every offer
    :mod:`matchers.feedback` makes is accepted; the rest of the set is scored before and
    after, on the same pairs (the answered notices are left out of both)."""
    from matchers import feedback

    profiles = load_profiles(EVAL / f"matching_profiles_{name}.json")
    labels = load_labels(EVAL / f"matching_labels_{name}.jsonl")
    order = _order(notices)
    by_ocid = {n.ocid: n for n in notices}
    before = Matcher(profiles).match_tiers(notices)
    answered: set[Pair] = set()
    changed: list[Profile] = []
    offers_made: list[tuple[str, str, str]] = []
    for profile in profiles:
        mine = sorted(
            (m for m in before if m.profile_id == profile.id
             and (profile.id, m.notice_ocid) in labels),
            key=lambda m: order[m.notice_ocid],
        )  # fmt: skip
        shown = [m for m in mine if m.tier == "alert"][:ANSWERED]
        if answer_maybe:
            shown += [m for m in mine if m.tier == "maybe"][:ANSWERED]
        answers = [
            feedback.Answer(
                by_ocid[m.notice_ocid],
                labels[(profile.id, m.notice_ocid)],
                m.matched_keywords,
                m.tier,
            )
            for m in shown
        ]
        answered.update((profile.id, m.notice_ocid) for m in shown)
        made = feedback.offers(profile, answers)
        offers_made.extend((profile.id, o.kind, o.text) for o in made)
        changed.append(feedback.apply(profile, made))
    rest = {pair: rel for pair, rel in labels.items() if pair not in answered}
    after = Matcher(changed).match_tiers(notices)

    def tiers_of(ms: list[Match]) -> tuple[set[Pair], set[Pair]]:
        alert = {(m.profile_id, m.notice_ocid) for m in ms if m.tier == "alert"} - answered
        maybe = {(m.profile_id, m.notice_ocid) for m in ms if m.tier == "maybe"} - answered
        return alert, maybe

    out: dict[str, object] = {"offers": offers_made, "answered": len(answered)}
    for label, ms in (("before", before), ("after", after)):
        alert, maybe = tiers_of(ms)
        out[label] = (
            score("alert", alert, rest, 0.0),
            score("alert+maybe", alert | maybe, rest, 0.0),
            score("maybe", maybe, rest, 0.0),
        )
    return out


def print_feedback() -> None:
    notices = load_open_notices()
    for answer_maybe in (False, True):
        what = "first 5 alerts and first 5 maybes" if answer_maybe else "first 5 alerts"
        print(f"\nsimulated subscriber: answers the {what} of each profile from the labels")
        for name in SETS:
            got = simulate_feedback(name, notices, answer_maybe)
            offers = got["offers"]
            assert isinstance(offers, list)
            kinds = Counter(kind for _, kind, _ in offers)
            print(f"  {name}: {got['answered']} answers, offers accepted: {dict(kinds)}")
            if name == "dev":
                for pid, kind, text in offers:
                    print(f"      {pid}: {kind} {text!r}")
            for label in ("before", "after"):
                a, both, maybe = got[label]  # type: ignore[misc]
                print(
                    f"    {label:<7} alert P {a.precision:.2f} R {a.recall:.2f} F1 {a.f1:.2f}"
                    f" ({a.tp}/{a.fp}/{a.fn}); alert+maybe R {both.recall:.2f} P "
                    f"{both.precision:.2f}; maybe P {maybe.precision:.2f} ({maybe.tp}/{maybe.fp})"
                )


# --- per-stage timings ---------------------------------------------------------------------------


def print_timings() -> None:
    from matchers.rules import prepare

    start = time.perf_counter()
    notices = load_open_notices()
    t_load = time.perf_counter() - start
    profiles = [p for name in SETS for p in load_profiles(EVAL / f"matching_profiles_{name}.json")]
    start = time.perf_counter()
    docs = [prepare(n) for n in notices]
    t_prepare = time.perf_counter() - start
    start = time.perf_counter()
    matcher = Matcher(profiles)
    t_build = time.perf_counter() - start
    start = time.perf_counter()
    alerts = matcher.match_documents(docs)
    t_alert = time.perf_counter() - start
    docs = [prepare(n) for n in notices]
    start = time.perf_counter()
    both = matcher.match_documents(docs, maybe=True)
    t_both = time.perf_counter() - start
    print(f"{len(notices)} notices x {len(profiles)} profiles (dev + dev2)")
    print(f"  parse samples      {t_load:6.2f} s")
    print(f"  prepare notices    {t_prepare:6.2f} s")
    print(f"  build index        {t_build:6.2f} s")
    print(f"  match, alert only  {t_alert:6.2f} s  ({len(alerts)} matches)")
    print(f"  match, both tiers  {t_both:6.2f} s  ({len(both)} matches; maybe index built here)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--errors", action="store_true", help="list dev's misjudged pairs")
    parser.add_argument("--ablate", action="store_true", help="switch each method off in turn")
    parser.add_argument("--feedback", action="store_true", help="simulate 👍/👎 learning")
    parser.add_argument("--timings", action="store_true", help="time each stage")
    parser.add_argument(
        "--no-previous", action="store_true", help="skip the previous rules (no git needed)"
    )
    args = parser.parse_args(argv)
    if args.ablate:
        ablate()
        return 0
    if args.feedback:
        print_feedback()
        return 0
    if args.timings:
        print_timings()
        return 0
    notices = load_open_notices()
    previous = None if args.no_previous else predict_previous(SETS)
    results = [evaluate_set(name, notices, previous) for name in SETS]
    if args.json:
        print(
            json.dumps(
                {
                    r.name: {
                        row: {
                            "precision": round(s.precision, 3),
                            "recall": round(s.recall, 3),
                            "f1": round(s.f1, 3),
                            "tp": s.tp,
                            "fp": s.fp,
                            "fn": s.fn,
                            "unjudged": s.unjudged,
                        }
                        for row, s in r.rows.items()
                    }
                    for r in results
                }
            )
        )
        return 0
    print_side_by_side(results)
    if previous is None:
        print(f"(previous rules {PREVIOUS_RULES} not available: git archive failed)")
    if args.errors:
        print_errors(results[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
