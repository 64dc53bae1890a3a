"""Conversations reach a person without the Reply gesture, through the real Application and
the fake Bot API: plain messages both ways (many kinds of real replies), "which enquiry?"
buttons with several open, photos, passing on to a chosen colleague with a note, resolve
with a confirmation, the rating shown to the adviser, old buttons taken away, the promised
time passing, and /forget."""

from __future__ import annotations

import pytest

from bot.callbacks import pack
from storage import enquiries as store
from storage.db import Database
from tests.enquiries.enquiry_kit import (
    ANN,
    BEN,
    DUTY,
    EVE,
    TENDER_Q,
    TESS,
    TOM,
    Bot,
    fake,
    running,
    seed,
    start_clock,
    verbs,
    worker,
)
from tests.fakes.telegram_api import FakeTelegram, SentMessage

__all__ = ["fake"]
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PASTED = (
    "Hi Tess, thanks so much for getting back to us. To give you a bit more background: we "
    "are a small catering co-operative (six members, two part-time staff) and we have been "
    "running school holiday meals for the city council's HAF programme for three summers "
    "now, but we have never bid for anything through a formal tender. The contract we are "
    "looking at is for primary school meals across the north of the city, roughly 1,200 "
    "meals a day, and the documents ask for a method statement, a social value plan and "
    "three years of accounts. We only have two years of accounts because we incorporated "
    "in 2024. Does that rule us out, or is there a way round it (a parent company guarantee, "
    "a consortium with another co-op)? We would also love a second pair of eyes on the "
    "social value plan before we submit it — is that something SEEM can help with?"
)

ENTERPRISE_REPLIES = [
    "thanks",
    "Thanks!! 🙏",
    "👍",
    "Do we need public liability insurance before we bid, or only if we win?",
    "ok will do – speak friday",
    "1. price\n2. method statement\n3. social value",
    "<b>not bold</b> & 'single' \"double\" quotes",
    "sory i ment the nottingham one not derby",
    PASTED,
]

ADVISER_REPLIES = [
    "Great, I'll draft some bullet points for you by Friday",
    "Yes",
    "👍",
    "Have a look at https://www.find-tender.service.gov.uk/Notice/012345-2026 first.",
    "Two things:\n- the accounts: ask the buyer\n- social value: send me the draft",
]


def e(enquiry_id: int, verb: str, *args: int) -> str:
    return pack("e", enquiry_id, verb, *args)


async def _ask(bot: Bot, chat: int, question: str, adviser: int | None = None) -> SentMessage:
    """Ask a question; the adviser's brief (when ``adviser`` is given)."""
    mark = bot.mark(adviser) if adviser is not None else 0
    await bot.send(chat, f"/ask {question}")
    if adviser is None:
        return bot.last(chat)
    (brief,) = await bot.after(adviser, mark)
    return brief


async def _nothing_more(bot: Bot, chat: int, mark: int) -> None:
    await bot.settle()
    assert bot.mark(chat) == mark, [m.text for m in bot.fake.messages(chat)[mark:]]


