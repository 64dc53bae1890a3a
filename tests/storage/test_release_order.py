"""Two releases of one notice never flip the stored version, on SQLite and PostgreSQL.

The stored version is the newest release by (release date, release id); an older or equal
release seen again (an overlapping window re-reads it, or the feed lists newest first) is
"unchanged", so it makes no version and no "updated" alert.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import func, select

from bot.pipeline.polling import poll_pages
from feeds import find_a_tender
from feeds.notice import Notice, Value
from feeds.paging import Cursor
from storage.db import Database
from storage.models import FeedCursorRow, NoticeRow, NoticeVersionRow
from storage.notices import store_notice
from tests.fakes.feed_server import FeedServer
from tests.feeds.fetching import Sleeps, fts_release

pytestmark = pytest.mark.timeout(60)

DATE = datetime(2025, 1, 20, 9, 0, tzinfo=UTC)


def _notice(release_id: str, updated: datetime | None, title: str) -> Notice:
    return Notice(
        source="contracts_finder",
        ocid="ocds-b5fd17-abcd",
        release_id=release_id,
        notice_type="tender",
        stage="tender",
        title=title,
        description="Hot meals for twelve primary schools.",
        buyer="Leicestershire County Council",
        cpv=("55524000",),
        regions=("UKF2",),
        value=Value(amount=250000.0, min=None, currency="GBP"),
        deadline=DATE + timedelta(days=30),
        published=DATE,
        updated=updated,
    )


async def _store(database: Database, notice: Notice) -> tuple[str, int]:
    async with database.session() as session:
        result = await store_notice(session, notice)
    return result.status, result.version


async def _stored_title(database: Database) -> str:
    async with database.session() as session:
        row = (await session.exec(select(NoticeRow))).one()
    return row.title


async def _versions(database: Database) -> int:
    async with database.session() as session:
        return (await session.exec(select(func.count()).select_from(NoticeVersionRow))).one()


async def test_two_releases_with_one_date_do_not_flip(database: Database) -> None:
    first = _notice("ocds-b5fd17-abcd-1", DATE, "School meals (first notice)")
    second = _notice("ocds-b5fd17-abcd-2", DATE, "School meals (corrected)")
    statuses = [await _store(database, n) for n in (first, second, first, second, first)]
    assert statuses == [
        ("new", 1),
        ("changed", 2),  # the later release id wins a tie on the date
        ("unchanged", 2),
        ("unchanged", 2),
        ("unchanged", 2),
    ]
    assert await _stored_title(database) == "School meals (corrected)"
    assert await _versions(database) == 2


async def test_newest_first_then_older_is_one_version(database: Database) -> None:
    newer = _notice("ocds-b5fd17-abcd-2", DATE + timedelta(days=2), "Deadline moved")
    older = _notice("ocds-b5fd17-abcd-1", DATE, "Original")
    assert [await _store(database, n) for n in (newer, older, newer, older)] == [
        ("new", 1),
        ("unchanged", 1),
        ("unchanged", 1),
        ("unchanged", 1),
    ]
    assert await _stored_title(database) == "Deadline moved"


async def test_ids_compare_as_numbers_and_undated_releases_never_win(database: Database) -> None:
    nine = _notice("ocds-b5fd17-abcd-9", DATE, "Ninth")
    ten = _notice("ocds-b5fd17-abcd-10", DATE, "Tenth")
    undated = dataclasses.replace(_notice("ocds-b5fd17-abcd-11", None, "No date"), published=None)
    assert await _store(database, nine) == ("new", 1)
    assert await _store(database, ten) == ("changed", 2)  # -10 is after -9
    assert await _store(database, nine) == ("unchanged", 2)
    assert await _store(database, undated) == ("unchanged", 2)
    assert await _stored_title(database) == "Tenth"


async def test_the_same_release_reissued_with_new_content_is_a_change(database: Database) -> None:
    original = _notice("ocds-b5fd17-abcd-1", DATE, "Original")
    fixed = dataclasses.replace(original, title="Original (typo fixed)")
    assert await _store(database, original) == ("new", 1)
    assert await _store(database, fixed) == ("changed", 2)
    assert await _store(database, fixed) == ("unchanged", 2)


async def test_polls_of_a_page_with_two_releases_of_one_notice_stay_quiet(
    database: Database,
) -> None:
    """Through the feed server: one window lists two releases of one procurement, with one
    timestamp; the overlap re-reads both on the next poll. Before, every poll flipped the
    stored version and reported it "changed" (a false "updated" alert)."""
    now = datetime(2026, 10, 6, 18, 44, 10, tzinfo=UTC)
    when = now - timedelta(minutes=5)
    tender = fts_release(7, when)
    amended = fts_release(8, when, ocid=tender["ocid"])
    amended["tender"] = {**amended["tender"], "title": "District heating study (amended)"}
    async with FeedServer(fts_page_size=100) as server, httpx.AsyncClient() as client:
        server.releases["fts"] = [amended, tender]  # newest first, as the API lists them
        reports = []
        for minutes in (0, 20, 40):
            async with database.session() as session:
                row = await session.get(FeedCursorRow, "fts")
            cursor = Cursor.loads(row.cursor if row else None)
            pages = find_a_tender.fetch_pages(
                client,
                cursor=cursor,
                base_url=server.fts_url,
                now=now + timedelta(minutes=minutes),
                sleep=Sleeps(),
            )
            reports.append(await poll_pages(database, "fts", pages))
    assert [(r.new, r.changed) for r in reports] == [(1, 0), (0, 0), (0, 0)]
    assert await _stored_title(database) == "District heating study (amended)"
