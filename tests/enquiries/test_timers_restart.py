"""SLA timers driven by hand (short ack_within/reply_within, a clock the test moves), and a
restart in the middle of an open enquiry: a new Application on the same database goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.callbacks import pack
from bot.enquiries.model import ACCEPT, IncomingMessage
from storage import enquiries as store
from storage.db import Database
from storage.models import EnquiryTimerRow, MessageRow
from tests.enquiries.enquiry_kit import (
    ANN,
    DUTY,
    TENDER_Q,
    TESS,
    TOM,
    enquiry_service,
    fake,
    make_config,
    running,
    seed,
    start_clock,
    worker,
)
from tests.fakes.telegram_api import FakeTelegram

__all__ = ["fake"]
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def _adviser_id(db: Database, code: str) -> int:
    async with db.session() as session:
        adviser = await store.adviser_by_code(session, code)
    assert adviser is not None and adviser.id is not None
    return adviser.id


async def test_escalation_reminder_and_away_reroute(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database, ack_within="1h", reply_within="2h") as bot:
        clock = start_clock()
        scheduler = worker(bot, clock)
        tess_mark, tom_mark, duty_mark = bot.mark(TESS), bot.mark(TOM), bot.mark(DUTY)
        await bot.send(ANN, f"/ask {TENDER_Q}")
        await bot.after(TESS, tess_mark)

        clock.advance(minutes=30)
        assert await scheduler.tick() == 0  # not due yet
        clock.advance(minutes=31)
        assert await scheduler.tick() == 1
        assert await scheduler.tick() == 0  # fired once only
        (told,) = await bot.after(TESS, tess_mark + 1)
        assert "not accepted in time" in told.text and "passed to another adviser" in told.text
        (tom_brief,) = await bot.after(TOM, tom_mark)
        assert "Escalated" in tom_brief.text and "New enquiry ENQ-000001" in tom_brief.text
        (duty_note,) = await bot.after(DUTY, duty_mark)
        assert "Duty: ENQ-000001" in duty_note.text and "Tom Bids" in duty_note.text
        assert TENDER_Q not in duty_note.text  # only the assigned adviser sees the text
        row = await bot.enquiry(1)
        assert row.adviser_id == await _adviser_id(database, "tom")
        assert ("escalated", "system") in await bot.events(1)

        # Tom accepts but does not answer within reply_within: a reminder.
        await bot.press(TOM, tom_brief, pack("e", 1, ACCEPT))
        tom_mark = bot.mark(TOM)
        clock.advance(hours=2, minutes=5)
        assert await scheduler.tick() == 1
        (reminder,) = await bot.after(TOM, tom_mark)
        assert "Reminder: ENQ-000001 is waiting for your reply" in reminder.text
        assert "reminded" in [k for k, _ in await bot.events(1)]

        # Tom goes away; his accepted enquiry past its reply time goes to the next adviser.
        await bot.send(TOM, "/away")
        clock.advance(hours=3)
        duty_mark = bot.mark(DUTY)
        await scheduler.tick()
        row = await bot.enquiry(1)
        assert row.adviser_id == await _adviser_id(database, "duty")
        assert row.status == "open"
        assert ("rerouted", "system") in await bot.events(1)
        briefs = [m for m in await bot.after(DUTY, duty_mark) if "New enquiry" in m.text]
        assert len(briefs) == 1 and "is overdue and its adviser is away" in briefs[0].text


async def test_restart_in_the_middle_of_an_open_enquiry(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        tess_mark = bot.mark(TESS)
        await bot.send(ANN, f"/ask {TENDER_Q}")
        (brief,) = await bot.after(TESS, tess_mark)

    # A new process: new Application, new service, same database.
    async with running(fake, database) as bot:
        ann_mark = bot.mark(ANN)
        assert (await bot.press(TESS, brief, pack("e", 1, ACCEPT))).startswith("Accepted")
        await bot.send(TESS, "Here is how to start.", brief.message_id)
        msgs = await bot.after(ANN, ann_mark, 2)
        assert "Tess Tendering" in msgs[0].text and "Here is how to start." in msgs[1].text
        assert (await bot.enquiry(1)).first_response_at is not None


async def test_a_crash_before_sending_loses_nothing(fake: FakeTelegram, database: Database) -> None:
    """Stored but not sent (no channel, as if the process died after the commit): the next
    worker's tick sends it; a timer claimed by a dead worker is picked up after its lease."""
    await seed(database)
    config = make_config(database, fake, ack_within="1h")
    clock = start_clock()
    dead = enquiry_service(config, database, clock=clock, worker_id="dead")
    await dead.receive(IncomingMessage(channel="telegram", text=TENDER_Q, telegram_chat_id=ANN))
    async with database.session() as session:
        pending = (await session.exec(select(MessageRow))).all()
        assert {r.status for r in pending} == {"pending"} and len(pending) == 2
        # the dead worker had also claimed the ack timer
        await store.claim_timers(
            session, "dead", clock() + timedelta(minutes=61), timedelta(minutes=2)
        )
    async with running(fake, database, ack_within="1h") as bot:
        tess_mark, ann_mark = bot.mark(TESS), bot.mark(ANN)
        scheduler = worker(bot, clock)
        await scheduler.tick()
        (brief,) = await bot.after(TESS, tess_mark)
        (ack,) = await bot.after(ANN, ann_mark)
        assert "ENQ-000001" in brief.text and "ENQ-000001" in ack.text
        clock.advance(hours=1, minutes=1)
        assert await scheduler.tick() == 0  # still leased by the dead worker
        clock.advance(minutes=5)
        assert await scheduler.tick() == 1
        async with database.session() as session:
            timers = (await session.exec(select(EnquiryTimerRow))).all()
        acks = sorted((t.id or 0, t.status) for t in timers if t.kind == "ack")
        assert [status for _, status in acks] == ["done", "pending"]  # the new one: Tom's
        assert (await bot.enquiry(1)).adviser_id == await _adviser_id(database, "tom")