async def test_plain_messages_go_both_ways(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        await _ask(bot, ANN, TENDER_Q, TESS)
        for reply in ENTERPRISE_REPLIES:
            tess_mark = bot.mark(TESS)
            told = await bot.send(ANN, reply)
            assert told.text == "Sent to your adviser about ENQ-000001.", reply
            (relayed,) = await bot.after(TESS, tess_mark)
            assert reply in relayed.text and "ENQ-000001" in relayed.text
        for reply in ADVISER_REPLIES:
            ann_mark = bot.mark(ANN)
            told = await bot.send(TESS, reply)
            expected = "Sent to the enterprise (Ann's Kitchen CIC) about ENQ-000001."
            assert told.text == expected, reply
            relayed = await bot.after(ANN, ann_mark)
            assert reply in relayed[-1].text and "Tess Tendering" in relayed[-1].text
        row = await bot.enquiry(1)
        assert row.status == "accepted" and row.first_response_at is not None
        async with bot.db.session() as session:
            said = [(m.author, m.text) for m in await store.messages_of(session, 1)]
        assert [t for a, t in said if a == "enterprise"][1:] == ENTERPRISE_REPLIES
        assert [t for a, t in said if a == "adviser"] == ADVISER_REPLIES


async def _set_regions(session: object, chat: int, codes: list[str]) -> None:
    from storage.chat import profile_of, subscriber_for_chat

    sub = await subscriber_for_chat(session, chat)  # type: ignore[arg-type]
    assert sub is not None and sub.id is not None
    profile = await profile_of(session, sub.id)  # type: ignore[arg-type]
    profile.regions = codes
    session.add(profile)  # type: ignore[attr-defined]


async def test_the_brief_names_regions(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with database.session() as session:
        await _set_regions(session, ANN, ["UKF14", "UKF1"])
    async with running(fake, database) as bot:
        brief = await _ask(bot, ANN, TENDER_Q, TESS)
        assert "Regions: Nottingham, Derbyshire and Nottinghamshire" in brief.text
        assert "UKF" not in brief.text  # names, not NUTS codes


async def test_photos_stickers_and_captions(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        await _ask(bot, ANN, TENDER_Q, TESS)
        tess_mark = bot.mark(TESS)
        for send in (
            lambda: bot.fake.user_sends_photo(ANN),
            lambda: bot.fake.user_sends_sticker(ANN, "😀"),
        ):
            ann_mark = bot.mark(ANN)
            send()
            (told,) = await bot.after(ANN, ann_mark)
            assert told.text.startswith("I can only pass on text to your adviser, so that")
            assert "Please type your message here" in told.text
        await _nothing_more(bot, TESS, tess_mark)
        ann_mark = bot.mark(ANN)
        bot.fake.user_sends_photo(ANN, caption="This is the floor plan of our kitchen")
        sent, note = await bot.after(ANN, ann_mark, 2)
        assert sent.text == "Sent to your adviser about ENQ-000001."
        assert note.text == "(The photo itself can't be passed on — only its caption was sent.)"
        (relayed,) = await bot.after(TESS, tess_mark)
        assert "floor plan of our kitchen" in relayed.text
        # the adviser's photo gets the same clear answer
        tess_mark = bot.mark(TESS)
        bot.fake.user_sends_photo(TESS)
        (told,) = await bot.after(TESS, tess_mark)
        assert told.text.startswith("I can only pass on text to the enterprise")


async def test_nothing_open_keeps_todays_answer(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        tess_mark, duty_mark = bot.mark(TESS), bot.mark(DUTY)
        for who in (ANN, EVE):
            reply = await bot.send(who, "hello, is anyone there?")
            assert "Sent to" not in reply.text and "ENQ" not in reply.text
        # an adviser with nothing in hand is not relayed anywhere either
        assert "Sent to" not in (await bot.send(TESS, "morning all")).text
        await _nothing_more(bot, DUTY, duty_mark)
        # a resolved enquiry is not open: a later "thanks" is not relayed
        brief = await _ask(bot, ANN, TENDER_Q, TESS)
        await bot.press(TESS, brief, e(1, "res"))
        await bot.press(TESS, brief, e(1, "rsy"))
        tess_mark = bot.mark(TESS)
        assert "Sent to" not in (await bot.send(ANN, "thanks")).text
        await _nothing_more(bot, TESS, tess_mark)


async def test_several_open_ask_which_by_buttons(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        await _ask(bot, ANN, TENDER_Q)
        await _ask(bot, ANN, "How do we price social value in our bid for the cafe lease?")
        first, second = await bot.enquiry(1), await bot.enquiry(2)
        assert first.adviser_id is not None and second.adviser_id is not None
        advisers = {TESS, TOM, DUTY}
        marks = {a: bot.mark(a) for a in advisers}

        which = await bot.send(ANN, "Is the deadline firm?")
        assert which.text.startswith("You have 2 open questions with our advisers.")
        assert "Is the deadline firm?" in which.text
        labels = [b["text"] for b in which.buttons]
        assert labels[0].startswith("ENQ-000001 · How do we write a strong tender")
        assert labels[1].startswith("ENQ-000002 · How do we price social value")
        assert labels[2] == "✖️ Don't send it"
        for a in advisers:  # nothing sent before the choice
            assert bot.mark(a) == marks[a]
        draft = int(verbs(which)[1].split(":")[3])
        toast = await bot.press(ANN, which, e(2, "to", draft))
        assert toast == "Sent to your adviser about ENQ-000002."
        assert bot.fake.message(ANN, which.message_id).callback_data == []
        async with bot.db.session() as session:
            adviser = await store.get_adviser(session, second.adviser_id)
        assert adviser is not None and adviser.telegram_id is not None
        (got,) = await bot.after(adviser.telegram_id, marks[adviser.telegram_id])
        assert "Is the deadline firm?" in got.text and "ENQ-000002" in got.text

        # Don't send it: nobody hears
        marks = {a: bot.mark(a) for a in advisers}
        which = await bot.send(ANN, "never mind, wrong chat")
        draft = int(verbs(which)[-1].split(":")[3])
        assert await bot.press(ANN, which, e(0, "drop", draft)) == "Not sent"
        for a in advisers:
            await _nothing_more(bot, a, marks[a])
        assert "Not sent." in bot.fake.message(ANN, which.message_id).text


async def test_a_forged_pick_for_someone_elses_enquiry_is_refused(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        await _ask(bot, ANN, TENDER_Q, TESS)
        await _ask(bot, BEN, "What should go in our tender method statement?")
        await _ask(bot, BEN, "Can we get funding to cover the cost of bid writing?")
        which = await bot.send(BEN, "Here are my bank details: 12-34-56")
        draft = int(verbs(which)[0].split(":")[3])
        tess_mark = bot.mark(TESS)
        # Ben signs (for his own chat) a pick of Ann's enquiry 1 with his own draft
        for data in (e(1, "to", draft), bot.sign(BEN, e(1, "to", draft))):
            forged = await bot.app.bot.send_message(BEN, "x", reply_markup=_markup(data))
            answer = await bot.press(BEN, bot.fake.message(BEN, forged.message_id), data)
            assert "isn't" in answer
        await _nothing_more(bot, TESS, tess_mark)
        assert bot.fake.message(BEN, which.message_id).callback_data  # still his to choose


async def test_an_adviser_with_several_picks_the_enterprise(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        await _ask(bot, ANN, TENDER_Q, TESS)
        await _ask(bot, BEN, "How do we score well on social value in a tender bid?", TESS)
        which = await bot.send(TESS, "I'll send the template tomorrow morning.")
        assert which.text.startswith("You have 2 open enquiries. Which enterprise is this for?")
        labels = [b["text"] for b in which.buttons]
        assert labels[:2] == ["ENQ-000001 · Ann's Kitchen CIC", "ENQ-000002 · Ben's Bikes"]
        ann_mark, ben_mark = bot.mark(ANN), bot.mark(BEN)
        draft = int(verbs(which)[1].split(":")[3])
        toast = await bot.press(TESS, which, e(2, "to", draft))
        assert toast == "Sent to the enterprise (Ben's Bikes) about ENQ-000002."
        (got,) = await bot.after(BEN, ben_mark)
        assert "I'll send the template tomorrow morning." in got.text
        await _nothing_more(bot, ANN, ann_mark)


async def test_pass_on_to_a_chosen_adviser_with_a_note(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        brief = await _ask(bot, ANN, TENDER_Q, TESS)
        await bot.send(ANN, "We have two years of accounts only")
        # Pass on, then back: the enquiry's own buttons again
        assert await bot.press(TESS, brief, e(1, "pass")) == "Pass ENQ-000001 to whom?"
        picker = bot.fake.message(TESS, brief.message_id)
        names = [b["text"] for b in picker.buttons]
        assert names[0] == "👤 Tom Bids — tendering and bids"  # covers the topic: first
        assert "👤 Dee Duty — general" in names and "🔀 Whoever fits best" in names
        assert not any("Tess" in n for n in names)
        await bot.press(TESS, brief, e(1, "back"))
        assert verbs(bot.fake.message(TESS, brief.message_id)) == [
            e(1, "acc"),
            e(1, "pass"),
            e(1, "res"),
        ]
        async with bot.db.session() as session:
            tom = await store.adviser_by_code(session, "tom")
        assert tom is not None and tom.id is not None
        await bot.press(TESS, brief, e(1, "pass"))
        assert await bot.press(TESS, brief, e(1, "pto", tom.id)) == "Passing to Tom Bids"
        assert "Send a note for them now" in bot.fake.message(TESS, brief.message_id).text
        tom_mark, ann_mark = bot.mark(TOM), bot.mark(ANN)
        note = "They've never bid before — could you walk them through the ITT? 🙏"
        told = await bot.send(TESS, note)
        assert told.text == "Passed on ENQ-000001 to Tom Bids with your note."
        (tom_brief,) = await bot.after(TOM, tom_mark)
        assert f"Passed on to you by Tess Tendering: “{note}”" in tom_brief.text
        assert "We have two years of accounts only" in tom_brief.text  # nothing lost
        (now_with,) = await bot.after(ANN, ann_mark)
        assert now_with.text.startswith("Your question ENQ-000001 is now with Tom Bids")
        await bot.settle()
        assert bot.fake.message(TESS, brief.message_id).callback_data == []
        # the note step is over: Tess's next message isn't a note, and she has nothing open
        assert "Passed on" not in (await bot.send(TESS, "cheers")).text
        # the enterprise's next plain message goes to Tom now
        tom_mark = bot.mark(TOM)
        await bot.send(ANN, "Thanks Tom!")
        (got,) = await bot.after(TOM, tom_mark)
        assert "Thanks Tom!" in got.text


async def test_resolve_confirms_and_the_adviser_sees_the_rating(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        brief = await _ask(bot, ANN, TENDER_Q, TESS)
        await bot.press(TESS, brief, e(1, "acc"))
        assert verbs(bot.fake.message(TESS, brief.message_id)) == [e(1, "pass"), e(1, "res")]
        await bot.press(TESS, brief, e(1, "res"))
        await bot.press(TESS, brief, e(1, "back"))  # not yet
        assert (await bot.enquiry(1)).status == "accepted"
        assert verbs(bot.fake.message(TESS, brief.message_id)) == [e(1, "pass"), e(1, "res")]
        ann_mark = bot.mark(ANN)
        await bot.press(TESS, brief, e(1, "res"))
        await bot.press(TESS, brief, e(1, "rsy"))
        (rate,) = await bot.after(ANN, ann_mark)
        tess_mark = bot.mark(TESS)
        await bot.press(ANN, rate, e(1, "up"))
        (seen,) = await bot.after(TESS, tess_mark)
        assert seen.text == (
            "Ann's Kitchen CIC rated your help with ENQ-000001: 👍 “Yes, thanks” — it helped."
        )
        # a rating changed later (by the email's link) is shown too; the same one is not
        service = bot.service
        await service.rate(1, False)
        await service.rate(1, False)
        (seen,) = await bot.after(TESS, tess_mark + 1)
        assert "👎 “Not really”" in seen.text
        await _nothing_more(bot, TESS, tess_mark + 2)


async def test_escalation_removes_old_buttons_and_tells_the_enterprise(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database, ack_within="1h", reply_within="2h") as bot:
        clock = start_clock()
        scheduler = worker(bot, clock)
        brief = await _ask(bot, ANN, TENDER_Q, TESS)
        tom_mark, ann_mark = bot.mark(TOM), bot.mark(ANN)
        clock.advance(minutes=61)
        assert await scheduler.tick() == 1
        (late,) = await bot.after(ANN, ann_mark)
        assert late.text.startswith("⏱ Sorry — we said you'd hear about ENQ-000001 by today")
        assert "It is now with Tom Bids, a SEEM adviser" in late.text
        assert bot.fake.message(TESS, brief.message_id).callback_data == []
        edited = [str(c.params.get("message_id")) for c in _unbuttons(bot)]
        assert str(brief.message_id) in edited
        (tom_brief,) = await bot.after(TOM, tom_mark)
        # Tom accepts: the enterprise hears when to expect the answer
        ann_mark = bot.mark(ANN)
        await bot.press(TOM, tom_brief, e(1, "acc"))
        (accepted,) = await bot.after(ANN, ann_mark)
        assert "Tom Bids, a SEEM adviser, is looking at your question" in accepted.text
        assert "will reply here by" in accepted.text
        # ...and when that time passes without an answer
        ann_mark = bot.mark(ANN)
        clock.advance(hours=2, minutes=5)
        await scheduler.tick()
        (late,) = await bot.after(ANN, ann_mark)
        assert "It is with Tom Bids, a SEEM adviser, who has been reminded." in late.text
        clock.advance(hours=3)
        await scheduler.tick()
        await _nothing_more(bot, ANN, ann_mark + 1)  # told once per promise


def _unbuttons(bot: Bot) -> list:  # type: ignore[type-arg]
    return bot.fake.calls("editMessageReplyMarkup")


async def test_forget_warns_and_tells_the_adviser(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        brief = await _ask(bot, ANN, TENDER_Q, TESS)
        ask = await bot.send(ANN, "/forget")
        assert "You have an open question with a SEEM adviser (ENQ-000001)" in ask.text
        assert "your adviser will be told" in ask.text
        tess_mark = bot.mark(TESS)
        await bot.press(ANN, ask, "s:fg:y")
        done = bot.fake.message(ANN, ask.message_id)
        assert "Your adviser has been told that ENQ-000001 is closed." in done.text
        (told,) = await bot.after(TESS, tess_mark)
        assert "ENQ-000001 was withdrawn" in told.text and TENDER_Q not in told.text
        await bot.settle()
        assert bot.fake.message(TESS, brief.message_id).callback_data == []
        async with bot.db.session() as session:
            assert await store.get_enquiry(session, 1) is None
        # someone who only asked a question (no alerts) can delete it too
        await _ask(bot, EVE, "How do I register as a supplier with the council?")
        async with bot.db.session() as session:
            (eves,) = await store.live_for_chat(session, EVE)
        assert eves.id is not None
        ask = await bot.send(EVE, "/forget")
        assert "deletes the questions you asked" in ask.text
        assert store.reference(eves.id) in ask.text
        await bot.press(EVE, ask, "s:fg:y")
        async with bot.db.session() as session:
            assert await store.live_for_chat(session, EVE) == []


def _markup(*data: str) -> object:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])
