"""Outbox operations: enqueue deliveries, claim due ones, record the outcome.

Claiming writes ``claimed_by``/``claimed_until`` in its own short transaction
before anything is sent. On PostgreSQL the candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` so several dispatchers never claim the same row; on
SQLite there is a single writer and the clause is simply not rendered. A row is
marked sent only after the channel accepted it; a crash in between leaves the
claim to expire, and the row is sent again (the in-flight message, at most).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.claims import claim_rows, extend_claim
from storage.models import DeliveryRow
from storage.types import utcnow

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"
#: Rows per INSERT page in :func:`enqueue` (measured: 50 costs a fifth of the CPU of 500).
_INSERT_PAGE = 50


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to enqueue; duplicates of an existing row are ignored."""

    subscriber_id: int
    notice_id: int
    version: int
    channel: str
    due_at: datetime
    kind: str = "alert"
    variant: str = ""
    score: int = 0
    reasons: Sequence[str] = ()
    keywords: Sequence[str] = ()
    changes: dict[str, Any] = field(default_factory=dict)
    lots: Sequence[str] = ()


async def enqueue(
    session: AsyncSession, deliveries: Sequence[NewDelivery], now: datetime | None = None
) -> int:
    """Insert deliveries, skipping any that already exist; returns how many were new.
    ``now`` is the caller's clock (the grouping rule compares it with send times).

    One statement executed for many rows, sent in pages of ``_INSERT_PAGE``. A 500-row
    ``VALUES`` list built per chunk cost about 0.45 ms of CPU a row on the event loop (a
    match that queued 41,000 "maybe" rows held every reply for 15 s); small pages cost
    about a fifth of that, and each page's round trip lets the loop answer people."""
    created = now or utcnow()
    if not deliveries:
        return 0
    rows = [_row(d, created) for d in deliveries]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = DeliveryRow.__table__  # type: ignore[attr-defined]
    stmt = (
        insert(table)
        .on_conflict_do_nothing()
        .returning(table.c.id)
        .execution_options(insertmanyvalues_page_size=_INSERT_PAGE)
    )
    connection = await session.connection()
    result = await connection.execute(stmt, rows)
    return len(result.all())


async def claim_due(
    session: AsyncSession,
    worker: str,
    *,
    now: datetime | None = None,
    limit: int = 200,
    lease: timedelta = timedelta(minutes=2),
    channel: str | None = None,
) -> list[DeliveryRow]:
    """Claim up to ``limit`` due, unclaimed rows for ``worker`` and return them."""
    conditions = () if channel is None else (col(DeliveryRow.channel) == channel,)
    return await claim_rows(
        session,
        DeliveryRow,
        worker,
        now=now or utcnow(),
        lease=lease,
        limit=limit,
        pending=PENDING,
        where=conditions,
    )


async def keep_deliveries(
    session: AsyncSession, ids: Sequence[int], worker: str, until: datetime
) -> set[int]:
    """Extend ``worker``'s claim right before sending; the ids still its own."""
    return await extend_claim(session, DeliveryRow, ids, worker, until=until, pending=PENDING)


