"""How long a preview takes (the answer after sign-up, /add, /preview) over a realistic store.

    .venv/bin/python benchmarks/bench_preview.py            # 10,000 notices
    .venv/bin/python benchmarks/bench_preview.py --quick    # 1,000 notices

The real sample notices are copied (new ocids, first seen over the last 30 days, a third
still open) into a fresh SQLite database until there are ``--notices`` of them; then
:func:`bot.chat.preview_search.preview` runs for a few profiles: once cold (every notice's term keys
computed) and again warm (keys cached, as for every preview after the first in a process).
The same profiles are matched without the prefilter, as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import App  # noqa: E402
from bot.chat.preview_search import preview  # noqa: E402
from bot.config import config_from_dict  # noqa: E402
from feeds.local import parse_file  # noqa: E402
from feeds.notice import Notice  # noqa: E402
from matchers.engine import Matcher  # noqa: E402
from matchers.profile import parse_profile  # noqa: E402
from matchers.rules import prepare  # noqa: E402
from storage.db import upgrade_async  # noqa: E402
from storage.notices import store_notice  # noqa: E402

PROFILES = (
    ["catering", "school meals", "events"],
    ["cleaning", "facilities management"],
    ["counselling", "mental health", "young people"],
)


def _samples() -> list[Notice]:
    out: list[Notice] = []
    for path in sorted((REPO / "feeds" / "samples").glob("*.json")):
        try:
            out.extend(parse_file(path).notices)
        except Exception:  # not every sample file holds notices
            continue
    return out


def _copies(samples: list[Notice], n: int, now: datetime) -> list[Notice]:
    out = []
    for i in range(n):
        base = samples[i % len(samples)]
        deadline = now + timedelta(days=(i % 3 == 0) * 20 - 5)
        out.append(
            replace(
                base,
                ocid=f"{base.ocid}-copy{i}",
                release_id=f"r{i}",
                title=f"{base.title} ({i})",
                deadline=deadline,
                published=now - timedelta(days=i % 30),
            )
        )
    return out


async def run(notices: int) -> list[tuple[str, float, float, float, int]]:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'preview.sqlite3'}"
        await upgrade_async(url)
        config = config_from_dict({"database": {"url": url}}, env={})
        async with App(config) as app:
            services = app.services
            copies = _copies(_samples(), notices, now)
            async with services.db.session() as session:
                for notice in copies:
                    await store_notice(session, notice)
            results = []
            for words in PROFILES:
                data = {"id": "bench", "keywords": list(words), "regions": ["UKF"]}
                started = time.perf_counter()
                first = await preview(services, data)
                cold = time.perf_counter() - started
                started = time.perf_counter()
                await preview(services, data)
                warm = time.perf_counter() - started
                profile = parse_profile({**data, "stages": ["planning", "tender"]})
                started = time.perf_counter()
                Matcher([profile]).match_documents([prepare(n) for n in copies])
                brute = time.perf_counter() - started
                results.append((", ".join(words), cold, warm, brute, len(first.found)))
            return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 notices")
    args = parser.parse_args(argv)
    n = 1_000 if args.quick else args.notices
    rows = asyncio.run(run(n))
    print(f"{n} notices stored")
    print("| keywords | first preview | next previews | matching every notice | found |")
    print("|---|---|---|---|---|")
    for words, cold, warm, brute, found in rows:
        print(f"| {words} | {cold:.2f} s | {warm:.2f} s | {brute:.2f} s | {found} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
