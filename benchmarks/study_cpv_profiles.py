"""Would explicit CPV codes in the profiles close the recall gap? A study on the dev set.

    .venv/bin/python benchmarks/study_cpv_profiles.py

Each dev profile keeps its keywords and also gets CPV codes, as if the enterprise had ticked
them in the chat: the codes its keywords' own words name (``matchers.inference``, class level
and finer), or the first one or three ``/cpv`` suggestions (``matchers.cpv.suggest_cpv``) per
keyword. A profile code matches any notice beneath it (the issue's rule), so this shows what
categories add and cost. Figures in docs/matching.md. Not run by ``python -m benchmarks``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.eval_matching import (  # noqa: E402
    EVAL,
    load_labels,
    load_open_notices,
    score,
)
from matchers.cpv import suggest_cpv  # noqa: E402
from matchers.engine import Matcher  # noqa: E402
from matchers.inference import infer  # noqa: E402
from matchers.profile import Profile, parse_profile  # noqa: E402

CLASS_DIGITS = 4


def _codes(keyword: str, mode: str) -> list[str]:
    if mode == "inferred":
        return [c.code for c in infer(keyword).codes if len(c.prefix) >= CLASS_DIGITS]
    if mode.startswith("suggest"):
        return [s.code for s in suggest_cpv(keyword, int(mode[-1]))]
    return []


def profiles(mode: str) -> list[Profile]:
    raw = json.loads((EVAL / "matching_profiles_dev.json").read_text("utf-8"))
    out = []
    for p in raw:
        codes = list(dict.fromkeys(c for k in p["keywords"] for c in _codes(k, mode)))
        out.append(parse_profile({"id": p["id"], "keywords": p["keywords"], "cpv": codes}))
    return out


def main() -> int:
    notices = load_open_notices()
    labels = load_labels()
    print(f"{'codes added':<12} {'P':>5} {'R':>5} {'TP':>4} {'FP':>4}")
    for mode in ("none", "inferred", "suggest1", "suggest3"):
        predicted = {(m.profile_id, m.notice_ocid) for m in Matcher(profiles(mode)).match(notices)}
        s = score(mode, predicted, labels, 0.0)
        print(f"{mode:<12} {s.precision:5.2f} {s.recall:5.2f} {s.tp:4d} {s.fp:4d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
