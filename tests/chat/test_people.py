"""People first, through the real Application and the fake Bot API: onboarding that reads what
an enterprise says it does, the preview and backfill after sign-up and keyword changes, each
role its own bot, and the small courtesies (typos in commands, /pause vs /stop)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.chat.core import data
from bot.telegram.menus import DESCRIPTION, SHORT_DESCRIPTION
from feeds.notice import Notice
from matchers.extract import extract
from storage.db import Database
from storage.enquiries import AdviserInput, upsert_advisers
from storage.models import DeliveryRow
from storage.notices import store_notice
from storage.types import utcnow
from tests.chat.conftest import ADMIN, ANN, BEN, Chat, make_config, no_bad_requests
from tests.fakes.harness import running_bot
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.matchers.test_extract import CASES, Fit

ADVISER = 9100
CASE_USERS = 20_000


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def timed(
    fake: FakeTelegram, database: Database, smtp: SmtpSink
) -> AsyncIterator[tuple[Chat, Clock]]:
    """The chat harness with a clock the test moves (for the backfill's minute)."""
    config = make_config(fake, database.url, smtp)
    clock = Clock(utcnow())
    async with running_bot(config, clock=clock) as running:
        harness = Chat(fake, database, running, config, smtp)
        harness.options.flood_limit = 10_000
        yield harness, clock
    assert fake.unanswered_callbacks() == []
    no_bad_requests(fake)


def _notice(fit: Fit, ocid: str, now: datetime, days_left: int = 30) -> Notice:
    return Notice(
        source="find_a_tender",
        ocid=ocid,
        release_id=f"{ocid}-r1",
        notice_type="UK4",
        stage="tender",
        title=fit.title,
        description=fit.description,
        buyer=fit.buyer,
        cpv=fit.cpv,
        regions=fit.regions,
        deadline=now + timedelta(days=days_left),
        published=now,
        url=f"https://www.find-tender.service.gov.uk/Notice/{ocid}",
    )


async def _store(chat: Chat, *notices: Notice) -> None:
    async with chat.db.session() as session:
        for notice in notices:
            await store_notice(session, notice)


SCHOOL_MEALS = Fit(
    "Primary school meals service 2027-2030",
    "Nottingham City Council seeks a provider of nutritious meals for its primary schools.",
    ("55524000",),
    ("UKF14",),
    "Nottingham City Council",
)
EQUIPMENT = Fit(
    "Catering equipment supply and maintenance", "Ovens and dishwashers.", ("39310000",), ("UKF14",)
)


async def _next_message(chat: Chat, uid: int, n: int) -> SentMessage:
    return (await chat.fake.wait_for_messages(uid, n + 1))[n]


async def test_the_issue_catering_coop_finds_its_school_meals_and_gets_them(
    timed: tuple[Chat, Clock],
) -> None:
    chat, clock = timed
    await _store(
        chat,
        _notice(SCHOOL_MEALS, "ocds-people-meals", clock.now),
        _notice(EQUIPMENT, "ocds-people-equipment", clock.now),
    )
    await (
        chat.running.app.pipeline.match()
    )  # stored before anyone subscribed: matched, sent to none
    await chat.send(ANN, "/start")
    offered = await chat.send(
        ANN, "we're a community catering co-op doing school meals and events in Nottingham"
    )
    assert [b["text"] for b in offered.buttons][:3] == [
        "✓ catering",
        "✓ school meals",
        "✓ events",
    ]
    assert "You mentioned Nottingham, so I'll look there" in offered.text
    assert "I left out “co-op”" in offered.text
    profile = await chat.profile(ANN)
    assert profile.keywords == ["catering", "school meals", "events"]
    assert profile.regions == ["UKF14"]
    assert profile.description is not None and "community catering co-op" in profile.description

    n = chat.count(ANN)
    await chat.press(ANN, offered, offered.button("Next")["callback_data"])
    asked = await _next_message(chat, ANN, n)
    n = chat.count(ANN)
    await chat.press(ANN, asked, asked.button("Skip")["callback_data"])
    regions = await _next_message(chat, ANN, n)
    assert "✅ Nottingham" in [b["text"] for b in regions.buttons]
    await chat.press(ANN, regions, regions.button("Next")["callback_data"])
    n = chat.count(ANN)
    await chat.press(ANN, regions, chat.current(regions).button("Instant")["callback_data"])
    found = await _next_message(chat, ANN, n)
    assert "1 open notice matches right now." in found.text
    assert "Primary school meals service 2027-2030" in found.text
    assert "Catering equipment" not in found.text
    assert "📬 Sending it to you in a minute." in found.text
    assert found.button("Don't send it")

    # nothing goes before the minute is up; then it comes through the alert outbox
    n = chat.count(ANN)
    assert await chat.deliver() == 0
    clock.now += timedelta(minutes=2)
    assert await chat.deliver() == 1
    alert = await _next_message(chat, ANN, n)
    assert "Primary school meals service 2027-2030" in alert.text
    async with chat.db.session() as session:
        rows = (await session.exec(select(DeliveryRow))).all()
    assert [(r.kind, r.status) for r in rows] == [("alert", "sent")]
    # pressed too late, the button says so
    answer = await chat.press(ANN, found, found.button("Don't send it")["callback_data"])
    assert answer == "They've gone out already."


async def test_dont_send_withdraws_the_backfill_and_preview_offers_it_again(
    timed: tuple[Chat, Clock],
) -> None:
    chat, clock = timed
    cleaning = Fit(
        "Cleaning services for Derbyshire schools and offices",
        "Daily cleaning of 40 sites.",
        ("90911200",),
        ("UKF13",),
        "Derbyshire County Council",
    )
    products = Fit(
        "Supply of cleaning products and janitorial consumables", "", ("39830000",), ("UKF13",)
    )
    closing = Fit("Cleaning of Chesterfield depot", "", ("90911200",), ("UKF12",))
    await _store(
        chat,
        _notice(cleaning, "ocds-people-clean", clock.now),
        _notice(products, "ocds-people-products", clock.now),
        _notice(closing, "ocds-people-closing", clock.now, days_left=1),
    )
    await chat.running.app.pipeline.match()
    offered = await chat.send(
        BEN,
        "We are a social enterprise providing cleaning services and facilities management for "
        "offices and schools across Derbyshire",
    )
    assert "Send /start" in offered.text  # not in onboarding: plain chat gets a pointer
    await chat.send(BEN, "/start")
    offered = await chat.send(
        BEN,
        "We are a social enterprise providing cleaning services and facilities management for "
        "offices and schools across Derbyshire",
    )
    assert (await chat.profile(BEN)).keywords == ["cleaning", "facilities management"]
    assert (await chat.profile(BEN)).regions == ["UKF12", "UKF13"]
    # a keyword change is answered with what it finds, and the backfill is on by default
    reply = await chat.send(BEN, "/add window cleaning")
    assert "2 open notices match right now." in reply.text
    assert "📬 Sending you the one with time left to bid in a minute." in reply.text
    answer = await chat.press(BEN, reply, reply.button("Don't send it")["callback_data"])
    assert answer == "OK, nothing will be sent."
    assert "nothing will be sent" in chat.current(reply).text
    assert chat.current(reply).reply_markup is None
    clock.now += timedelta(minutes=2)
    assert await chat.deliver() == 0

    # /preview: what the settings found, per keyword and per filter, and 📬 to send
    shown = await chat.send(BEN, "/preview")
    assert "What your settings found in the last 30 days" in shown.text
    assert "2 of the 3 notices I saw (2 still open)." in shown.text
    assert "• cleaning: 2" in shown.text and "• facilities management: 0" in shown.text
    assert "Regions: Derbyshire: 0" in shown.text
    n = chat.count(BEN)
    answer = await chat.press(BEN, shown, shown.button("Send me the 1 open one")["callback_data"])
    assert answer == "Sending 1 notice now."
    assert await chat.deliver() == 1
    assert "Cleaning services for Derbyshire schools" in (await _next_message(chat, BEN, n)).text
    # the settings screen has the same preview behind a button
    screen = await chat.send(BEN, "/settings")
    n = chat.count(BEN)
    await chat.press(BEN, screen, data("pv"))
    again = await _next_message(chat, BEN, n)
    assert again.text.startswith("🔎 What your settings found") and again.reply_markup is None


async def test_every_answer_subscribes_to_what_fits_through_the_real_pipeline(chat: Chat) -> None:
    """The answers of :mod:`tests.matchers.test_extract`, typed by a user each: the keywords
    stored are what was read, and the pipeline alerts each to its fitting notice only."""
    now = utcnow()
    for i, case in enumerate(CASES):
        uid = CASE_USERS + i
        chat.fake.add_user(uid, f"User{i}")
        await chat.send(uid, "/start")
        offered = await chat.send(uid, case.answer)
        expected = list(extract(case.answer).terms)
        assert (await chat.profile(uid)).keywords == expected, case.answer
        assert [b["text"].lstrip("✓ ") for b in offered.buttons][: len(expected)] == [
            t if len(t) <= 26 else t[:25] + "…" for t in expected
        ]
    for i, case in enumerate(CASES):
        await _store(
            chat,
            _notice(case.fit, f"ocds-fit-{i}", now),
            _notice(case.shares, f"ocds-shares-{i}", now),
        )
    assert await chat.deliver() >= len(CASES)
    for i, case in enumerate(CASES):
        texts = "\n".join(m.text for m in chat.fake.messages(CASE_USERS + i))
        assert case.fit.title.replace("&", "&amp;") in texts or case.fit.title in texts, case
        assert case.shares.title not in texts, case


async def test_a_question_gets_help_not_keywords(chat: Chat) -> None:
    await chat.send(ANN, "/start")
    reply = await chat.send(ANN, "What is this? How much does it cost?")
    assert "free service" in reply.text and "What does your enterprise do?" in reply.text
    assert await chat.subscriber(ANN) is None
    nonsense = await chat.send(ANN, "asdfgh")
    assert "couldn't find what you do" in nonsense.text
    assert await chat.subscriber(ANN) is None
    # commands work at every step, and the question still waits
    assert "/ask" in (await chat.send(ANN, "/help")).text
    setting = await chat.send(ANN, "/settings")
    assert "halfway through setting up" in setting.text
    offered = await chat.send(ANN, "laundry")
    assert (await chat.profile(ANN)).keywords == ["laundry"]
    assert "✓ laundry" in [b["text"] for b in offered.buttons]


async def test_start_then_add_works_and_typed_words_join_the_list(chat: Chat) -> None:
    await chat.send(ANN, "/start")
    offered = await chat.send(ANN, "/add catering, school meals")
    assert "not subscribed" not in offered.text
    assert (await chat.profile(ANN)).keywords == ["catering", "school meals"]
    # at the ✓/✗ step, typing more adds to the list
    more = await chat.send(ANN, "and we do events & buffets")
    assert (await chat.profile(ANN)).keywords == ["catering", "school meals", "events", "buffets"]
    assert [b["text"] for b in more.buttons][:4] == [
        "✓ catering",
        "✓ school meals",
        "✓ events",
        "✓ buffets",
    ]
    n = chat.count(ANN)
    await chat.press(ANN, more, more.button("Add more")["callback_data"])
    assert "Type more" in (await _next_message(chat, ANN, n)).text


async def test_a_long_keyword_gets_a_gentle_warning_and_a_shorter_one(chat: Chat) -> None:
    await chat.onboard(ANN, "catering")
    reply = await chat.send(ANN, "/add community catering for primary schools in the city")
    assert "is long: notices rarely use all those words together" in reply.text
    assert "“catering” would find more" in reply.text
    reply = await chat.send(ANN, '/add "bespoke wedding cake design and delivery service"')
    assert "is long" in reply.text
    button = next(b for b in reply.buttons if b["text"].startswith("✂️ Use"))
    n = chat.count(ANN)
    assert (await chat.press(ANN, reply, button["callback_data"])).startswith("Now “")
    after = await _next_message(chat, ANN, n)
    assert "is now" in after.text
    words = (await chat.profile(ANN)).keywords
    assert '"bespoke wedding cake design and delivery service"' not in words


async def test_advisers_and_admins_get_their_own_bot(chat: Chat) -> None:
    async with chat.db.session() as session:
        await upsert_advisers(
            session,
            [AdviserInput("a1", "Priya Adviser", ["bidding"], 5, telegram_id=ADVISER)],
        )
    chat.fake.add_user(ADVISER, "Priya")
    # the screen before Start says what the bot does; enterprises' menu starts with /help
    assert chat.fake.descriptions[""] == DESCRIPTION and len(DESCRIPTION) <= 512
    assert chat.fake.short_descriptions[""] == SHORT_DESCRIPTION
    assert [c["command"] for c in chat.fake.default_commands][:3] == ["help", "settings", "preview"]

    welcome = await chat.send(ADVISER, "/start")
    assert "You're a <b>SEEM adviser</b>" in welcome.text or "SEEM adviser" in welcome.text
    assert "What does your enterprise do?" not in welcome.text
    assert [c["command"] for c in chat.fake.commands_for_chat(ADVISER)] == [
        "help",
        "queue",
        "away",
        "back",
        "partners",
        "report",
        "privacy",
    ]
    # an adviser's plain message is never keywords
    reply = await chat.send(ADVISER, "Great, I'll draft some bullet points for you by Friday")
    assert "wasn't sent to anyone" in reply.text
    assert await chat.subscriber(ADVISER) is None
    helped = await chat.send(ADVISER, "/help")
    assert "/queue" in helped.text and "/away" in helped.text and "/back" in helped.text
    assert "/add" not in helped.text
    # typos are suggested from the adviser's own commands
    assert "Did you mean /queue?" in (await chat.send(ADVISER, "/qeue")).text

    admin = await chat.send(ADMIN, "/start")
    assert "bestbot admin" in admin.text and "/stats" in admin.text
    assert "stats" in [c["command"] for c in chat.fake.commands_for_chat(ADMIN)]
    assert "wasn't" not in (await chat.send(ADMIN, "hello")).text
    assert await chat.subscriber(ADMIN) is None

    # an enterprise's /help names /ask and the ❓ button, and /pause vs /stop
    await chat.onboard(ANN)
    text = (await chat.send(ANN, "/help")).text
    assert "/ask" in text and "❓" in text
    assert "/pause — hold alerts" in text and "/stop — stop alerts: nothing is saved up" in text
    assert chat.fake.commands_for_chat(ANN) == chat.fake.default_commands


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("/setings", "/settings"),
        ("/hepl", "/help"),
        ("/keywrods", "/keywords"),
        ("/pasue", "/pause"),
    ],
)
async def test_typos_in_commands_get_did_you_mean(chat: Chat, typed: str, meant: str) -> None:
    reply = await chat.send(ANN, typed)
    assert f"Did you mean {meant}?" in reply.text
    assert "Did you mean" not in (await chat.send(ANN, "/xyzzyplugh")).text