async def mark_sent(
    session: AsyncSession,
    ids: Sequence[int],
    worker: str,
    message_ref: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record success; only rows still claimed by ``worker`` are touched."""
    await session.exec(
        update(DeliveryRow)
        .where(col(DeliveryRow.id).in_(list(ids)), col(DeliveryRow.claimed_by) == worker)
        .values(
            status=SENT,
            sent_at=sent_at or utcnow(),
            message_ref=message_ref,
            claimed_until=None,
            attempts=col(DeliveryRow.attempts) + 1,
        )
    )


async def mark_retry(
    session: AsyncSession,
    ids: Sequence[int],
    worker: str,
    error: str,
    *,
    retry_at: datetime,
    max_attempts: int,
    count_attempt: bool = True,
) -> bool:
    """Record a transient failure: retry at ``retry_at``, or fail after ``max_attempts``.
    True when the rows are now failed."""
    rows = await session.exec(
        select(DeliveryRow).where(
            col(DeliveryRow.id).in_(list(ids)), DeliveryRow.claimed_by == worker
        )
    )
    failed = False
    for row in rows:
        if count_attempt:
            row.attempts += 1
        row.last_error = error[:500]
        row.claimed_until = None
        if row.attempts >= max_attempts:
            row.status = FAILED
            failed = True
        else:
            row.due_at = retry_at
        session.add(row)
    return failed


async def mark_final(session: AsyncSession, ids: Sequence[int], status: str, reason: str) -> None:
    """End rows without sending (``failed`` or ``cancelled``), keeping the reason."""
    await session.exec(
        update(DeliveryRow)
        .where(col(DeliveryRow.id).in_(list(ids)), col(DeliveryRow.status) == PENDING)
        .values(status=status, last_error=reason[:500], claimed_until=None)
    )


async def cancel_pending_for(session: AsyncSession, subscriber_id: int, channel: str) -> None:
    """Drop everything pending on a channel that can no longer receive (e.g. blocked bot)."""
    await session.exec(
        update(DeliveryRow)
        .where(
            col(DeliveryRow.subscriber_id) == subscriber_id,
            col(DeliveryRow.channel) == channel,
            col(DeliveryRow.status) == PENDING,
        )
        .values(status=CANCELLED, last_error="channel deactivated", claimed_until=None)
    )


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending row becomes due (lets the dispatcher sleep until then)."""
    query = (
        select(DeliveryRow.due_at)
        .where(DeliveryRow.status == PENDING)
        .order_by(col(DeliveryRow.due_at))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def defer(session: AsyncSession, ids: Sequence[int], worker: str, until: datetime) -> None:
    """Put claimed rows back, due at ``until``, without counting an attempt."""
    await session.exec(
        update(DeliveryRow)
        .where(col(DeliveryRow.id).in_(list(ids)), col(DeliveryRow.claimed_by) == worker)
        .values(due_at=until, claimed_until=None)
    )


async def last_sent_at(session: AsyncSession, subscriber_id: int, channel: str) -> datetime | None:
    """When the subscriber last received something on ``channel``."""
    query = (
        select(DeliveryRow.sent_at)
        .where(
            col(DeliveryRow.subscriber_id) == subscriber_id,
            col(DeliveryRow.channel) == channel,
            col(DeliveryRow.status) == SENT,
        )
        .order_by(col(DeliveryRow.sent_at).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def reschedule_reminders(
    session: AsyncSession, notice_id: int, deadline: datetime | None, now: datetime
) -> int:
    """Move pending "closes in N days" reminders when a notice's deadline moves.

    A reminder whose new time has passed (or whose notice lost its deadline) is
    cancelled rather than sent late. Returns how many rows were touched.
    """
    rows = await session.exec(
        select(DeliveryRow).where(
            col(DeliveryRow.notice_id) == notice_id,
            col(DeliveryRow.kind) == "reminder",
            col(DeliveryRow.status) == PENDING,
        )
    )
    touched = 0
    for row in rows:
        days = (
            int(row.variant[:-1]) if row.variant.endswith("d") and row.variant[:-1].isdigit() else 0
        )
        due = deadline - timedelta(days=days) if deadline is not None else None
        if due is None or due <= now:
            row.status, row.last_error = CANCELLED, "deadline moved"
        else:
            row.due_at = due
        session.add(row)
        touched += 1
    return touched


@dataclass(frozen=True, slots=True)
class Alerted:
    """A subscriber already alerted to a notice on a channel (who gets its updates)."""

    subscriber_id: int
    notice_id: int
    channel: str
    reasons: tuple[str, ...]
    keywords: tuple[str, ...]
    message_ref: str | None
    #: ``sent`` or ``pending`` (the alert has not gone yet: it will show the newest version).
    status: str = SENT
    lots: tuple[str, ...] = ()
    #: The alert row itself (its message, when sent, is the one to edit in place).
    delivery_id: int = 0


async def alerted_to(session: AsyncSession, notice_ids: Sequence[int]) -> list[Alerted]:
    """Everyone alerted (or about to be) to these notices, once per subscriber and channel."""
    if not notice_ids:
        return []
    rows = await session.exec(
        select(DeliveryRow)
        .where(
            col(DeliveryRow.notice_id).in_(list(notice_ids)),
            col(DeliveryRow.kind) == "alert",
            col(DeliveryRow.status).in_([SENT, PENDING]),
        )
        .order_by(col(DeliveryRow.id))
    )
    seen: dict[tuple[int, int, str], Alerted] = {}
    for row in rows:
        key = (row.subscriber_id, row.notice_id, row.channel)
        seen.setdefault(
            key,
            Alerted(
                subscriber_id=row.subscriber_id,
                notice_id=row.notice_id,
                channel=row.channel,
                reasons=tuple(row.reasons or ()),
                keywords=tuple(row.keywords or ()),
                message_ref=row.message_ref,
                status=row.status,
                lots=tuple(row.lots or ()),
                delivery_id=row.id or 0,
            ),
        )
    return list(seen.values())


async def sent_in_message(
    session: AsyncSession, subscriber_id: int, channel: str, message_ref: str
) -> list[DeliveryRow]:
    """The deliveries one sent message showed (one alert, or every item of a group or digest),
    in the order they were queued: what an in-place edit of that message must show again."""
    rows = await session.exec(
        select(DeliveryRow)
        .where(
            col(DeliveryRow.subscriber_id) == subscriber_id,
            col(DeliveryRow.channel) == channel,
            col(DeliveryRow.message_ref) == message_ref,
            col(DeliveryRow.status) == SENT,
        )
        .order_by(col(DeliveryRow.id))
    )
    return list(rows.all())


async def bring_forward(session: AsyncSession, delivery_ids: Sequence[int], due: datetime) -> int:
    """Make pending alerts due no later than ``due`` (a notice that has just become worth an
    instant alert, while it waited for a digest). Returns how many rows moved."""
    if not delivery_ids:
        return 0
    rows = await session.exec(
        select(DeliveryRow).where(
            col(DeliveryRow.id).in_(list(delivery_ids)),
            col(DeliveryRow.status) == PENDING,
            col(DeliveryRow.due_at) > due,
        )
    )
    moved = 0
    for row in rows:
        row.due_at = due
        session.add(row)
        moved += 1
    return moved


def _row(d: NewDelivery, created: datetime) -> dict[str, Any]:
    return {
        "subscriber_id": d.subscriber_id,
        "notice_id": d.notice_id,
        "version": d.version,
        "channel": d.channel,
        "kind": d.kind,
        "variant": d.variant,
        "status": PENDING,
        "due_at": d.due_at,
        "attempts": 0,
        "score": d.score,
        "reasons": list(d.reasons),
        "keywords": list(d.keywords),
        "changes": dict(d.changes),
        "lots": list(d.lots),
        "created_at": created,
    }
