"""The webhook inbox: updates stored on arrival, handled by any worker, in order per chat.

A worker claims, for each chat with nothing in flight, that chat's oldest pending update —
in one ``UPDATE … RETURNING`` statement inside :meth:`storage.db.Database.claim_session`
(PostgreSQL re-checks the row condition when two claimers meet; SQLite holds the write lock
from the start). So one chat's updates are never handled by two workers at once, nor out of
order; different chats go in parallel. A worker renews its claims while it handles them
(:func:`keep_updates`); one that dies leaves them to expire and the update is handled again
(handlers are idempotent or guarded by the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import TelegramInboxRow

PENDING, DONE, FAILED = "pending", "done", "failed"


async def store_update(
    session: AsyncSession, update_id: int, chat_key: int, payload: dict[str, Any], now: datetime
) -> bool:
    """Store a pushed update; False when it was stored before (a repeated delivery)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(TelegramInboxRow)
        .values(
            update_id=update_id,
            chat_key=chat_key,
            payload=payload,
            status=PENDING,
            attempts=0,
            received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(col(TelegramInboxRow.update_id))
    )
    return (await session.exec(stmt)).first() is not None


async def claim_updates(
    session: AsyncSession, worker: str, *, now: datetime, lease: timedelta, limit: int
) -> list[TelegramInboxRow]:
    """Claim the oldest pending update of up to ``limit`` chats that have none in flight."""
    t: Any = TelegramInboxRow.__table__  # type: ignore[attr-defined]
    busy = (
        select(t.c.chat_key)
        .where(t.c.status == PENDING, t.c.claimed_until.is_not(None), t.c.claimed_until >= now)
        .scalar_subquery()
    )
    heads = await session.exec(
        select(func.min(t.c.update_id))
        .where(t.c.status == PENDING, t.c.chat_key.not_in(busy))
        .group_by(t.c.chat_key)
        .order_by(func.min(t.c.update_id))
        .limit(limit)
    )
    head_ids = [int(h) for h in heads.all()]
    if not head_ids:
        return []
    # The update re-checks each row: of two claimers that read the same heads, the second
    # finds them claimed (PostgreSQL re-evaluates the condition after the first commits).
    claimed = await session.exec(
        update(t)
        .where(
            t.c.update_id.in_(head_ids),
            t.c.status == PENDING,
            (t.c.claimed_until.is_(None)) | (t.c.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(t.c.update_id)
    )
    ids = [row[0] for row in claimed.all()]
    if not ids:
        return []
    rows = await session.exec(
        select(TelegramInboxRow)
        .where(col(TelegramInboxRow.update_id).in_(ids))
        .order_by(col(TelegramInboxRow.update_id))
    )
    return list(rows.all())


async def keep_updates(
    session: AsyncSession, update_ids: Sequence[int], worker: str, until: datetime
) -> set[int]:
    """Push ``worker``'s claim on updates it is still handling to ``until``; the ids still
    its own. A handler may wait on the send budget longer than the lease: a claim that ran
    out would let another worker handle the update again."""
    if not update_ids:
        return set()
    t: Any = TelegramInboxRow.__table__  # type: ignore[attr-defined]
    kept = await session.exec(
        update(t)
        .where(t.c.update_id.in_(list(update_ids)), t.c.claimed_by == worker, t.c.status == PENDING)
        .values(claimed_until=until)
        .returning(t.c.update_id)
    )
    return {int(row[0]) for row in kept.all()}


async def finish_update(
    session: AsyncSession,
    update_id: int,
    worker: str,
    *,
    now: datetime,
    error: str | None = None,
    max_attempts: int = 3,
) -> None:
    """Done — or, after a failure, pending again (later) until ``max_attempts``."""
    row = await session.get(TelegramInboxRow, update_id)
    if row is None or row.claimed_by != worker or row.status != PENDING:
        return
    row.attempts += 1
    row.claimed_until = None
    if error is None:
        row.status, row.done_at = DONE, now
    else:
        row.last_error = error[:500]
        if row.attempts >= max_attempts:
            row.status, row.done_at = FAILED, now
        else:
            row.claimed_until = now + timedelta(seconds=5 * row.attempts)
    session.add(row)


async def prune_updates(session: AsyncSession, older_than: datetime) -> int:
    """Forget handled updates (long past Telegram's redelivery window)."""
    result = await session.exec(
        delete(TelegramInboxRow).where(
            col(TelegramInboxRow.status).in_([DONE, FAILED]),
            col(TelegramInboxRow.received_at) < older_than,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def inbox_backlog(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Pending updates and the age of the oldest, for /healthz."""
    t: Any = TelegramInboxRow.__table__  # type: ignore[attr-defined]
    count, oldest = (
        await session.exec(
            select(func.count(), func.min(t.c.received_at)).where(t.c.status == PENDING)
        )
    ).one()
    age = 0
    if oldest is not None:
        if isinstance(oldest, str):  # SQLite returns the raw text for an aggregate
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = int((now - oldest).total_seconds())
    return {"backlog": int(count), "oldest_seconds": max(0, age)}


async def handled_order(session: AsyncSession) -> Sequence[tuple[int, int, datetime | None]]:
    """(chat_key, update_id, done_at) of handled updates (tests and benchmarks check order)."""
    rows = await session.exec(
        select(
            col(TelegramInboxRow.chat_key),
            col(TelegramInboxRow.update_id),
            col(TelegramInboxRow.done_at),
        )
        .where(and_(col(TelegramInboxRow.status) == DONE))
        .order_by(col(TelegramInboxRow.done_at))
    )
    return [(int(a), int(b), c) for a, b, c in rows.all()]
