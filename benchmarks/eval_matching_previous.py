"""Run by ``eval_matching.py`` in a subprocess whose ``matchers`` and ``feeds`` are the previous
rules' (extracted with ``git archive``): the previous rules' matches on one labelled set, so the
evaluation can show them beside the current ones in the same run.

Written against the API both versions share (``parse_profile``, ``Matcher.match``,
``feeds.local.parse_file``); it must not import anything newer.
"""

from __future__ import annotations

import json
from pathlib import Path

OPEN_STAGES = ("planning", "tender")
SKIP_FILES = ("cf_bluetail_",)


def run(profiles_path: str, samples_path: str) -> list[list[str]]:
    from feeds.local import parse_file
    from matchers.engine import Matcher
    from matchers.profile import parse_profile

    newest: dict[str, tuple[tuple[str, int], object]] = {}
    order = 0
    for path in sorted(Path(samples_path).iterdir()):
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
    notices = [n for _, n in newest.values()]
    raw = json.loads(Path(profiles_path).read_text("utf-8"))
    profiles = [
        parse_profile({"id": p["id"], "keywords": p["keywords"], "exclude": p.get("exclude")})
        for p in raw
    ]
    return [[m.profile_id, m.notice_ocid] for m in Matcher(profiles).match(notices)]
