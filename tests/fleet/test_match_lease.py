"""One worker of the fleet matches at a time: two workers that both finish a poll do not both
match the new notices against every profile (a lease); the one that finds the lease taken
waits, then matches whatever is still unmatched — nothing stored meanwhile waits for the next
poll. Real Contracts Finder releases, a subscriber for catering."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.config import config_from_dict
from bot.pipeline import cycle
from bot.pipeline.polling import poll_file
from storage.cursors import acquire_lease, release_lease
from storage.db import Database
from tests.bot.test_matcher_cache import CATERING, NOW, _feeds, _queued, _subscribe

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _config(database: Database, paths: dict[str, Path]) -> Any:
    return config_from_dict(
        {
            "database": {"url": database.url},
            "web": {"secret_key": "match-lease-secret"},
            "alerts": {"quiet_hours": "off"},
            "feeds": [{"name": n, "kind": "file", "path": str(p)} for n, p in paths.items()],
        },
        env={},
    )


async def test_two_workers_matching_at_once_match_each_notice_once(
    database: Database, tmp_path: Path
) -> None:
    paths = _feeds(tmp_path)
    await _subscribe(database, ["catering"])
    for name, path in paths.items():
        await poll_file(database, name, path)
    config = _config(database, paths)
    async with (
        App(config, clock=lambda: NOW, worker_id="w1") as one,
        App(config, clock=lambda: NOW, worker_id="w2") as two,
    ):
        first, second = await asyncio.gather(one.pipeline.match(), two.pipeline.match())
    assert sorted([first.notices, second.notices])[0] == 0  # the second found nothing left
    assert first.notices + second.notices > 0
    assert one.services.matchers.builds + two.services.matchers.builds == 1
    assert await _queued(database) == {CATERING}


async def test_a_worker_waits_out_the_lease_then_matches_what_is_left(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cycle, "MATCH_WAIT", 0.05)
    paths = _feeds(tmp_path)
    await _subscribe(database, ["catering"])
    async with database.session() as session:  # another worker is matching
        assert await acquire_lease(session, cycle.MATCH_LEASE, "other", timedelta(minutes=5))
    await poll_file(database, "catering", paths["catering"])  # stored after it began
    async with App(_config(database, paths), clock=lambda: NOW, worker_id="w1") as app:
        waiting = asyncio.create_task(app.pipeline.match())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # it waits rather than skips
        async with database.session() as session:
            await release_lease(session, cycle.MATCH_LEASE, "other")
        report = await asyncio.wait_for(waiting, 10)
    assert report.notices == 1 and await _queued(database) == {CATERING}


async def test_a_dead_workers_lease_runs_out(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cycle, "MATCH_WAIT", 0.05)
    monkeypatch.setattr(cycle, "MATCH_TTL", timedelta(seconds=0.5))
    paths = _feeds(tmp_path)
    await _subscribe(database, ["catering"])
    async with database.session() as session:  # held by a worker that then died
        assert await acquire_lease(session, cycle.MATCH_LEASE, "dead", cycle.MATCH_TTL)
    await poll_file(database, "catering", paths["catering"])
    async with App(_config(database, paths), clock=lambda: NOW, worker_id="w1") as app:
        started = datetime.now(UTC)
        report = await asyncio.wait_for(app.pipeline.match(), 10)
    assert report.notices == 1 and await _queued(database) == {CATERING}
    assert datetime.now(UTC) - started < timedelta(seconds=5)
