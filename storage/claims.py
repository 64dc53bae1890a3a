"""Claiming due work rows with a lease: the one mechanism behind every queue in bestbot.

The alert outbox, the enquiry outbox and the enquiry timers are all tables of rows with
``status``, ``due_at``, ``claimed_by`` and ``claimed_until``. A worker claims due, unclaimed
rows by writing its name and a lease expiry in a short transaction before doing the work;
on PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED`` so two workers never
claim the same row (SQLite has one writer and the clause is not rendered). A worker that
dies leaves its claim to expire, and the row is claimed again: work is repeated at most once
per crash, never lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row")


async def claim_rows(
    session: AsyncSession,
    model: type[Row],
    worker: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    pending: str = "pending",
    where: tuple[Any, ...] = (),
) -> list[Row]:
    """Claim up to ``limit`` due rows of ``model`` for ``worker``, oldest due first."""
    table: Any = model
    query = (
        select(table.id)
        .where(
            col(table.status) == pending,
            col(table.due_at) <= now,
            or_(col(table.claimed_until).is_(None), col(table.claimed_until) < now),
            *where,
        )
        .order_by(col(table.due_at), col(table.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.exec(query)).all())
    if not ids:
        return []
    await session.exec(
        update(table)
        .where(col(table.id).in_(ids))
        .values(claimed_by=worker, claimed_until=now + lease)
    )
    rows = await session.exec(select(table).where(col(table.id).in_(ids)).order_by(col(table.id)))
    return list(rows.all())
