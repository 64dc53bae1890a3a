"""Notice storage: versions, diffs, idempotence and cross-feed de-duplication, on both backends."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from feeds.notice import Notice, Value
from storage.db import Database, current_revision
from storage.models import NoticeRow, NoticeVersionRow
from storage.notices import store_notice

DEADLINE = datetime(2025, 2, 14, 12, 0, tzinfo=UTC)


def _notice(**changes: object) -> Notice:
    base = Notice(
        source="contracts_finder",
        ocid="ocds-b5fd17-1234",
        release_id="ocds-b5fd17-1234-1",
        notice_type="tender",
        stage="tender",
        title="School meals service for Leicestershire primary schools",
        description="Provision of hot school meals.",
        buyer="Leicestershire County Council",
        cpv=("55524000",),
        regions=("UKF2",),
        value=Value(amount=250000.0, min=None, currency="GBP"),
        deadline=DEADLINE,
        published=datetime(2025, 1, 20, 9, 0, tzinfo=UTC),
        updated=datetime(2025, 1, 20, 9, 0, tzinfo=UTC),
        suitable_sme=True,
        suitable_vcse=True,
        url="https://www.contractsfinder.service.gov.uk/Notice/1234",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def _count(db: Database, model: type) -> int:
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_migrations_reach_head(database: Database) -> None:
    assert current_revision(database.url) is not None


async def test_new_then_unchanged_then_changed(database: Database) -> None:
    async with database.session() as s:
        first = await store_notice(s, _notice())
    async with database.session() as s:
        again = await store_notice(s, _notice(release_id="ocds-b5fd17-1234-2"))
    moved = DEADLINE + timedelta(days=7)
    later = datetime(2025, 1, 25, tzinfo=UTC)
    async with database.session() as s:
        changed = await store_notice(s, _notice(deadline=moved, updated=later))

    assert (first.status, first.version) == ("new", 1)
    assert (again.status, again.version) == ("unchanged", 1)
    assert (changed.status, changed.version) == ("changed", 2)
    assert changed.changes == {"deadline": [DEADLINE.isoformat(), moved.isoformat()]}
    assert await _count(database, NoticeRow) == 1
    assert await _count(database, NoticeVersionRow) == 2
    async with database.session() as s:
        row = (await s.exec(select(NoticeRow))).one()
    assert row.deadline == moved and row.deadline.tzinfo is not None


async def test_older_release_does_not_overwrite_newer(database: Database) -> None:
    newer = _notice(title="New title", updated=datetime(2025, 2, 1, tzinfo=UTC))
    async with database.session() as s:
        await store_notice(s, newer)
    async with database.session() as s:
        result = await store_notice(s, _notice(updated=datetime(2025, 1, 1, tzinfo=UTC)))
    assert result.status == "unchanged"
    async with database.session() as s:
        assert (await s.exec(select(NoticeRow.title))).one() == "New title"


async def test_same_procurement_on_both_feeds_is_linked(database: Database) -> None:
    async with database.session() as s:
        cf = await store_notice(s, _notice())
    fts = _notice(
        source="find_a_tender",
        ocid="ocds-h6vhtk-04a1b2",
        release_id="ocds-h6vhtk-04a1b2-1",
        title="Leicestershire primary schools: school meals service",
        buyer="LEICESTERSHIRE COUNTY COUNCIL",
    )
    other = _notice(source="find_a_tender", ocid="ocds-h6vhtk-ffff", title="Road gritting")
    async with database.session() as s:
        dup = await store_notice(s, fts)
        unrelated = await store_notice(s, other)
    assert dup.canonical_id == cf.notice_id != dup.notice_id
    assert unrelated.canonical_id == unrelated.notice_id
