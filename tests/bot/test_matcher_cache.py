"""The service keeps its matching index between polls and rebuilds it when profiles change.

Real Contracts Finder releases (the January 2025 page) split into three file feeds, polled
one after another by one App, as `bestbot run` does with its feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.app import App
from bot.config import config_from_dict
from bot.pipeline.matching import MatcherCache
from feeds.local import parse_file
from matchers.engine import Matcher
from matchers.profile import parse_profile
from storage.db import Database
from storage.models import DeliveryRow, NoticeRow
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"
CATERING = "ocds-b5fd17-8e9e80b5-0a39-4580-a5f2-2b35442a9378"  # Hampshire catering tender
NOW = datetime(2025, 1, 23, 18, 0, tzinfo=UTC)
CHAT = 7001


def _feeds(tmp_path: Path) -> dict[str, Path]:
    releases = json.loads(SAMPLE.read_text(encoding="utf-8"))["releases"]
    others = [r for r in releases if r["ocid"] != CATERING]
    parts = {
        "first": others[:50],
        "catering": [r for r in releases if r["ocid"] == CATERING],
        "rest": others[50:],
    }
    paths = {}
    for name, part in parts.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps({"releases": part}), encoding="utf-8")
    return paths


async def _subscribe(db: Database, keywords: list[str]) -> int:
    async with db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session, SubscriberInput(None, None, CHAT, "instant", {"keywords": keywords})
        )
    return sub_id


async def _queued(db: Database) -> set[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(NoticeRow.ocid).join(DeliveryRow, col(DeliveryRow.notice_id) == NoticeRow.id)
        )
        return set(rows.all())


def _expected(path: Path, keywords: list[str]) -> set[str]:
    """What a matcher built from scratch says for these notices (open ones only)."""
    notices = [
        n
        for n in parse_file(path).notices
        if n.stage in ("planning", "tender") and (n.deadline is None or n.deadline > NOW)
    ]
    profile = parse_profile({"id": "x", "keywords": keywords})
    return {m.notice_ocid for m in Matcher([profile]).match(notices)}


async def test_index_is_reused_across_polls_and_rebuilt_when_a_profile_changes(
    database: Database, tmp_path: Path
) -> None:
    paths = _feeds(tmp_path)
    config: Any = config_from_dict(
        {
            "database": {"url": database.url},
            "web": {"secret_key": "matcher-cache-secret"},
            "alerts": {"quiet_hours": "off"},
            "feeds": [{"name": n, "kind": "file", "path": str(p)} for n, p in paths.items()],
        },
        env={},
    )
    await _subscribe(database, ["catering"])
    async with App(config, clock=lambda: NOW) as service:
        await service.cycle(["first"])
        assert service.services.matchers.builds == 1
        assert await _queued(database) == set()  # nothing about catering in the first part

        await service.cycle(["catering"])
        assert service.services.matchers.builds == 1  # same profiles: the same index
        assert await _queued(database) == {CATERING}

        await _subscribe(database, ["transport"])  # the enterprise changes its keywords
        await service.cycle(["rest"])
        assert service.services.matchers.builds == 2
        transport = _expected(paths["rest"], ["transport"])
        assert transport  # the sample has transport notices in that part
        assert await _queued(database) == {CATERING} | transport


def test_cache_compares_the_whole_profile_set() -> None:
    cache = MatcherCache()
    a = parse_profile({"id": "1", "keywords": ["catering"]})
    b = parse_profile({"id": "2", "keywords": ["cleaning"]})
    first = cache.get([a, b])
    assert cache.get([a, b]) is first
    assert cache.get([a]) is not first  # a subscriber paused or left
    moved = parse_profile({"id": "2", "keywords": ["cleaning"], "regions": ["UKF"]})
    assert cache.get([a, moved]) is not first  # one setting changed
    assert cache.builds == 3


def test_the_cache_gives_both_tiers_with_the_same_matcher() -> None:
    notices = parse_file(SAMPLE).notices
    profiles = [
        parse_profile(
            {
                "id": "cater",
                "keywords": ["catering", "school meals"],
                "description": "Catering co-operative cooking school meals and lunches.",
            }
        )
    ]
    cache = MatcherCache()
    alerts = cache.match(profiles, notices)
    both = cache.match_tiers(profiles, notices)
    assert cache.builds == 1  # one index for both calls
    assert [m for m in both if m.tier == "alert"] == alerts
    assert any(m.notice_ocid == CATERING and m.tier == "alert" for m in both)
    assert both == Matcher(profiles).match_tiers(notices)
