"""The outbox on both backends: idempotent enqueue, exclusive claims, expiry, retries."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.db import Database
from storage.models import DeliveryRow, SubscriberRow
from storage.notices import store_notice
from storage.outbox import (
    NewDelivery,
    claim_due,
    enqueue,
    mark_retry,
    mark_sent,
    reschedule_reminders,
)
from storage.types import utcnow
from tests.storage.test_notices import _notice


async def _setup(db: Database, subscribers: int = 3) -> tuple[list[int], int]:
    async with db.session() as s:
        stored = await store_notice(s, _notice())
        subs = [SubscriberRow(name=f"s{i}", telegram_chat_id=100 + i) for i in range(subscribers)]
        s.add_all(subs)
        await s.flush()
        return [sub.id for sub in subs if sub.id is not None], stored.notice_id


def _deliveries(subs: list[int], notice_id: int) -> list[NewDelivery]:
    now = utcnow() - timedelta(seconds=1)
    return [NewDelivery(sid, notice_id, 1, "telegram", now, reasons=("r",)) for sid in subs]


async def test_enqueue_is_idempotent(database: Database) -> None:
    subs, notice_id = await _setup(database)
    async with database.session() as s:
        assert await enqueue(s, _deliveries(subs, notice_id)) == 3
    async with database.session() as s:
        assert await enqueue(s, _deliveries(subs, notice_id)) == 0
    async with database.session() as s:
        assert len((await s.exec(select(DeliveryRow))).all()) == 3


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(
    database: Database,
) -> None:
    subs, notice_id = await _setup(database)
    async with database.session() as s:
        await enqueue(s, _deliveries(subs, notice_id))
    async with database.session() as s:
        first = await claim_due(s, "w1", limit=2)
    async with database.session() as s:
        second = await claim_due(s, "w2", limit=10)
    assert len(first) == 2 and len(second) == 1
    assert not {r.id for r in first} & {r.id for r in second}
    # w1 "crashes": after the lease, w2 may take its rows.
    later = utcnow() + timedelta(minutes=5)
    async with database.session() as s:
        retaken = await claim_due(s, "w2", now=later)
    assert {r.id for r in retaken} == {r.id for r in first} | {r.id for r in second}


async def test_sent_rows_are_never_claimed_again(database: Database) -> None:
    subs, notice_id = await _setup(database, subscribers=1)
    async with database.session() as s:
        await enqueue(s, _deliveries(subs, notice_id))
    async with database.session() as s:
        rows = await claim_due(s, "w1")
    async with database.session() as s:
        await mark_sent(s, [r.id for r in rows if r.id], "w1", message_ref="42")
    async with database.session() as s:
        assert await claim_due(s, "w1", now=utcnow() + timedelta(hours=1)) == []
        row = (await s.exec(select(DeliveryRow))).one()
    assert (row.status, row.message_ref, row.attempts) == ("sent", "42", 1)


async def test_retries_then_fails_with_the_reason(database: Database) -> None:
    subs, notice_id = await _setup(database, subscribers=1)
    async with database.session() as s:
        await enqueue(s, _deliveries(subs, notice_id))
    when = utcnow()
    for attempt in range(3):
        when += timedelta(minutes=10)
        async with database.session() as s:
            rows = await claim_due(s, "w1", now=when)
            assert len(rows) == 1, f"attempt {attempt}"
            await mark_retry(s, [rows[0].id or 0], "w1", "SMTP 451", retry_at=when, max_attempts=3)
    async with database.session() as s:
        row = (await s.exec(select(DeliveryRow))).one()
        assert await claim_due(s, "w1", now=when + timedelta(days=1)) == []
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "SMTP 451")


async def test_reminders_follow_a_moved_deadline(database: Database) -> None:
    subs, notice_id = await _setup(database, subscribers=1)
    now = utcnow()
    deadline = now + timedelta(days=10)
    async with database.session() as s:
        await enqueue(
            s,
            [
                NewDelivery(
                    subs[0],
                    notice_id,
                    0,
                    "telegram",
                    deadline - timedelta(days=d),
                    kind="reminder",
                    variant=f"{d}d",
                )
                for d in (3, 1)
            ],
        )
    moved = now + timedelta(days=2)  # brought forward: the 3-day reminder is now in the past
    async with database.session() as s:
        assert await reschedule_reminders(s, notice_id, moved, now) == 2
    async with database.session() as s:
        rows = {r.variant: r for r in (await s.exec(select(DeliveryRow))).all()}
    assert rows["3d"].status == "cancelled"
    assert rows["1d"].status == "pending" and rows["1d"].due_at == moved - timedelta(days=1)