async def test_a_typo_keeps_what_followed(chat: Chat) -> None:
    reply = await chat.send(ANN, "/ad catering")
    assert "Did you mean /add catering?" in reply.text


async def test_pause_holds_and_catches_up_stop_does_not(timed: tuple[Chat, Clock]) -> None:
    chat, clock = timed
    await chat.onboard(ANN, "laundry")
    paused = await chat.send(ANN, "/pause")
    assert "paused. Nothing is lost" in paused.text
    laundry = Fit("Laundry and linen services for care homes", "", ("98310000",), ("UKF",))
    await _store(chat, _notice(laundry, "ocds-people-laundry", clock.now))
    assert await chat.deliver() == 0  # paused: nothing goes
    back = await chat.send(ANN, "/resume")
    assert "Welcome back" in back.text and "1 open notice matches right now." in back.text
    assert "📬 Sending it to you in a minute." in back.text
    clock.now += timedelta(minutes=2)
    assert await chat.deliver() == 1

    stopped = await chat.send(ANN, "/stop")
    assert "nothing is saved up" in stopped.text
    more = Fit("Laundry service for the leisure centre", "", ("98310000",), ("UKF",))
    await _store(chat, _notice(more, "ocds-people-laundry-2", clock.now))
    assert await chat.deliver() == 0
    again = await chat.send(ANN, "/resume")
    assert "Nothing was saved up while they were stopped" in again.text
    clock.now += timedelta(minutes=2)
    assert await chat.deliver() == 0


