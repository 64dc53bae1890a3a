"""Per-feed poll cursors and job leases.

A cursor is saved in the same transaction as the page of notices it follows,
so a crash re-reads a page rather than skipping one. A lease makes a scheduled
job run on one worker at a time when several share a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import FeedCursorRow, JobLeaseRow
from storage.types import utcnow

#: How many skipped releases a feed's cursor remembers (for /healthz).
SKIPPED_KEPT = 20


async def get_cursor(session: AsyncSession, feed: str) -> FeedCursorRow | None:
    return await session.get(FeedCursorRow, feed)


async def save_cursor(
    session: AsyncSession,
    feed: str,
    *,
    cursor: str | None,
    watermark: datetime | None,
    error: str | None = None,
    skipped: Sequence[str] = (),
) -> None:
    """Record where the next poll of ``feed`` starts (call inside the page's transaction),
    and the releases this page skipped."""
    row = await session.get(FeedCursorRow, feed)
    if row is None:
        row = FeedCursorRow(feed=feed)
    if skipped:
        at = utcnow().isoformat(timespec="seconds")
        fresh = [{"at": at, "problem": p[:300]} for p in skipped]
        row.skipped = (fresh + list(row.skipped or []))[:SKIPPED_KEPT]
    row.cursor = cursor
    if watermark is not None:
        row.watermark = watermark
    row.last_poll_at = utcnow()
    row.last_error = error
    if error is None:
        row.last_success_at = row.last_poll_at
    session.add(row)
    await session.flush()


async def record_poll_error(session: AsyncSession, feed: str, error: str) -> None:
    """Keep the cursor, note the error (shown by ``poll`` and health checks)."""
    row = await session.get(FeedCursorRow, feed) or FeedCursorRow(feed=feed)
    row.last_error = error[:1000]
    row.last_poll_at = utcnow()
    session.add(row)
    await session.flush()


async def acquire_lease(session: AsyncSession, name: str, owner: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``owner``; False if another owner holds it."""
    now = utcnow()
    result = await session.exec(
        update(JobLeaseRow)
        .where(
            col(JobLeaseRow.name) == name,
            (col(JobLeaseRow.owner) == owner) | (col(JobLeaseRow.expires_at) < now),
        )
        .values(owner=owner, expires_at=now + ttl)
    )
    if result.rowcount:
        return True
    try:
        async with session.begin_nested():
            session.add(JobLeaseRow(name=name, owner=owner, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False


async def release_lease(session: AsyncSession, name: str, owner: str) -> None:
    await session.exec(
        update(JobLeaseRow)
        .where(col(JobLeaseRow.name) == name, col(JobLeaseRow.owner) == owner)
        .values(expires_at=utcnow())
    )


async def lease_holder(session: AsyncSession, name: str) -> str | None:
    """Who holds the lease ``name`` now (None when nobody does, or it has run out)."""
    row = await session.get(JobLeaseRow, name)
    if row is None or row.expires_at < utcnow():
        return None
    return row.owner


async def take_over_lease(
    session: AsyncSession, name: str, dead_owner: str, owner: str, ttl: timedelta
) -> bool:
    """Take the lease from ``dead_owner`` (known to be gone) — only if it still holds it, so
    two workers that both saw it die can't both take it."""
    result = await session.exec(
        update(JobLeaseRow)
        .where(col(JobLeaseRow.name) == name, col(JobLeaseRow.owner) == dead_owner)
        .values(owner=owner, expires_at=utcnow() + ttl)
    )
    return bool(result.rowcount)
