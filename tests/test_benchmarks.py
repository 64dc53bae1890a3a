"""The delivery and crash benchmarks in quick mode: their correctness claims, never their timings.

Each runs the real Courier and AlertOutbox, TelegramSender and PTB Bot with AIORateLimiter
against the fake Bot API on loopback (the crash benchmark in separate worker processes it kills
with SIGKILL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_crash, bench_delivery
from benchmarks.__main__ import discover, select
from bot.delivery.courier import CourierSettings
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram

# The fake's scaled limits send float retry_after values, which PTB reads through a
# deprecated property.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_delivery_quick_loses_and_repeats_nothing() -> None:
    result = await bench_delivery.run(bench_delivery.Options(alerts=60, quick=True))
    names = [p.name for p in result.phases]
    assert names == [
        "outbox (Courier)",
        "naive send loop",
        "flood (Courier)",
        "flood naive loop",
        "outbox (capacity)",
        "naive (capacity)",
    ]
    for phase in result.phases:
        assert phase.messages == 60, phase.name
        assert phase.lost == 0 and phase.duplicated == 0, phase
        assert phase.bad_400 == 0, phase.http_status
        assert set(phase.http_status) <= {200, 429}, phase.http_status
        assert phase.wrong_ref == 0 and phase.rows_not_sent == 0, phase
    # How many 429s the flood phases meet depends on the machine's speed, so it is reported,
    # not asserted; the 429 paths are pinned by the next test.
    assert result.ok


async def test_delivery_429s_are_retried_not_dropped(tmp_path: Path) -> None:
    """429s past the rate limiter's own retries go back to the outbox and are sent later."""
    chats: list[int] = []

    def flood(fake: FakeTelegram) -> None:
        # Four refusals in a row for two chats: AIORateLimiter retries three times, then the
        # courier re-queues the row for retry_after; one more for a third chat.
        for chat in chats[:2]:
            fake.inject_error("sendMessage", 429, retry_after=0.2, chat_id=chat, times=4)
        fake.inject_error("sendMessage", 429, retry_after=0.2, chat_id=chats[2])

    async with bench_delivery.database(None, tmp_path) as db:
        pop = await bench_delivery.populate(db, 12)
        chats.extend(pop.chats)
        result, _ = await bench_delivery.outbox_phase(
            db,
            pop,
            FloodLimits().scaled(10),
            CourierSettings(),
            rate_limited=True,
            name="outbox",
            prepare=flood,
        )
    assert result.flood_429 == 9
    assert result.courier_retries == 2  # the two rows re-queued by the courier
    assert result.ok and result.messages == 12 and result.lost == 0 and result.duplicated == 0


async def test_crash_quick_loses_nothing_and_repeats_only_in_flight() -> None:
    """Two SIGKILLs in one run of grouped messages (40 subscribers x 5 alerts)."""
    opts = bench_crash.Options(
        subscribers=40, per_subscriber=5, runs=1, kills=2, quick=True, lease=1.0
    )
    results = await bench_crash.run(opts)
    assert len(results) == 1
    r = results[0]
    assert len(r.kills) == 2 and r.kills[0].after < r.kills[1].after  # different kill points
    for kill in r.kills:
        assert 0 < kill.received < r.messages, kill  # killed mid-delivery
        assert kill.in_flight <= r.bound == CourierSettings().concurrency, kill
    assert r.lost == 0 and r.rows_not_sent == 0, r
    # Exactly the in-flight messages are repeated, with exactly the alerts they showed.
    assert r.repeated_messages == sum(k.in_flight for k in r.kills), r
    assert r.duplicates == sum(k.in_flight_alerts for k in r.kills), r
    assert r.messages == r.subscribers + r.repeated_messages, r
    assert r.ok


def test_runner_finds_the_benchmarks() -> None:
    scripts = {s.name: s for s in discover()}
    assert scripts["bench_delivery"].quick and scripts["bench_crash"].quick
    quick = dict((s.name, skip) for s, skip in select(list(scripts.values()), [], True))
    assert quick["bench_crash"] == quick["bench_delivery"] == ""
    assert all(skip == "" for name, skip in quick.items() if name.startswith("eval_"))
    only = [s.name for s, _ in select(list(scripts.values()), ["crash"], False)]
    assert only == ["bench_crash"]
