"""Claiming due work rows with a lease: the one mechanism behind every queue in bestbot.

The alert outbox, the message outbox and the enquiry timers are all tables of rows with
``status``, ``due_at``, ``claimed_by`` and ``claimed_until``. A worker claims due, unclaimed
rows — ``SELECT id … LIMIT n FOR UPDATE SKIP LOCKED``, then ``UPDATE … WHERE id IN (those)
AND still unclaimed RETURNING id`` — in one transaction inside
:meth:`storage.db.Database.claim_session`, so two claimers can never take the same row:
PostgreSQL skips rows another transaction has locked, and on SQLite the transaction is
``BEGIN IMMEDIATE`` (the write lock is held before the candidates are read, across
processes too).

A worker that dies leaves its claim to expire and the row is claimed again: work is repeated
at most once per crash, never lost. A worker that is still working on a row extends its
claim (:func:`extend_claim`) right before the slow part (a send), and gives up the row if
the claim is no longer its own — a row taken over is never sent by both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row")


def _unclaimed(table: Any, now: datetime, pending: str) -> tuple[Any, ...]:
    return (
        col(table.status) == pending,
        col(table.due_at) <= now,
        or_(col(table.claimed_until).is_(None), col(table.claimed_until) < now),
    )


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
    candidates = await session.exec(
        select(table.id)
        .where(*_unclaimed(table, now, pending), *where)
        .order_by(col(table.due_at), col(table.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # Two statements, not ``UPDATE … WHERE id IN (SELECT … LIMIT n)``: PostgreSQL may run
    # such a subquery more than once and claim more than ``limit`` rows.
    candidate_ids = list(candidates.all())
    if not candidate_ids:
        return []
    claimed = await session.exec(
        update(table)
        .where(col(table.id).in_(candidate_ids), *_unclaimed(table, now, pending))
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(col(table.id))
    )
    ids = list(claimed.scalars().all())
    if not ids:
        return []
    rows = await session.exec(select(table).where(col(table.id).in_(ids)).order_by(col(table.id)))
    return list(rows.all())


async def extend_claim(
    session: AsyncSession,
    model: type[Row],
    ids: Sequence[int],
    worker: str,
    *,
    until: datetime,
    pending: str = "pending",
) -> set[int]:
    """Push ``worker``'s claim on ``ids`` to ``until``; returns the ids still its own.

    Called right before sending: if the lease ran out and another worker took a row, that
    row is not in the result and must not be sent again by this one.
    """
    table: Any = model
    if not ids:
        return set()
    result = await session.exec(
        update(table)
        .where(
            col(table.id).in_(list(ids)),
            col(table.claimed_by) == worker,
            col(table.status) == pending,
        )
        .values(claimed_until=until)
        .returning(col(table.id))
    )
    return set(result.scalars().all())
