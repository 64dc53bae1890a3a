"""What a preview reads and a backfill writes: recent and open notices, what a subscriber was
already sent, and the withdrawal of an offered backfill.

A *backfill* is the open notices that match a new (or just changed) profile, queued in the
ordinary ``delivery`` outbox a short while ahead, so the person can still say "don't send".
They are ordinary alert rows (kind ``alert``, no variant), so a notice the pipeline queues
at the same time is still sent once; withdrawing them deletes the rows (a later preview may
offer them again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.notice import Notice
from storage.models import DeliveryRow, NoticeRow
from storage.outbox import PENDING, SENT

__all__ = [
    "Candidate",
    "Indexed",
    "alerted_notices",
    "load_candidates",
    "preview_index",
    "withdraw_backfill",
]


@dataclass(frozen=True, slots=True)
class Indexed:
    """A notice a preview may match, before its content is read."""

    notice_id: int
    version: int
    first_seen: datetime
    #: the hash of what the notice says (:meth:`feeds.notice.Notice.content_hash`)
    content_hash: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored notice a preview may match: new in the window, or still open."""

    notice_id: int
    version: int
    first_seen: datetime
    notice: Notice
    content_hash: str


def _candidate_filter(since: datetime, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Canonical notices first seen since ``since``, or whose deadline is after ``now``."""
    return (
        col(NoticeRow.duplicate_of).is_(None),
        or_(col(NoticeRow.first_seen) >= since, col(NoticeRow.deadline) > now),
    )


async def preview_index(
    session: AsyncSession, since: datetime, now: datetime, limit: int = 20_000
) -> list[Indexed]:
    """Canonical notices first seen since ``since`` and those still open after ``now``
    (whenever first seen), newest first, at most ``limit``; without their content."""
    rows = await session.exec(
        select(NoticeRow.id, NoticeRow.version, NoticeRow.first_seen, NoticeRow.content_hash)
        .where(*_candidate_filter(since, now))
        .order_by(col(NoticeRow.first_seen).desc())
        .limit(limit)
    )
    return [Indexed(int(i), int(v), f, h) for i, v, f, h in rows.all() if i is not None]


async def load_candidates(session: AsyncSession, items: Sequence[Indexed]) -> list[Candidate]:
    """The content of indexed candidates (in chunks: SQLite limits bound parameters)."""
    by_id = {i.notice_id: i for i in items}
    out: list[Candidate] = []
    ids = list(by_id)
    for start in range(0, len(ids), 900):
        rows = await session.exec(
            select(NoticeRow).where(col(NoticeRow.id).in_(ids[start : start + 900]))
        )
        for row in rows:
            assert row.id is not None
            notice = Notice.from_json_dict({"source": row.source, "ocid": row.ocid, **row.data})
            item = by_id[row.id]
            out.append(Candidate(row.id, row.version, item.first_seen, notice, row.content_hash))
    return out


async def alerted_notices(session: AsyncSession, subscriber_id: int) -> set[int]:
    """Notices this subscriber was sent, or has waiting, as an alert (any version)."""
    rows = await session.exec(
        select(DeliveryRow.notice_id).where(
            col(DeliveryRow.subscriber_id) == subscriber_id,
            col(DeliveryRow.kind) == "alert",
            col(DeliveryRow.status).in_((PENDING, SENT)),
        )
    )
    return set(rows.all())


async def withdraw_backfill(session: AsyncSession, subscriber_id: int, due_at: datetime) -> int:
    """Delete the backfill queued for ``due_at`` (to the millisecond) that is still waiting;
    returns how many rows went (0 when they were sent already)."""
    start = due_at.replace(microsecond=due_at.microsecond // 1000 * 1000)
    result = await session.exec(
        delete(DeliveryRow).where(
            col(DeliveryRow.subscriber_id) == subscriber_id,
            col(DeliveryRow.kind) == "alert",
            col(DeliveryRow.status) == PENDING,
            col(DeliveryRow.claimed_by).is_(None),
            col(DeliveryRow.due_at) >= start,
            col(DeliveryRow.due_at) < start + timedelta(milliseconds=1),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
