"""/privacy, /mydata and /forget against the database."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import col, func, select

from bot.chat.core import data
from storage.feedback import record_feedback
from storage.models import (
    ChatStateRow,
    DeliveryRow,
    EnquiryRow,
    FeedbackRow,
    NoticeRow,
    ProfileRow,
    SubscriberRow,
)
from storage.outbox import NewDelivery, enqueue
from storage.types import utcnow
from tests.chat.conftest import ANN, BEN, Chat


async def _history(chat: Chat, sub_id: int) -> int:
    async with chat.db.session() as session:
        notice = NoticeRow(
            source="test",
            ocid="ocds-priv-1",
            content_hash="x",
            stage="tender",
            title="Meals <on> wheels",
            data={"title": "Meals <on> wheels"},
        )
        session.add(notice)
        await session.flush()
        assert notice.id is not None
        await enqueue(
            session,
            [NewDelivery(sub_id, notice.id, 1, "telegram", utcnow() - timedelta(days=1))],
        )
        await record_feedback(session, sub_id, notice.id, True)
        return notice.id


async def _count(chat: Chat, model: type, sub_id: int) -> int:
    async with chat.db.session() as session:
        query = select(func.count()).select_from(model).where(col(model.subscriber_id) == sub_id)  # type: ignore[attr-defined]
        return int((await session.exec(query)).one())


async def test_privacy_mydata_forget(chat: Chat) -> None:
    text = (await chat.send(ANN, "/privacy")).text
    assert "What we keep" in text and "/mydata" in text and "/forget" in text
    assert "don't hold any data" in (await chat.send(ANN, "/mydata")).text
    await chat.onboard(ANN, "catering, <b>laundry</b>")
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.id is not None
    await _history(chat, sub.id)
    await chat.onboard(BEN, "gardening")  # someone else, who must be untouched
    await chat.send(ANN, "/ask How do we bid for <school> meals?")

    doc = await chat.send(ANN, "/mydata")
    assert doc.method == "sendDocument" and doc.document is not None
    assert doc.document.filename == "bestbot-my-data.json"
    exported = json.loads(doc.document.data)
    assert exported["subscriber"]["telegram_chat_id"] == ANN
    assert exported["profile"]["keywords"] == ["catering", "laundry"]
    assert exported["profile"]["description"] == "catering, <b>laundry</b>"
    assert exported["feedback"][0]["relevant"] is True
    assert exported["feedback"][0]["notice_title"] == "Meals <on> wheels"
    assert exported["deliveries"][0]["channel"] == "telegram"
    [enquiry] = exported["enquiries"]
    assert enquiry["messages"][0]["text"] == "How do we bid for <school> meals?"

    ask = await chat.send(ANN, "/forget")
    assert "Delete everything?" in ask.text
    assert await chat.press(ANN, ask, data("fg", "n")) == "Nothing deleted"
    assert await chat.subscriber(ANN) is not None
    ask = await chat.send(ANN, "/forget")
    assert await chat.press(ANN, ask, data("fg", "y")) == "Deleted"
    assert "everything about you is deleted" in chat.current(ask).text
    assert await chat.subscriber(ANN) is None
    for model in (ProfileRow, DeliveryRow, FeedbackRow, EnquiryRow):
        assert await _count(chat, model, sub.id) == 0
    async with chat.db.session() as session:
        assert await session.get(SubscriberRow, sub.id) is None
        assert await session.get(ChatStateRow, ANN) is None
    assert await chat.subscriber(BEN) is not None
    assert chat.current(ask).reply_markup is None  # the confirm button is gone
    # a later /start begins from scratch
    assert "What does your enterprise do?" in (await chat.send(ANN, "/start")).text
    assert "nothing to delete" in (await chat.send(ANN, "/forget")).text
