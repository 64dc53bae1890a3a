"""The scale-out benchmark in quick mode (``benchmarks/bench_scaleout.py --quick``): its
correctness claims, never its timings. Real processes — ``bestbot subscribers import``, one
``run --role web`` and three ``--role worker`` — on PostgreSQL, the fake Bot API pushing the
users' commands to the web process, the feed server serving re-dated real tenders on two
feeds; then the same with one worker killed by SIGKILL while it holds claims."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks import bench_scaleout as bench
from storage.db import Database
from tests.conftest import PG_URL_ENV

pytestmark = [
    pytest.mark.timeout(400),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


async def test_quick_fleet_delivers_everything_once_and_a_kill_loses_nothing(
    database: Database, tmp_path: Path
) -> None:
    base = os.environ[PG_URL_ENV]  # the benchmark makes (and drops) its own schemas
    size, work, runs, budget = await bench.run(base, quick=True, logs=tmp_path)
    assert budget == []  # the in-process budget comparison is tests/fleet/test_send_budget.py
    assert work.matching >= size.matching // 2 and len(work.predicted) >= work.matching
    fleet, killed = runs
    for result in runs:
        assert result.problems() == [], (result.name, result.problems())
        # every alert once, every update once and in order, one reply per command
        assert result.alert_rows == len(work.predicted) and result.lost == 0
        assert result.updates_done == result.updates == size.users * size.commands
        assert result.missing_replies == 0 and result.replies_out_of_order == 0
        # no feed polled twice at once, though every worker polls every feed when it starts
        assert min(result.polls.values()) >= 1 and result.overlapping_polls == 0
        assert result.max_feed_requests_at_once == 1
        # Telegram's limits held: no 429, at most 30 a second over any 5 s (a 1-s window may
        # hold a few more when the loaded machine stalls a process: reported, not asserted)
        assert result.flood_429s == 0 and result.max_per_5_seconds <= 150
    assert fleet.repeated_alerts == fleet.repeated_replies == 0 and fleet.kill is None
    kill = killed.kill
    assert kill is not None and kill.claimed_alert_rows + kill.claimed_updates > 0
    # what the dead worker held went out (after its claims ran out); only what Telegram had
    # accepted before the kill went out twice
    assert killed.repeated_alerts == kill.in_flight_alerts
    assert killed.repeated_replies == kill.in_flight_replies
