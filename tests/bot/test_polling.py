"""Polling into the database through the App: paging, crash-resume, bad data, files."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import func, select

from bot.app import App, settle
from bot.config import config_from_dict
from feeds.http import RetryPolicy
from feeds.local import parse_file
from storage.models import FeedCursorRow, NoticeRow, NoticeVersionRow
from tests.conftest import SAMPLES

CF_PAGE = SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"
BASE = "https://cf.test/Published/Notices/OCDS/Search"
NOW = datetime(2025, 1, 23, 23, 0, tzinfo=UTC)


def _pages(size: int) -> list[dict[str, Any]]:
    releases = json.loads(CF_PAGE.read_text())["releases"]
    chunks = [releases[i : i + size] for i in range(0, len(releases), size)]
    pages = []
    for n, chunk in enumerate(chunks):
        page: dict[str, Any] = {"uri": BASE, "releases": chunk, "links": {}}
        if n + 1 < len(chunks):
            page["links"]["next"] = f"{BASE}?cursor=page{n + 1}"
        pages.append(page)
    return pages


def _transport(
    pages: list[dict[str, Any]], fail: Callable[[int, int], httpx.Response | None]
) -> tuple[httpx.MockTransport, list[str]]:
    """Serve ``pages``; ``fail(page_index, hit)`` may return an error response instead."""
    seen: list[str] = []
    hits: dict[int, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        cursor = request.url.params.get("cursor")
        index = int(cursor[4:]) if cursor else 0
        hits[index] = hits.get(index, 0) + 1
        failure = fail(index, hits[index])
        if failure is not None:
            return failure
        return httpx.Response(200, json=pages[index])

    return httpx.MockTransport(handler), seen


def _config(database_url: str, **feed: Any) -> Any:
    return config_from_dict(
        {
            "database": {"url": database_url},
            "web": {"secret_key": "test-secret-key-for-polling"},
            "feeds": [{"name": "cf", "kind": "contracts_finder", "url": BASE, **feed}],
        },
        env={},
    )


async def _counts(service: App) -> tuple[int, int]:
    assert service.db is not None
    async with service.db.session() as s:
        notices = (await s.exec(select(func.count()).select_from(NoticeRow))).one()
        versions = (await s.exec(select(func.count()).select_from(NoticeVersionRow))).one()
    return notices, versions


async def test_a_crash_mid_poll_resumes_at_the_failed_page(database_url: str) -> None:
    pages = _pages(25)
    expected = parse_file(CF_PAGE).notices
    ocids = {n.ocid for n in expected}
    # Page 2 fails for good on the first run (retries exhausted), then works.
    broken = {"on": True}

    def fail(index: int, hit: int) -> httpx.Response | None:
        if index == 2 and broken["on"]:
            return httpx.Response(500, text="oops")
        return None

    transport, seen = _transport(pages, fail)
    policy = RetryPolicy(max_attempts=2, base_delay=0)
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    config = _config(database_url)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        App(
            config, http_client=client, clock=lambda: NOW, feed_policy=policy, feed_sleep=no_sleep
        ) as service,
    ):
        first = await service.pipeline.poll(config.feeds[0])
        assert first.error is not None and "500" in first.error
        assert first.pages == 2
        stored_after_crash, _ = await _counts(service)
        assert stored_after_crash == len({n.ocid for n in expected[:50]})
        assert service.db is not None
        async with service.db.session() as s:
            cursor = await s.get(FeedCursorRow, "cf")
        assert cursor is not None and "page2" in (cursor.cursor or "")

        broken["on"] = False
        seen.clear()
        second = await service.pipeline.poll(config.feeds[0])
        assert second.error is None
        assert "cursor=page2" in seen[0]  # resumed, did not start again
        notices, _ = await _counts(service)
        assert notices == len(ocids)
        third = await service.pipeline.poll(config.feeds[0])
        assert third.new == 0  # a fresh window, nothing new in it
    assert sleeps, "the retry waited before trying again"


async def test_retry_after_is_honoured_then_the_page_is_stored(database_url: str) -> None:
    pages = _pages(100)

    def fail(index: int, hit: int) -> httpx.Response | None:
        if hit == 1:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return None

    transport, _ = _transport(pages, fail)
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    config = _config(database_url)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        App(config, http_client=client, clock=lambda: NOW, feed_sleep=record) as service,
    ):
        report = await service.pipeline.poll(config.feeds[0])
    assert report.error is None
    assert sleeps == [7.0]
    assert report.new == len({r["ocid"] for r in pages[0]["releases"]})


async def test_malformed_releases_are_skipped_and_the_rest_stored(database_url: str) -> None:
    pages = _pages(100)
    pages[0]["releases"] = [*pages[0]["releases"][:3], {"ocid": 5}, "junk", None]

    transport, _ = _transport(pages, lambda i, h: None)
    config = _config(database_url)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        App(config, http_client=client, clock=lambda: NOW) as service,
    ):
        report = await service.pipeline.poll(config.feeds[0])
        notices, _ = await _counts(service)
    assert report.error is None
    assert report.skipped == 3
    assert notices == len({r["ocid"] for r in pages[0]["releases"][:3]})


async def test_file_feed_import_is_idempotent(database_url: str, tmp_path: Path) -> None:
    config = config_from_dict(
        {
            "database": {"url": database_url},
            "web": {"secret_key": "test-secret-key-for-polling"},
            "feeds": [{"name": "sample", "kind": "file", "path": str(CF_PAGE)}],
        },
        env={},
    )
    async with App(config, clock=lambda: NOW) as service:
        first = await service.pipeline.poll(config.feeds[0])
        again = await service.pipeline.poll(config.feeds[0])
        notices, versions = await _counts(service)
    parsed = parse_file(CF_PAGE)
    ocids = {n.ocid for n in parsed.notices}
    assert first.new == len(ocids)
    # Amendments of one ocid inside the file become versions, not new notices.
    assert first.new + first.changed + first.unchanged == len(parsed.notices)
    assert again.new == again.changed == 0
    assert notices == len(ocids)
    assert versions == first.new + first.changed


async def test_a_generated_secret_key_survives_a_restart(database_url: str) -> None:
    config = config_from_dict({"database": {"url": database_url}}, env={})
    assert config.secret_key_generated
    async with App(config) as first:
        token = first.services.signer.sign("unsub", "abc")
    restarted = config_from_dict({"database": {"url": database_url}}, env={})
    assert restarted.secret_key != config.secret_key  # a new random one each load...
    async with App(restarted) as second:
        # ...but the stored one wins: a link signed before the restart still verifies
        assert second.services.signer.verify("unsub", token) is not None


async def test_settle_gives_one_key_for_every_part(database_url: str) -> None:
    """Migrations and the secret key are settled once, before anything is built, so a link
    signed by one worker (or the dispatcher) verifies in every other part."""
    first = await settle(config_from_dict({"database": {"url": database_url}}, env={}))
    again = await settle(config_from_dict({"database": {"url": database_url}}, env={}))
    assert first == again
    async with App(config_from_dict({"database": {"url": database_url}}, env={})) as app:
        token = app.services.signer.sign("rate", "1u")
        assert app.services.enquiries.desk.links.signer.verify("rate", token) is not None