# --------------------------------------------------------------------------- transcripts

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- transcript:begin -->", "<!-- transcript:end -->"
MAX_ROWS = 3


class Transcript:
    """What a person sees: their messages and taps, the bot's new and edited messages."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.lines: list[str] = []

    def _state(self, uid: int) -> dict[int, tuple[str, str]]:
        return {
            m.message_id: (m.text, json.dumps(m.reply_markup, sort_keys=True))
            for m in self.chat.fake.messages(uid)
        }

    def _keyboard(self, message: SentMessage) -> list[str]:
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        shown = ["      " + "  ".join(f"[{b['text']}]" for b in row) for row in rows[:MAX_ROWS]]
        if len(rows) > MAX_ROWS:
            shown.append(f"      … {len(rows) - MAX_ROWS} more rows of buttons")
        return shown

    def _bot(self, message: SentMessage, edited: bool) -> None:
        head = "bot ✎ " if edited else "bot:  "
        for i, line in enumerate(message.text.split("\n")):
            self.lines.append((head if i == 0 else "      ") + line if line else "")
        self.lines.extend(self._keyboard(message))

    async def _after(self, uid: int, before: dict[int, tuple[str, str]], toast: str = "") -> None:
        await self.chat.settle(uid)
        if toast:
            self.lines.append(f"      (toast: {toast})")
        for message in self.chat.fake.messages(uid):
            old = before.get(message.message_id)
            now = (message.text, json.dumps(message.reply_markup, sort_keys=True))
            if old is None:
                self._bot(message, edited=False)
            elif old != now:
                self._bot(message, edited=True)

    async def says(self, uid: int, who: str, text: str) -> SentMessage:
        before = self._state(uid)
        self.lines.append(f"{who}: {text}")
        reply = await self.chat.send(uid, text)
        await self._after(uid, before)
        return reply

    async def taps(self, uid: int, who: str, message: SentMessage, label: str) -> None:
        before = self._state(uid)
        current = self.chat.current(message)
        button = current.button(label)
        self.lines.append(f"{who} taps [{button['text']}]")
        toast = await self.chat.press(uid, current, button["callback_data"])
        await self._after(uid, before, toast)

    def last(self, uid: int) -> SentMessage:
        return self.chat.fake.messages(uid)[-1]


async def _transcripts(chat: Chat, clock: Clock) -> str:
    await _store(chat, _notice(SCHOOL_MEALS, "ocds-transcript-meals", clock.now))
    await chat.running.app.pipeline.match()
    async with chat.db.session() as session:
        await upsert_advisers(
            session, [AdviserInput("a1", "Priya Adviser", ["bidding"], 5, telegram_id=ADVISER)]
        )
    chat.fake.add_user(ADVISER, "Priya")
    out: list[str] = []

    t = Transcript(chat)
    await t.says(ANN, "Ann", "/start")
    offered = await t.says(
        ANN, "Ann", "we're a community catering co-op doing school meals and events in Nottingham"
    )
    await t.taps(ANN, "Ann", offered, "events")
    await t.taps(ANN, "Ann", offered, "Next")
    await t.says(ANN, "Ann", "Bread and Roses Kitchen")
    regions = t.last(ANN)
    await t.taps(ANN, "Ann", regions, "Next")
    await t.taps(ANN, "Ann", regions, "Instant")
    out += ["**An enterprise** (Ann, who runs a catering co-op)", "", "```", *t.lines, "```", ""]

    t = Transcript(chat)
    await t.says(ADVISER, "Priya", "/start")
    await t.says(ADVISER, "Priya", "Great, I'll draft some bullet points for you by Friday")
    await t.says(ADVISER, "Priya", "/qeue")
    out += ["**An adviser** (Priya, in the roster)", "", "```", *t.lines, "```", ""]

    t = Transcript(chat)
    await t.says(ADMIN, "Ada", "/start")
    await t.says(ADMIN, "Ada", "/stast")
    out += ["**An admin** (Ada, in `[telegram] admin_ids`)", "", "```", *t.lines, "```"]
    return "\n".join(out)


@pytest.fixture
async def fixed(
    fake: FakeTelegram, database: Database, smtp: SmtpSink
) -> AsyncIterator[tuple[Chat, Clock]]:
    """The chat harness on a fixed date, so that the transcript reads the same every run."""
    config = make_config(fake, database.url, smtp)
    clock = Clock(datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    async with running_bot(config, clock=clock) as running:
        harness = Chat(fake, database, running, config, smtp)
        harness.options.flood_limit = 10_000
        yield harness, clock
    no_bad_requests(fake)


async def test_readme_shows_each_role_s_first_minute_as_it_happens(
    fixed: tuple[Chat, Clock],
) -> None:
    """The README's transcript is this conversation's output. To refresh it after a wording
    change: ``BESTBOT_WRITE_TRANSCRIPT=1 pytest tests/chat/test_people.py -k readme``."""
    chat, clock = fixed
    transcript = await _transcripts(chat, clock)
    readme = README.read_text("utf-8")
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    if os.environ.get("BESTBOT_WRITE_TRANSCRIPT"):
        README.write_text(readme[:start] + "\n" + transcript + "\n" + readme[end:], "utf-8")
        readme = README.read_text("utf-8")
        start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    assert readme[start:end].strip() == transcript.strip(), "README transcript is out of date"


async def test_advisers_see_the_name_given_at_onboarding(chat: Chat) -> None:
    from storage.models import EnquiryRow

    await chat.send(ANN, "/start")
    offered = await chat.send(ANN, "We're Green Fingers CIC. We offer garden maintenance.")
    n = chat.count(ANN)
    await chat.press(ANN, offered, offered.button("Next")["callback_data"])
    asked = await _next_message(chat, ANN, n)
    n = chat.count(ANN)
    # the name in the answer is offered as a button
    await chat.press(ANN, asked, asked.button("Green Fingers CIC")["callback_data"])
    assert "Thanks, Green Fingers CIC!" in chat.current(asked).text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.name == "Green Fingers CIC"
    chat.fake.user_sends(ANN, "/ask How do we price a grounds maintenance tender?")
    await chat.settle(ANN)
    async with chat.db.session() as session:
        enquiry = (await session.exec(select(EnquiryRow))).one()
    assert enquiry.sender_name == "Green Fingers CIC"


async def test_an_adviser_left_in_an_old_onboarding_is_not_read_as_keywords(chat: Chat) -> None:
    from storage.chat import set_state

    async with chat.db.session() as session:
        await upsert_advisers(
            session, [AdviserInput("a1", "Priya Adviser", ["bidding"], 5, telegram_id=ADVISER)]
        )
        # what /start used to leave for an adviser: "What does your enterprise do?" waiting
        await set_state(session, ADVISER, "keywords")
    chat.fake.add_user(ADVISER, "Priya")
    reply = await chat.send(ADVISER, "Great, I'll draft some bullet points for you by Friday")
    assert "wasn't sent to anyone" in reply.text
    assert await chat.subscriber(ADVISER) is None
    # an adviser who wants alerts asks for them explicitly
    ask = await chat.send(ADVISER, "/add")
    assert "Which keywords shall I look for?" in ask.text
    offered = await chat.send(ADVISER, "procurement training, bid writing")
    assert "✓ bid writing" in [b["text"] for b in offered.buttons]
    assert (await chat.profile(ADVISER)).keywords == ["procurement training", "bid writing"]
