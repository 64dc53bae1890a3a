"""Issue #17.5: in a group that subscribed, only its admins may act on its alerts.

The group's alert comes through the real delivery loop; a member who is not an admin
presses every button under it (👍, 👎, 🔕 mute, ⏰ remind me, ❓ ask), and each is refused
with the same answer the commands give, changing nothing: no feedback, the keyword kept, no
reminder, no question awaited, the message not edited. The admin's presses work. Roles are
checked with getChatMember on every press.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.chat.core import NOT_ADMIN
from storage.models import ChatStateRow, DeliveryRow, FeedbackRow, NoticeRow
from storage.outbox import NewDelivery, enqueue
from storage.subscribers import SubscriberInput, upsert_subscriber
from storage.types import utcnow
from tests.chat.conftest import ANN, BEN, GROUP, Chat


async def _group_alert(chat: Chat) -> tuple[int, int]:
    """The group subscribed to "catering" and "laundry", and one alert sent to it."""
    async with chat.db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name="Green Team",
                email=None,
                telegram_chat_id=GROUP,
                frequency="instant",
                profile={"keywords": ["catering", "laundry"]},
            ),
        )
        deadline = utcnow() + timedelta(days=20)
        notice = NoticeRow(
            source="test",
            ocid="ocds-group-1",
            content_hash="g1",
            stage="tender",
            title="Catering and laundry for day centres",
            deadline=deadline,
            data={
                "title": "Catering and laundry for day centres",
                "url": "https://www.find-tender.service.gov.uk/Notice/000001-2026",
                "buyer": "Nottingham City Council",
                "deadline": deadline.isoformat(),
                "stage": "tender",
                "regions": ["UKF14"],
            },
        )
        session.add(notice)
        await session.flush()
        assert notice.id is not None
        await enqueue(
            session,
            [
                NewDelivery(
                    subscriber_id=sub_id,
                    notice_id=notice.id,
                    version=1,
                    channel="telegram",
                    due_at=utcnow() - timedelta(seconds=1),
                    reasons=("keyword “catering” in the title",),
                    keywords=("catering", "laundry"),
                )
            ],
        )
    assert (await chat.services.send_alerts()).sent == 1
    return sub_id, notice.id


async def test_a_member_who_is_not_an_admin_cannot_act_on_the_groups_alerts(chat: Chat) -> None:
    chat.fake.add_group(GROUP, "Green Team", admins=[ANN], members=[BEN])
    sub_id, _notice_id = await _group_alert(chat)
    [alert] = chat.fake.messages(GROUP)
    labels = [b["text"] for b in alert.buttons]
    assert any(label.startswith("🔕 Mute") for label in labels) and "⏰ Remind me" in labels
    before = len(chat.fake.calls("getChatMember"))
    for data in alert.callback_data:
        assert await chat.press(BEN, alert, data, chat_id=GROUP) == NOT_ADMIN, data
    # every press was checked against Telegram, none trusted to the button
    assert len(chat.fake.calls("getChatMember")) - before >= len(alert.callback_data)
    async with chat.db.session() as session:
        feedback = (await session.exec(select(FeedbackRow))).all()
        reminders = (
            await session.exec(select(DeliveryRow).where(col(DeliveryRow.kind) == "reminder"))
        ).all()
        asking = await session.get(ChatStateRow, GROUP)
    assert feedback == [] and reminders == [] and asking is None
    assert (await chat.profile(GROUP)).keywords == ["catering", "laundry"]
    assert chat.current(alert).history == []  # the message was never edited for him

    # the group's admin may
    mute = next(d for d in alert.callback_data if d.startswith("mute:"))
    assert "catering" in await chat.press(ANN, alert, mute, chat_id=GROUP)
    assert (await chat.profile(GROUP)).keywords == ["laundry"]
    not_relevant = next(d for d in alert.callback_data if d.startswith("fb-:"))
    await chat.press(ANN, chat.current(alert), not_relevant, chat_id=GROUP)
    async with chat.db.session() as session:
        [row] = (await session.exec(select(FeedbackRow))).all()
    assert row.subscriber_id == sub_id and row.relevant is False
