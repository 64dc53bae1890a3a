"""Matching at national scale: 2,000 notices x 100,000 profiles, checked against brute force.

    .venv/bin/python benchmarks/bench_matching.py            # full size (about a minute)
    .venv/bin/python benchmarks/bench_matching.py --quick    # small sizes, for tests

Synthetic but realistic vocabulary: notice titles and descriptions are made of CPV labels
(the words buyers actually use) with filler sentences and occasional typos; profile keywords
are 1-3 word phrases cut from CPV labels, some quoted, some acronyms, with exclusions, CPV
codes, regions, value ranges, suitability and stage filters. Everything is seeded.

It prints the time to build the index and to match, the peak RSS, and the extrapolated
brute-force time per pair, for the alert tier alone (``Matcher.match``) and for both tiers
(``Matcher.match_tiers`` on the same matcher: the index is reused), and it asserts:

1. the indexed matcher gives exactly the brute-force reference's matches, both tiers (same
   pairs, tiers, scores and reasons) on a sample of notices x profiles;
2. matching a subset of profiles on its own gives the same answers as within the full
   population;
3. the alert tier of ``match_tiers`` is exactly ``match``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from feeds.notice import Notice, Value  # noqa: E402
from matchers.cpv import labels  # noqa: E402
from matchers.index import Matcher  # noqa: E402
from matchers.profile import Profile  # noqa: E402
from matchers.reference import match_brute  # noqa: E402
from matchers.rules import Match  # noqa: E402
from matchers.text import STOPWORDS  # noqa: E402

REGIONS = ("UKF11", "UKF14", "UKF21", "UKF30", "UKC1", "UKD3", "UKE4", "UKG3", "UKH2", "UKI4",
           "UKJ4", "UKK1", "UKL2", "UKM8", "UKN0", "UK")  # fmt: skip
PROFILE_REGIONS = ("UKF", "UKF1", "UKF14", "UKD", "UKE", "UKG", "UKH", "UKI", "UKJ", "UKK",
                   "UKL", "UKM", "UKN")  # fmt: skip
ACRONYMS = ("IT", "NHS", "SEND", "BSL", "WEEE", "NEET", "CCTV", "ICT", "HR", "LED")
FILLER = (
    "The authority invites tenders for the provision of",
    "The contract will run for three years with an option to extend for",
    "Suppliers must register on the portal to access the documents for",
    "This opportunity is suitable for small businesses and voluntary organisations providing",
    "Please note the deadline for clarification questions about",
    "The council is seeking an experienced provider of",
)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 7:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


@dataclass
class Corpus:
    notices: list[Notice]
    profiles: list[Profile]
    keywords: int


def build_corpus(n_notices: int, n_profiles: int, seed: int = 2024) -> Corpus:
    rng = random.Random(seed)
    codes = sorted(labels())
    label_words = {c: [w for w in labels()[c].replace(",", " ").split()] for c in codes}
    freq: Counter[str] = Counter(w.lower() for ws in label_words.values() for w in ws)
    common = {w for w, _ in freq.most_common(400)}

    notices: list[Notice] = []
    for i in range(n_notices):
        main = rng.choice(codes)
        others = rng.sample(codes, 4)
        sentences = []
        for code in [main, *others]:
            words = [_typo(w, rng) if rng.random() < 0.03 else w for w in label_words[code]]
            sentences.append(f"{rng.choice(FILLER)} {' '.join(words).lower()}.")
        if rng.random() < 0.2:
            sentences.append(f"Includes {rng.choice(ACRONYMS)} support.")
        has_value = rng.random() < 0.7
        low = rng.choice((5_000, 20_000, 100_000, 500_000, 2_000_000))
        notices.append(
            Notice(
                source="bench",
                ocid=f"ocds-bench-{i:05d}",
                release_id=f"r{i}",
                notice_type="UK4",
                stage=rng.choices(("tender", "planning", "award"), (0.75, 0.15, 0.10))[0],
                title=labels()[main],
                description=" ".join(sentences),
                buyer="Bench Council",
                cpv=(main, *others[:1]),
                regions=(rng.choice(REGIONS),) if rng.random() < 0.9 else (),
                value=Value(amount=low * 2, min=low) if has_value else None,
                suitable_sme=rng.random() < 0.6,
                suitable_vcse=rng.random() < 0.4,
            )
        )

    def phrase() -> str:
        """What an enterprise types: mostly two or three words, rarely one common word."""
        r = rng.random()
        if r < 0.03:
            return rng.choice(ACRONYMS)
        n = 1 if r < 0.28 else (2 if r < 0.83 else 3)
        for _ in range(20):
            words = [w.lower() for w in label_words[rng.choice(codes)]]
            content = [w for w in words if w not in STOPWORDS]
            if len(content) < n:
                continue
            start = rng.randrange(len(content) - n + 1)
            picked = content[start : start + n]
            if n == 1 and picked[0] in common:
                continue
            text = " ".join(picked)
            return f'"{text}"' if r > 0.97 else text
        return "cleaning"

    def description() -> str:
        """What an enterprise says it does: a sentence or two of procurement words."""
        if rng.random() < 0.3:
            return ""
        parts = [labels()[rng.choice(codes)].lower() for _ in range(rng.choice((2, 3, 4)))]
        return "We are a social enterprise providing " + ", ".join(parts) + " for local people."

    profiles: list[Profile] = []
    total_keywords = 0
    for i in range(n_profiles):
        kws = tuple(dict.fromkeys(phrase() for _ in range(rng.choice((5, 6, 6, 7, 8)))))
        total_keywords += len(kws)
        lo = rng.choice((None, None, 10_000, 50_000))
        profiles.append(
            Profile(
                id=f"p{i:06d}",
                keywords=kws,
                exclude=tuple(phrase() for _ in range(rng.choice((0, 0, 1, 2)))),
                cpv=tuple(rng.choice(codes)[: rng.choice((3, 4, 5))] for _ in range(1))
                if rng.random() < 0.3
                else (),
                regions=(rng.choice(PROFILE_REGIONS),) if rng.random() < 0.8 else (),
                min_value=lo,
                max_value=None if lo is None else lo * 40,
                vcse_only=rng.random() < 0.1,
                sme_only=rng.random() < 0.1,
                local_only=rng.random() < 0.1,
                require_value=rng.random() < 0.05,
                description=description(),
                strict=rng.random() < 0.05,
            )
        )
    return Corpus(notices, profiles, total_keywords)


def _key(m: Match) -> tuple[str, str]:
    return (m.profile_id, m.notice_ocid)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sorted(ms: list[Match]) -> list[Match]:
    return sorted(ms, key=lambda m: (m.notice_ocid, m.profile_id))


def run(quick: bool, seed: int = 2024) -> dict[str, float | int]:
    n_notices, n_profiles = (200, 2_000) if quick else (2_000, 100_000)
    s_notices, s_profiles = (20, 300) if quick else (25, 1_000)
    corpus = build_corpus(n_notices, n_profiles, seed)

    # wall-clock seconds and this process's CPU seconds: on a shared machine the first says
    # what a user waits, the second what the code costs (other processes do not inflate it)
    cpu: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    matcher = Matcher(corpus.profiles)
    t_build, cpu["build"] = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    matches = matcher.match(corpus.notices)
    t_match, cpu["match"] = time.perf_counter() - t0, time.process_time() - c0
    # both tiers, with the same matcher (as the service reuses it from poll to poll): the
    # maybe tier's index is built on first use, then every notice is matched again
    t0, c0 = time.perf_counter(), time.process_time()
    matcher.build_maybe()
    t_build_maybe, cpu["build_maybe"] = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    tiered = matcher.match_tiers(corpus.notices)
    t_tiers, cpu["tiers"] = time.perf_counter() - t0, time.process_time() - c0
    rss = peak_rss_mib()
    maybe_count = sum(1 for m in tiered if m.tier == "maybe")
    assert [m for m in tiered if m.tier == "alert"] == matches, "alert tier differs from match()"

    # 1. brute force on a sample, compared with the full-population run (both tiers)
    rng = random.Random(seed + 1)
    sample_notices = rng.sample(corpus.notices, s_notices)
    sample_profiles = rng.sample(corpus.profiles, s_profiles)
    t0 = time.perf_counter()
    brute = match_brute(sample_notices, sample_profiles, maybe=True)
    t_brute = time.perf_counter() - t0
    want_pairs = {(p.id, n.ocid) for p in sample_profiles for n in sample_notices}
    from_full = _sorted([m for m in tiered if _key(m) in want_pairs])
    brute_sorted = _sorted(brute)
    assert from_full == brute_sorted, "indexed matcher differs from brute force"

    # 2. the same sample profiles matched on their own
    alone = Matcher(sample_profiles).match_tiers(sample_notices)
    assert _sorted(alone) == brute_sorted, (
        "a subset of profiles matched alone differs from the full population"
    )

    per_pair = t_brute / (s_notices * s_profiles)
    brute_total = per_pair * n_notices * n_profiles
    total_tiers = t_build + t_build_maybe + t_tiers
    return {
        "notices": n_notices,
        "profiles": n_profiles,
        "keywords": corpus.keywords,
        "patterns": matcher.pattern_count,
        "matches": len(matches),
        "maybe_matches": maybe_count,
        "build_s": round(t_build, 2),
        "match_s": round(t_match, 2),
        "total_s": round(t_build + t_match, 2),
        "build_maybe_s": round(t_build_maybe, 2),
        "match_tiers_s": round(t_tiers, 2),
        "total_tiers_s": round(total_tiers, 2),
        "cpu_build_s": round(cpu["build"], 2),
        "cpu_match_s": round(cpu["match"], 2),
        "cpu_build_maybe_s": round(cpu["build_maybe"], 2),
        "cpu_match_tiers_s": round(cpu["tiers"], 2),
        "cpu_total_alerts_s": round(cpu["build"] + cpu["match"], 2),
        "cpu_total_tiers_s": round(cpu["build"] + cpu["build_maybe"] + cpu["tiers"], 2),
        "peak_rss_mib": round(rss, 1),
        "sample_pairs": s_notices * s_profiles,
        "sample_matches": len(brute),
        "brute_per_pair_us": round(per_pair * 1e6, 1),
        "brute_extrapolated_s": round(brute_total, 0),
        "speedup": round(brute_total / total_tiers, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(args.quick)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['notices']:,} notices x {result['profiles']:,} profiles "
        f"({result['keywords']:,} keywords, {result['patterns']:,} distinct patterns)"
    )
    print("              wall s    CPU s")
    for label, key, note in (
        ("index build", "build", ""),
        ("match alerts", "match", f"({result['matches']:,} matches)"),
        ("total alerts", "total_alerts", ""),
        ("maybe index", "build_maybe", "(built once, on first use)"),
        ("match tiers", "match_tiers", f"({result['matches']:,} alert + "
                                       f"{result['maybe_matches']:,} maybe)"),
        ("total tiers", "total_tiers", "(index + maybe index + both tiers)"),
    ):  # fmt: skip
        wall = result["total_s" if key == "total_alerts" else f"{key}_s"]
        print(f"{label:<13} {wall:8.2f} {result[f'cpu_{key}_s']:8.2f}   {note}")
    print(f"peak RSS      {result['peak_rss_mib']:8.1f} MiB")
    print(
        f"brute force   {result['brute_per_pair_us']:8.1f} us/pair on {result['sample_pairs']:,}"
        f" sample pairs -> {result['brute_extrapolated_s']:,.0f} s extrapolated"
        f" ({result['speedup']:,.0f}x slower)"
    )
    print(
        "checks        both tiers: index == brute force on the sample; subset alone == within"
        " full; alert tier == match(): OK"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
