"""Build ``matchers/data/notice_stats.json``: what the bundled notices say about words and CPV.

    .venv/bin/python benchmarks/build_notice_stats.py

Buyers file every notice under CPV codes and describe it in their own words, so the bundled
notices (``feeds/samples/``) hold a small text-to-CPV dictionary written by the buyers
themselves: which classes a word's notices are filed under, and how common each word is
(document frequency, for weighting the description similarity of :mod:`matchers.tiers`).

Only the bundled notices that are **not** in the evaluation set are used (awards, the bluetail
file, older releases): the evaluation notices must not teach the matcher about themselves.
No label of any kind is read. Deterministic: rerunning gives the same file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.eval_matching import SAMPLES, load_open_notices  # noqa: E402
from feeds.local import parse_file  # noqa: E402
from feeds.notice import Notice  # noqa: E402
from matchers import cpv as cpv_codes  # noqa: E402
from matchers.text import STOPWORDS, tokenize  # noqa: E402

OUT = REPO / "matchers" / "data" / "notice_stats.json"
#: A class needs this many notices with the word before it is recorded for it.
MIN_PAIR = 2
CLASS_DIGITS = 4


def training_notices() -> list[Notice]:
    """Bundled notices outside the evaluation set, one per ocid (the first seen)."""
    held_out = {n.ocid for n in load_open_notices()}
    seen: dict[str, Notice] = {}
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix not in (".json", ".jsonl", ".csv"):
            continue
        for notice in parse_file(path).notices:
            if notice.ocid not in held_out and notice.ocid not in seen:
                seen[notice.ocid] = notice
    return [seen[k] for k in sorted(seen)]


def content_stems(text: str) -> set[str]:
    return {
        t.stem
        for t in tokenize(text)
        if t.lower not in STOPWORDS and len(t.stem) > 2 and t.stem.isalpha()
    }


def build() -> dict[str, object]:
    notices = training_notices()
    df: Counter[str] = Counter()
    title_class: dict[str, Counter[str]] = defaultdict(Counter)
    class_count: Counter[str] = Counter()
    for n in notices:
        words = content_stems(f"{n.title}\n{n.description or ''}")
        df.update(words)
        codes = [cpv_codes.significant(c) for c in n.cpv if c]
        if not codes or len(codes[0]) < CLASS_DIGITS:
            continue  # a division or group code says too little
        main = codes[0][:CLASS_DIGITS]
        class_count[main] += 1
        for w in content_stems(n.title or ""):
            title_class[w][main] += 1
    classes = {
        w: {c: k for c, k in sorted(counts.items()) if k >= MIN_PAIR}
        for w, counts in sorted(title_class.items())
    }
    return {
        "about": "from benchmarks/build_notice_stats.py; bundled notices outside the eval set",
        "documents": len(notices),
        "df": dict(sorted(df.items())),
        "class_notices": dict(sorted(class_count.items())),
        "title_classes": {w: c for w, c in classes.items() if c},
    }


def main() -> int:
    data = build()
    OUT.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    print(f"{OUT.relative_to(REPO)}: {data['documents']} notices, {len(data['df'])} words")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
