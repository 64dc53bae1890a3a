"""Rendering: escaping, Telegram's limits, wording of deadlines, updates and digests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import markupsafe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.callbacks import pack, unpack
from bot.render.email import email_alert, email_digest
from bot.render.model import AlertView, TelegramMessage
from bot.render.phrases import deadline_phrase, nudge_text, region_name, value_phrase
from bot.render.telegram import (
    ACTION_NOT_RELEVANT,
    ACTION_RELEVANT,
    telegram_alert,
    telegram_digest,
    telegram_group,
)
from bot.render.text import TELEGRAM_TEXT_LIMIT, visible_length
from tests.fakes.telegram_html import parse_html, utf16_len

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 2, 4, 10, 0, tzinfo=UTC)  # Wed 4 Feb 2026, 10:00 GMT
HOSTILE = (
    '<script>alert("x")</script> & Sons \'quoted\' "double" &amp; &#x27; '
    "\x00\x07\x1b[31m\u202eevil\u202c \u200f\u2066mark\u2069 \ud800 </a><b>"
)


def view(**overrides: Any) -> AlertView:
    base = AlertView(
        delivery_id=123,
        notice_id=7,
        kind="alert",
        title="School meals service",
        url="https://www.find-tender.service.gov.uk/Notice/000123-2026",
        buyer="Nottingham City Council",
        value_amount=250_000,
        value_min=None,
        currency="GBP",
        deadline=datetime(2026, 2, 13, 12, 0, tzinfo=UTC),
        regions=("UKF14",),
        suitable_sme=True,
        suitable_vcse=True,
        reasons=("matched “school meals” in the title",),
        keywords=("school meals",),
        changes={},
    )
    return replace(base, **overrides)


def shown(message: TelegramMessage) -> str:
    """What the user sees; the strict parser raises on anything Telegram would refuse."""
    parsed = parse_html(message.text)
    assert utf16_len(parsed.text) <= TELEGRAM_TEXT_LIMIT
    assert visible_length(message.text) == utf16_len(parsed.text)
    for row in message.buttons:
        for button in row:
            assert (button.callback_data is None) != (button.url is None)
            if button.callback_data is not None:
                assert 1 <= len(button.callback_data.encode()) <= 64
                assert unpack(button.callback_data) is not None
    return parsed.text


def callbacks(message: TelegramMessage) -> list[str]:
    return [b.callback_data for row in message.buttons for b in row if b.callback_data]


# --- a single alert -------------------------------------------------------------------------


def test_alert_shows_every_fact() -> None:
    message = telegram_alert(view(), NOW, LONDON)
    text = shown(message)
    # the first line says what kind of chance it is; the title follows
    assert text.splitlines()[:2] == ["🔔 Bid by 13 Feb — tender", "School meals service"]
    assert "Nottingham City Council" in text
    assert "£250,000" in text
    assert "closes Fri 13 Feb, 12:00 — 9 days left" in text
    assert "📍 Nottingham" in text
    assert "suitable for SMEs ✓ · suitable for VCSEs ✓" in text
    assert "Why: matched “school meals” in the title" in text
    parsed = parse_html(message.text)
    assert parsed.links == ["https://www.find-tender.service.gov.uk/Notice/000123-2026"]
    assert callbacks(message) == [
        "fb+:123",
        "fb-:123",
        "mute:123:0",
        "rem:123",
        "ask:123",
        "ptn:123",
    ]
    labels = [b.text for row in message.buttons for b in row]
    assert labels == [
        "👍 Relevant",
        "👎 Not relevant",
        "🔕 Mute “school meals”",
        "⏰ Remind me",
        "❓ Ask an adviser",
        "🤝 Open to partners",
    ]


def test_hostile_feed_strings_are_escaped_and_cleaned() -> None:
    v = view(
        title=HOSTILE,
        buyer=HOSTILE,
        reasons=(HOSTILE, HOSTILE),
        keywords=(HOSTILE, "x" * 300, "third"),
        regions=(HOSTILE, "UKF11"),
        url='https://example.org/a?b=1&c="2"<x>',
    )
    message = telegram_alert(v, NOW, LONDON)
    text = shown(message)
    assert '<script>alert("x")</script> & Sons' in text  # shown literally, not as markup
    for bad in ("\x00", "\x07", "\x1b", "\u202e", "\u202c", "\u200f", "\u2066", "\ud800"):
        assert bad not in text
    assert "<script>" not in message.text
    assert parse_html(message.text).links == ['https://example.org/a?b=1&c="2"<x>']
    # two mute buttons at most, labels kept short
    mutes = [b for row in message.buttons for b in row if b.callback_data.startswith("mute")]
    assert [b.callback_data for b in mutes] == ["mute:123:0", "mute:123:1"]
    assert all(len(b.text) < 40 for b in mutes)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.org/x",
        "https://exa mple.org",
        "https://example.org/\u202ex",
        "//example.org/x",
        "",
        None,
    ],
)
def test_only_plain_http_links(url: str | None) -> None:
    message = telegram_alert(view(url=url), NOW, LONDON)
    assert parse_html(message.text).links == []
    assert "School meals service" in shown(message)


def test_ten_thousand_character_title_fits_and_is_cut_as_text() -> None:
    title = ("Catering & <cleaning> " * 500)[:10_000]
    message = telegram_alert(
        view(
            title=title, buyer="B" * 10_000, reasons=tuple(f"{i} " + "r" * 5000 for i in range(50))
        ),
        NOW,
        LONDON,
    )
    text = shown(message)
    first = text.splitlines()[1]
    assert first.endswith("…")
    assert len(first) < 400
    assert "and 45 more" in text
    assert "&amp" not in text  # no entity cut in half and shown raw


def test_no_remind_button_when_the_deadline_is_a_day_or_less_away() -> None:
    for deadline in (None, NOW + timedelta(hours=23), NOW - timedelta(days=1)):
        message = telegram_alert(view(deadline=deadline), NOW, LONDON)
        assert not any(c.startswith("rem:") for c in callbacks(message))
    message = telegram_alert(view(deadline=NOW + timedelta(days=1, minutes=1)), NOW, LONDON)
    assert "rem:123" in callbacks(message)


def test_blank_keywords_keep_their_index() -> None:
    message = telegram_alert(view(keywords=("  ", "meals")), NOW, LONDON)
    assert [c for c in callbacks(message) if c.startswith("mute")] == ["mute:123:1"]


def test_unknown_suitability_is_left_out() -> None:
    text = shown(telegram_alert(view(suitable_sme=None, suitable_vcse=False), NOW, LONDON))
    assert "SMEs" not in text
    assert "not marked as suitable for VCSEs" in text


# --- values, regions, deadlines ------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "minimum", "currency", "expected"),
    [
        (250_000, None, "GBP", "£250,000"),
        (50_000, 10_000, "GBP", "£10,000–£50,000"),
        (10_000, 50_000, "GBP", "£10,000–£50,000"),
        (None, 10_000, None, "from £10,000"),
        (None, None, "GBP", "value not stated"),
        (0, None, "GBP", "value not stated"),
        (float("nan"), None, "GBP", "value not stated"),
        (1234.5, None, "EUR", "€1,234.50"),
        (99.999, None, "GBP", "£100"),
        (5000, 5000, "GBP", "£5,000"),
        (5000, None, "CHF", "5,000 CHF"),
    ],
)
def test_value_phrase(amount: Any, minimum: Any, currency: str | None, expected: str) -> None:
    assert value_phrase(amount, minimum, currency) == expected


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("UKF", "East Midlands"),
        ("UKF1", "Derbyshire and Nottinghamshire"),
        ("UKF11", "Derby"),
        ("UKF14", "Nottingham"),
        ("ukf21", "Leicester"),
        ("TLF14", "Nottingham"),
        ("UKF3", "Lincolnshire"),
        ("UKF19", "Derbyshire and Nottinghamshire"),
        ("UKI31", "London"),
        ("UKM", "Scotland"),
        ("UK", "United Kingdom"),
        ("XYZ", "XYZ"),
        ("UKQ9", "UKQ9"),
    ],
)
def test_region_names(code: str, name: str) -> None:
    assert region_name(code) == name


def test_many_regions_are_summarised() -> None:
    codes = ("UKC", "UKD", "UKE", "UKF", "UKG", "UKH")
    assert "📍 North East, North West, Yorkshire and The Humber, East Midlands and 2 more" in shown(
        telegram_alert(view(regions=codes), NOW, LONDON)
    )


def at(*args: int, tz: ZoneInfo = LONDON) -> datetime:
    return datetime(*args, tzinfo=tz)


@pytest.mark.parametrize(
    ("deadline", "now", "expected"),
    [
        (at(2026, 2, 13, 12), at(2026, 2, 4, 10), "closes Fri 13 Feb, 12:00 — 9 days left"),
        (at(2026, 2, 4, 17), at(2026, 2, 4, 10), "closes today, 17:00"),
        (at(2026, 2, 5, 9), at(2026, 2, 4, 23), "closes tomorrow, 09:00"),
        (at(2026, 2, 6, 0, 30), at(2026, 2, 4, 23, 59), "closes Fri 6 Feb, 00:30 — 2 days left"),
        (at(2026, 2, 4, 9), at(2026, 2, 4, 10), "closed"),
        (at(2026, 2, 4, 10), at(2026, 2, 4, 10), "closed"),
        (at(2027, 1, 8, 12), at(2026, 12, 20, 10), "closes Fri 8 Jan 2027, 12:00 — 19 days left"),
        (None, at(2026, 2, 4, 10), "no closing date given"),
        # BST: noon in London in June is 11:00 UTC
        (
            datetime(2026, 6, 12, 11, tzinfo=UTC),
            at(2026, 6, 1, 9),
            "closes Fri 12 Jun, 12:00 — 11 days left",
        ),
        # across the clock change (BST starts 01:00 UTC, Sun 29 Mar 2026)
        (
            datetime(2026, 3, 29, 23, 30, tzinfo=UTC),
            at(2026, 3, 28, 12),
            "closes Mon 30 Mar, 00:30 — 2 days left",
        ),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), at(2026, 3, 28, 12), "closes tomorrow, 02:30"),
    ],
)
def test_deadline_wording(deadline: datetime | None, now: datetime, expected: str) -> None:
    assert deadline_phrase(deadline, now, LONDON) == expected


def test_deadline_in_the_subscribers_time_zone() -> None:
    deadline = datetime(2026, 2, 13, 2, 0, tzinfo=UTC)
    now = datetime(2026, 2, 4, 12, 0, tzinfo=UTC)
    assert deadline_phrase(deadline, now, LONDON) == "closes Fri 13 Feb, 02:00 — 9 days left"
    new_york = ZoneInfo("America/New_York")
    assert deadline_phrase(deadline, now, new_york) == "closes Thu 12 Feb, 21:00 — 8 days left"
    tokyo = ZoneInfo("Asia/Tokyo")
    assert deadline_phrase(deadline, now, tokyo) == "closes Fri 13 Feb, 11:00 — 9 days left"


# --- updates and reminders -------------------------------------------------------------------


def update(**changes: tuple[Any, Any]) -> AlertView:
    return view(kind="update", changes=changes)


@pytest.mark.parametrize(
    ("changes", "wording"),
    [
        (
            {"deadline": ("2026-03-12T12:00:00+00:00", "2026-03-19T12:00:00+00:00")},
            "deadline moved from 12 Mar to 19 Mar",
        ),
        (
            {"deadline": ("2026-03-12T12:00:00Z", "2026-03-12T17:00:00Z")},
            "deadline moved from 12 Mar, 12:00 to 12 Mar, 17:00",
        ),
        ({"deadline": (None, "2026-03-19T12:00:00+00:00")}, "closing date set to 19 Mar"),
        ({"deadline": ("garbage", None)}, "deadline changed"),
        (
            {
                "value": (
                    {"amount": 10_000, "currency": "GBP"},
                    {"amount": 12_500, "currency": "GBP"},
                )
            },
            "value changed from £10,000 to £12,500",
        ),
        ({"value": (None, {"amount": 5000, "min": 1000})}, "value now £1,000–£5,000"),
        ({"value": ({"amount": 5000}, None)}, "value no longer stated"),
        ({"title": ("Old name", "School meals service")}, "title changed (was “Old name”)"),
        ({"stage": ("tender", "cancelled")}, "was cancelled"),
        ({"stage": ("tender", "award")}, "has been awarded"),
        ({"lots": (1, 2)}, "lots changed"),
        ({"weird": "not a pair"}, "weird changed"),
    ],
)
def test_update_wording(changes: dict[str, Any], wording: str) -> None:
    message = telegram_alert(view(kind="update", changes=changes), NOW, LONDON)
    text = shown(message)
    assert text.startswith(
        ("🔄 Update: School meals service — ", "❌ Cancelled: School meals service — ")
    )
    assert wording in text.splitlines()[0]
    assert message.buttons == ()


def test_cancellation_is_said_first_and_once() -> None:
    v = update(stage=("tender", "cancelled"), deadline=("2026-03-12T12:00Z", "2026-03-19T12:00Z"))
    first = shown(telegram_alert(v, NOW, LONDON)).splitlines()
    assert (
        first[0] == "❌ Cancelled: School meals service — was cancelled; "
        "deadline moved from 12 Mar to 19 Mar"
    )
    assert len(first) == 1  # no "closes …" line for a cancelled notice
    mail = email_alert(v, NOW, LONDON, unsubscribe_url="https://b.example/u/1", manage_url=None)
    assert mail.subject == "SEEM update: School meals service — cancelled"


def test_reminder_wording() -> None:
    v = view(kind="reminder", days_before=3, deadline=datetime(2026, 2, 7, 12, tzinfo=UTC))
    text = shown(telegram_alert(v, NOW, LONDON))
    assert text.splitlines()[0] == "⏰ Closes in 3 days: School meals service"
    assert "closes Sat 7 Feb, 12:00 — 3 days left" in text
    one = shown(telegram_alert(replace(v, days_before=1), NOW, LONDON))
    assert one.startswith("⏰ Closes in 1 day: ")
    computed = shown(telegram_alert(replace(v, days_before=None), NOW, LONDON))
    assert computed.startswith("⏰ Closes in 3 days: ")


# --- groups and digests -----------------------------------------------------------------------


def test_group_is_closing_soon_first() -> None:
    views = [
        view(delivery_id=1, title="No deadline", deadline=None),
        view(delivery_id=2, title="Late", deadline=NOW + timedelta(days=30)),
        view(delivery_id=3, title="Closed", deadline=NOW - timedelta(days=1)),
        view(delivery_id=4, title="Soon", deadline=NOW + timedelta(days=2)),
        view(
            delivery_id=5,
            kind="reminder",
            title="Reminder",
            deadline=NOW + timedelta(days=1),
            days_before=1,
        ),
        view(
            delivery_id=6,
            kind="update",
            title="Moved",
            deadline=NOW + timedelta(days=10),
            changes={"title": ("Old", "Moved")},
        ),
    ]
    message = telegram_group(views, NOW, LONDON)
    head, *items = shown(message).split("\n\n")
    assert head == "🔔 4 new opportunities, 1 update, 1 reminder"
    titles = [
        re.sub(r"^\d+\. (⏰ Closes in 1 day: |🔄 Update: )?", "", item).split(" — ")[0]
        for item in (_title_line(i) for i in items)
    ]
    assert titles == ["Reminder", "Soon", "Moved", "Late", "No deadline", "Closed"]
    # each new opportunity keeps its buyer, place, closing date, value and "why"
    assert items[1].splitlines() == [
        "2. Bid by 6 Feb — tender",
        "    Soon",
        "    🏛 Nottingham City Council · 📍 Nottingham",
        "    📅 closes Fri 6 Feb (2 days) · 💷 £250,000",
        "    Why: matched “school meals” in the title",
    ]
    assert items[0] == "1. ⏰ Closes in 1 day: Reminder"  # follow-ups stay one line
    # numbered buttons only for new opportunities, in the shown order; ⏰ only when the
    # deadline is more than a day away
    assert callbacks(message) == [
        "fb+:4", "fb-:4", "rem:4", "ask:4",
        "fb+:2", "fb-:2", "rem:2", "ask:2",
        "fb+:1", "fb-:1", "ask:1",
        "fb+:3", "fb-:3", "ask:3",
    ]  # fmt: skip
    assert [b.text for b in message.buttons[0]] == ["👍 2", "👎 2", "⏰ 2", "❓ 2"]


def _title_line(item: str) -> str:
    """A group or digest item's title: its second line under a kind line (a new
    opportunity), else its only line (an update or a reminder)."""
    lines = item.splitlines()
    if len(lines) > 1 and lines[1].startswith("    "):
        return lines[0].split(" ", 1)[0] + " " + lines[1].strip()
    return lines[0]


def test_group_of_one_is_a_normal_alert() -> None:
    assert telegram_group([view()], NOW, LONDON) == telegram_alert(view(), NOW, LONDON)


def test_group_of_a_hundred_long_alerts_fits() -> None:
    views = [
        view(
            delivery_id=i,
            title=f"{i} " + "Very long title & <more> " * 40,
            deadline=NOW + timedelta(days=i),
        )
        for i in range(100)
    ]
    message = telegram_group(views, NOW, LONDON)
    text = shown(message)
    assert text.startswith("🔔 100 new opportunities")
    more = re.search(r"…and (\d+) more in my next message$", text)
    assert more is not None
    listed = len(re.findall(r"^\d+\. ", text, flags=re.M))
    assert listed + int(more.group(1)) == 100
    assert listed > 10
    # what is shown is exactly what the message names as shown (the rest is sent next)
    numbers = [int(n) for n in re.findall(r"^    (\d+) Very long", text, flags=re.M)]
    assert sorted(message.shown) == sorted(numbers) and len(message.shown) == listed
    assert visible_length(message.text) > 3000  # the space is used, not wasted
    assert len(message.buttons) == 5


def test_digest_sections() -> None:
    views = [
        view(delivery_id=1, title="New far", deadline=NOW + timedelta(days=20)),
        view(delivery_id=2, title="New soon", deadline=NOW + timedelta(days=3)),
        view(delivery_id=3, title="Soonest", deadline=NOW + timedelta(days=1, hours=2)),
        view(delivery_id=4, title="Edge", deadline=NOW + timedelta(days=7)),
        view(
            delivery_id=5, kind="update", title="Changed", changes={"value": (None, {"amount": 1})}
        ),
        view(delivery_id=6, title="Open-ended", deadline=None),
    ]
    text = shown(telegram_digest(views, NOW, LONDON, "daily"))
    head, rest = text.split("\n\n", 1)
    assert head == "📬 Your daily digest — 5 new opportunities, 1 update"
    soon, new, updated = (
        rest.split("\n\n🆕 New\n")[0],
        *rest.split("\n\n🆕 New\n")[1].split("\n\n🔄 Updated\n"),
    )
    assert soon.splitlines()[0] == "⏳ Closing soon"
    assert [_title_line(i) for i in soon.split("\n", 1)[1].split("\n\n")] == [
        "1. Soonest",
        "2. New soon",
        "3. Edge",
    ]
    assert _title_line(new.split("\n\n")[0]) == "4. New far"
    assert "📅 closes Tue 24 Feb (20 days) · 💷 £250,000" in new.split("\n\n")[0]
    assert "📅 no closing date · 💷 £250,000" in new.split("\n\n")[1]
    assert "Why: matched “school meals” in the title" in new.split("\n\n")[1]
    assert updated == "• 🔄 Update: Changed — value now £1"


def test_digest_numbers_get_feedback_buttons_for_the_same_notices() -> None:
    views = [
        view(delivery_id=11, title="Later", deadline=NOW + timedelta(days=30)),
        update(title=("Old", "New")),
        view(delivery_id=12, title="Soon", deadline=NOW + timedelta(days=2)),
    ]
    message = telegram_digest(views, NOW, LONDON, "daily")
    text = shown(message)
    assert "1. Bid by 6 Feb — tender\n    Soon" in text
    assert "2. Bid by 6 Mar — tender\n    Later" in text
    assert [[b.text for b in row] for row in message.buttons] == [
        ["👍 1", "👎 1", "⏰ 1", "❓ 1"],
        ["👍 2", "👎 2", "⏰ 2", "❓ 2"],
    ]
    # number n's buttons carry number n's delivery (the soonest is listed first)
    assert message.buttons[0][0].callback_data == pack(ACTION_RELEVANT, 12)
    assert message.buttons[1][1].callback_data == pack(ACTION_NOT_RELEVANT, 11)


def test_digest_buttons_stop_at_a_few_and_only_for_shown_lines() -> None:
    views = [
        view(delivery_id=i, title="Soon " + "x" * 300, deadline=NOW + timedelta(days=2))
        for i in range(1, 60)
    ]
    message = telegram_digest(views, NOW, LONDON, "weekly")
    text = shown(message)
    numbers = [int(row[0].text.split()[1]) for row in message.buttons]
    assert 0 < len(numbers) <= 5
    assert all(f"{n}. Bid by 6 Feb — tender\n    Soon" in text for n in numbers)


def test_digest_of_hundreds_fits_with_every_section_shown() -> None:
    views = [
        view(delivery_id=i, title="Soon " + "x" * 100, deadline=NOW + timedelta(days=2))
        for i in range(200)
    ]
    views += [
        view(delivery_id=1000 + i, title="Later " + "y" * 100, deadline=NOW + timedelta(days=40))
        for i in range(200)
    ]
    views += [update(title=("Old", "New")) for _ in range(50)]
    text = shown(telegram_digest(views, NOW, LONDON, "weekly"))
    assert "⏳ Closing soon" in text and "🆕 New" in text and "🔄 Updated" in text
    assert len(re.findall(r"…and [\d,]+ more in my next message", text)) == 3


def test_empty_digest() -> None:
    text = shown(telegram_digest([], NOW, LONDON, "weekly"))
    assert "Nothing new matched" in text


def test_nudge() -> None:
    assert (
        nudge_text(1240)
        == "We checked 1,240 notices this week; none matched — widen your keywords?"
    )
    assert nudge_text(1).startswith("We checked 1 notice this week")
    assert parse_html(nudge_text(5)).text == nudge_text(5)


# --- properties: anything a feed sends renders within Telegram's rules ------------------------

feed_text = st.text(st.characters(codec="utf-8"), max_size=400) | st.text(max_size=5000)
maybe_date = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
views_strategy = st.builds(
    AlertView,
    delivery_id=st.integers(0, 10**19 - 1),
    notice_id=st.integers(0, 10**9),
    kind=st.sampled_from(["alert", "update", "reminder", "other"]),
    title=feed_text,
    url=st.none() | st.just("https://example.org/x?a=1&b=2") | feed_text,
    buyer=st.none() | feed_text,
    value_amount=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    value_min=st.none() | st.floats(min_value=0, max_value=1e15),
    currency=st.none() | st.sampled_from(["GBP", "EUR", "<b>", ""]),
    deadline=maybe_date,
    regions=st.lists(
        feed_text | st.sampled_from(["UKF14", "UKF", "TLF11", "UKM"]), max_size=12
    ).map(tuple),
    suitable_sme=st.none() | st.booleans(),
    suitable_vcse=st.none() | st.booleans(),
    reasons=st.lists(feed_text, max_size=12).map(tuple),
    keywords=st.lists(feed_text, max_size=5).map(tuple),
    changes=st.dictionaries(
        st.sampled_from(["title", "deadline", "value", "stage", "other"]),
        st.tuples(
            st.none() | feed_text | st.just("2026-03-12T12:00:00+00:00"),
            st.none()
            | feed_text
            | st.just("cancelled")
            | st.just({"amount": 5, "currency": "GBP"}),
        ),
        max_size=5,
    ),
    days_before=st.none() | st.integers(-3, 400),
)
slow = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@slow
@given(views_strategy, st.sampled_from(["Europe/London", "America/New_York", "Pacific/Kiritimati"]))
def test_any_alert_is_valid_telegram_html(v: AlertView, zone: str) -> None:
    message = telegram_alert(v, NOW, ZoneInfo(zone))
    shown(message)


@slow
@given(st.lists(views_strategy, min_size=0, max_size=40))
def test_any_group_and_digest_is_valid_telegram_html(views: Sequence[AlertView]) -> None:
    if views:
        shown(telegram_group(views, NOW, LONDON))
    shown(telegram_digest(views, NOW, LONDON, "daily"))


@slow
@given(views_strategy)
def test_any_email_has_a_one_line_subject_and_escaped_html(v: AlertView) -> None:
    mail = email_alert(
        v, NOW, LONDON, unsubscribe_url="https://b.example/unsubscribe/1.x", manage_url=None
    )
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert len(mail.subject) <= 120
    body = mail.html.split("<body", 1)[1]
    # the only tags are ours: nothing from the feed survives as markup
    for tag in re.findall(r"<\s*([a-zA-Z0-9]+)", body):
        assert tag.lower() in {
            "style",
            "p",
            "h2",
            "a",
            "table",
            "tr",
            "td",
            "i",
            "hr",
            "b",
            "br",
            "span",
        }, tag


# --- email -----------------------------------------------------------------------------------


def test_email_alert() -> None:
    mail = email_alert(
        view(title=HOSTILE + " " + "long " * 100),
        NOW,
        LONDON,
        unsubscribe_url="https://bestbot.example/unsubscribe/1.abc",
        manage_url="https://t.me/bestbot?start=link",
    )
    assert mail.subject.startswith('SEEM alert: <script>alert("x")</script> & Sons')
    # the title is shortened, never the closing date
    assert len(mail.subject) <= 120 and mail.subject.endswith("… — closes 13 Feb")
    assert "\x00" not in mail.subject and "\u202e" not in mail.subject
    assert "<script>" not in mail.html
    assert str(markupsafe.escape('<script>alert("x")</script>')) in mail.html
    assert "Value: £250,000" in mail.text
    assert "Deadline: closes Fri 13 Feb, 12:00 — 9 days left" in mail.text
    assert "Why: matched “school meals” in the title" in mail.text
    assert "Unsubscribe: https://bestbot.example/unsubscribe/1.abc" in mail.text
    assert '<a href="https://bestbot.example/unsubscribe/1.abc">Unsubscribe</a>' in mail.html
    assert '<a href="https://t.me/bestbot?start=link">Manage your alerts</a>' in mail.html
    assert "signed up for SEEM contract alerts: opportunity alerts" in mail.text


def test_email_update_and_reminder_subjects() -> None:
    kw = {"unsubscribe_url": "https://b.example/u", "manage_url": None}
    upd = email_alert(
        update(deadline=("2026-03-12T12:00Z", "2026-03-19T12:00Z")), NOW, LONDON, **kw
    )
    assert upd.subject == "SEEM update: School meals service — deadline moved from 12 Mar to 19 Mar"
    assert "What changed: deadline moved from 12 Mar to 19 Mar" in upd.text
    rem = email_alert(view(kind="reminder", days_before=1), NOW, LONDON, **kw)
    assert rem.subject == "SEEM reminder: School meals service — closes in 1 day"


def test_email_digest() -> None:
    views = [view(delivery_id=i, deadline=NOW + timedelta(days=i * 5)) for i in range(1, 6)]
    mail = email_digest(
        views, NOW, LONDON, unsubscribe_url="https://b.example/u", manage_url=None, period="weekly"
    )
    assert mail.subject == "SEEM weekly digest: 5 new opportunities"
    assert mail.text.startswith("Your weekly digest: 5 new opportunities")
    assert "Closing soon\n- Bid by 9 Feb — tender\n  School meals service" in mail.text
    assert "\nNew\n- Bid by 14 Feb — tender\n  School meals service" in mail.text
    assert mail.html.count("<li") == 5
    one = email_digest(
        [*views[:1], update(title=("a", "b"))],
        NOW,
        LONDON,
        unsubscribe_url="u",
        manage_url=None,
        period="daily",
    )
    assert one.subject == "SEEM daily digest: 1 new opportunity, 1 update"
    assert "Unsubscribe: u" in one.text and 'href="u"' not in one.html


def test_alerts_that_arrive_together_are_not_called_a_digest() -> None:
    views = [view(), view(delivery_id=124, title="Meals on wheels")]
    rendered = email_digest(
        views,
        NOW,
        LONDON,
        unsubscribe_url="https://x.example/u/1",
        manage_url=None,
        period="instant",
    )
    assert "digest" not in rendered.text.lower()
    assert (
        "digest"
        in email_digest(
            views,
            NOW,
            LONDON,
            unsubscribe_url="https://x.example/u/1",
            manage_url=None,
            period="daily",
        ).text.lower()
    )


# --- substance kept, read as a person reads it ---------------------------------------------

MATCHER_REASONS = (
    "matched “school meals” in the title",
    "CPV 55524000 School catering services (from “school meals”)",
    "CPV 55524000 School catering services",
    "East Midlands (UKF14)",
)


def _no_codes(text: str) -> None:
    """Nothing a person reads carries a NUTS code or a CPV number."""
    assert not re.search(r"\b(?:UK|TL)[C-N][0-9A-Z]{0,3}\b", text), text
    assert not re.search(r"\bCPV\b|\b\d{8}\b", text), text


def test_single_alert_says_why_once_with_names_and_a_line_of_description() -> None:
    v = view(
        reasons=MATCHER_REASONS,
        description=(
            "Nottingham City Council seeks a provider of hot school meals to 34 primary "
            "schools across the north of the city from September 2027, including holiday "
            "clubs, with menus meeting the School Food Standards."
        ),
    )
    lines = shown(telegram_alert(v, NOW, LONDON)).splitlines()
    assert lines[:2] == ["🔔 Bid by 13 Feb — tender", "School meals service"]
    assert lines[2].startswith("Nottingham City Council seeks a provider of hot school meals")
    assert lines[2].endswith("…") and len(lines[2]) <= 160
    why = next(line for line in lines if line.startswith("Why: "))
    assert why == (
        "Why: matched “school meals” in the title; category “School catering services” "
        "(from “school meals”); in Nottingham"
    )
    assert why.count("School catering services") == 1
    _no_codes("\n".join(lines))
    # a description that only repeats the title adds no line
    same = shown(telegram_alert(view(description="School meals service"), NOW, LONDON))
    assert same.splitlines()[2] == "🏛 Nottingham City Council"


@pytest.mark.parametrize(
    ("reasons", "why"),
    [
        (("CPV 90910000 Cleaning services",), "category “Cleaning services”"),
        (
            ("CPV 90910000 Cleaning services", "CPV 90910000 Cleaning services (from “cleaning”)"),
            "category “Cleaning services” (from “cleaning”)",
        ),
        (("matched “catering” in the description", "UK-wide"), "matched “catering” in the "),
        (("Derbyshire and Nottinghamshire (UKF1)",), "in Derbyshire and Nottinghamshire"),
        (("East Midlands (UKF)", "suitable for VCSEs"), "in East Midlands; suitable for VCSEs"),
        (("CPV 98000000",), "a contract category you follow"),
    ],
)
def test_reasons_in_words(reasons: tuple[str, ...], why: str) -> None:
    text = shown(telegram_alert(view(reasons=reasons), NOW, LONDON))
    assert why in text
    _no_codes(text)


def test_each_grouped_item_keeps_buyer_place_and_why() -> None:
    views = [
        view(delivery_id=1, reasons=MATCHER_REASONS, deadline=NOW + timedelta(days=9)),
        view(
            delivery_id=2,
            title="Cleaning services for Derbyshire schools and offices",
            buyer="Derbyshire County Council",
            regions=("UKF12", "UKF13", "UKF11"),
            reasons=("matched “cleaning” in the title", "CPV 90910000 Cleaning services"),
            deadline=NOW + timedelta(days=20),
            value_amount=None,
        ),
    ]
    for message in (
        telegram_group(views, NOW, LONDON),
        telegram_digest(views, NOW, LONDON, "daily"),
    ):
        text = shown(message)
        _no_codes(text)
        first = text[text.index("1. ") : text.index("2. ")]
        second = text[text.index("2. ") :]
        assert "🏛 Nottingham City Council · 📍 Nottingham" in first
        assert "Why: matched “school meals” in the title; category “School catering" in first
        assert "🏛 Derbyshire County Council · 📍 East Derbyshire, South and West" in second
        assert "💷 value not stated" in second
        assert "Why: matched “cleaning” in the title; category “Cleaning services”" in second
        # the buttons say which item they act on, and carry that item's delivery
        rows = [[b.text for b in row] for row in message.buttons]
        assert rows == [["👍 1", "👎 1", "⏰ 1", "❓ 1"], ["👍 2", "👎 2", "⏰ 2", "❓ 2"]]
        assert message.buttons[1][2].callback_data == "rem:2"


def test_email_digest_items_keep_place_and_why_in_words() -> None:
    v = view(reasons=MATCHER_REASONS, regions=("UKF14",))
    mail = email_digest(
        [v, view(delivery_id=9, deadline=NOW + timedelta(days=30))],
        NOW,
        LONDON,
        unsubscribe_url="https://b.example/u",
        manage_url=None,
        period="daily",
    )
    assert "Nottingham City Council · Nottingham · £250,000" in mail.text
    assert "Why: matched “school meals” in the title; category “School catering services”" in (
        mail.text
    )
    _no_codes(mail.text.split("-- ")[0])
