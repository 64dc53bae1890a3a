"""/forget deletes a subscriber: their enquiries, messages, events, timers and outbox rows go
with it (ON DELETE CASCADE); a non-subscriber's enquiries are removed by forget_enquirer."""

from __future__ import annotations

from sqlmodel import select

from bot.enquiries.model import IncomingMessage
from storage import enquiries as store
from storage.db import Database
from storage.models import (
    EnquiryEventRow,
    EnquiryMessageRow,
    EnquiryRow,
    EnquiryTimerRow,
    MessageRow,
    SubscriberRow,
)
from tests.enquiries.enquiry_kit import (
    ANN,
    EVE,
    TENDER_Q,
    enquiry_service,
    make_config,
    seed,
    start_clock,
)

CHILDREN = (EnquiryMessageRow, EnquiryEventRow, EnquiryTimerRow, MessageRow)


async def _count(db: Database, model: object) -> int:
    async with db.session() as session:
        return len((await session.exec(select(model))).all())  # type: ignore[call-overload]


async def test_enquiries_go_with_the_subscriber(database: Database) -> None:
    await seed(database)
    service = enquiry_service(make_config(database), database, clock=start_clock())
    for chat in (ANN, EVE):
        await service.receive(
            IncomingMessage(channel="telegram", text=TENDER_Q, telegram_chat_id=chat)
        )
    async with database.session() as session:
        ann = await store.subscriber_for(session, ANN, None)
        assert ann is not None and ann.id is not None
        mine = await store.enquiries_for_subscriber(session, ann.id)
        assert [e.telegram_chat_id for e in mine] == [ANN]
        before = {m: await _count(database, m) for m in CHILDREN}
        await session.delete(await session.get(SubscriberRow, ann.id))
    assert await _count(database, EnquiryRow) == 1
    for model in CHILDREN:
        assert 0 < await _count(database, model) < before[model]

    async with database.session() as session:
        assert await store.forget_enquirer(session, chat_id=EVE) == 1
    assert await _count(database, EnquiryRow) == 0
    for model in CHILDREN:
        assert await _count(database, model) == 0
