"""How each kind of notice, its dates, its lots and an in-place edit read (bot/render), read
through the strict Telegram HTML parser as a person sees them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.kinds import follow_up_of
from bot.render.email import email_alert, email_digest
from bot.render.model import AlertView, LotLine
from bot.render.phrases import changes_in_words, kind_line, lot_phrase
from bot.render.telegram import telegram_alert, telegram_digest, telegram_group
from tests.bot.test_render import HOSTILE, LONDON, NOW, shown, view

DAY = timedelta(days=1)
IN_9 = NOW + 9 * DAY  # Fri 13 Feb 2026


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"notice_kind": "tender", "deadline": IN_9}, "Bid by 13 Feb — tender"),
        (
            {"notice_kind": "tender", "deadline": IN_9, "expression_of_interest": IN_9},
            "Request to take part by 13 Feb — tender",
        ),
        ({"notice_kind": "tender", "deadline": None}, "Open for bids — tender"),
        ({"notice_kind": "tender", "deadline": NOW - DAY}, "Closed — tender"),
        (
            {"notice_kind": "engagement", "deadline": IN_9},
            "Have your say by 13 Feb — market engagement",
        ),
        ({"notice_kind": "engagement", "deadline": None}, "Have your say — market engagement"),
        (
            {"notice_kind": "pipeline", "deadline": None, "future_notice": NOW + 200 * DAY},
            "Tender expected about Aug — pipeline",
        ),
        (
            {"notice_kind": "pipeline", "deadline": None, "future_notice": NOW + 400 * DAY},
            "Tender expected about Mar 2027 — pipeline",
        ),
        ({"notice_kind": "pipeline", "deadline": None}, "Tender expected later — pipeline"),
        (
            {"notice_kind": "planned", "deadline": None},
            "Tender may allow only 10 days — planned procurement",
        ),
        ({"notice_kind": "dm_intention"}, "Apply to join when it opens — dynamic market"),
        ({"notice_kind": "dm_established"}, "Apply to join — dynamic market"),
        ({"notice_kind": "dm_modified"}, "Rules changed — dynamic market"),
        ({"notice_kind": "dm_ceased"}, "Closed — dynamic market"),
        ({"notice_kind": "cancelled"}, "Cancelled — procurement"),
        ({"notice_kind": "award"}, "Contract award"),
        ({"notice_kind": "unknown", "deadline": IN_9}, "Closes 13 Feb — notice"),
        ({"notice_kind": "unknown", "deadline": None}, "Notice — no closing date given"),
    ],
)
def test_first_line_says_what_kind_of_chance_it_is(overrides: dict[str, object], line: str) -> None:
    v = view(**overrides)
    assert kind_line(v, NOW, LONDON) == line
    text = shown(telegram_alert(v, NOW, LONDON))
    assert text.splitlines()[0] == f"🔔 {line}"
    mail = email_alert(v, NOW, LONDON, unsubscribe_url="https://b.example/u", manage_url=None)
    assert mail.text.startswith(f"{line}\n\n")


def test_pipeline_and_planned_show_expected_dates_never_a_deadline() -> None:
    planned = view(
        notice_kind="planned",
        deadline=None,
        future_notice=datetime(2026, 6, 1, 9, tzinfo=UTC),
        tender_deadline=datetime(2026, 7, 6, 11, tzinfo=UTC),
    )
    text = shown(telegram_alert(planned, NOW, LONDON))
    assert "📅 tender expected about 1 Jun; bids likely due about 6 Jul" in text
    assert "closes" not in text and "Remind me" not in text  # nothing is due yet
    mail = email_alert(planned, NOW, LONDON, unsubscribe_url="https://b.example/u", manage_url=None)
    assert "Expected: tender expected about 1 Jun; bids likely due about 6 Jul" in mail.text
    pipeline = view(notice_kind="pipeline", deadline=None, future_notice=NOW + 200 * DAY)
    assert "📅 tender expected about Aug" in shown(telegram_alert(pipeline, NOW, LONDON))
    item = shown(telegram_group([pipeline, view(delivery_id=9)], NOW, LONDON))
    assert "📅 tender expected about Aug · 💷 £250,000" in item


def test_two_stage_tender_shows_both_deadlines() -> None:
    v = view(expression_of_interest=IN_9, deadline=IN_9, tender_deadline=NOW + 40 * DAY)
    text = shown(telegram_alert(v, NOW, LONDON))
    assert "📅 closes Fri 13 Feb, 10:00 — 9 days left (then tenders close 16 Mar)" in text


LOTS = (
    LotLine("3", "Day support", 120_000, None, "GBP", None, True, ("supported_employment",)),
    LotLine("5", "Respite", 80_000, None, "GBP", True, True),
    LotLine("LOT-0007", "Transport", None, None, None),
)


def test_lots_that_fit_are_named_with_value_suitability_and_reservation() -> None:
    assert lot_phrase(LOTS[0]) == (
        "Lot 3 — Day support, £120,000, suitable for VCSEs, "
        "reserved for supported employment providers"
    )
    assert lot_phrase(LOTS[1]) == "Lot 5 — Respite, £80,000, suitable for SMEs and VCSEs"
    assert lot_phrase(LOTS[2]) == "LOT-0007 — Transport"
    v = view(lots=LOTS, lot_count=7, value_amount=2_000_000)
    text = shown(telegram_alert(v, NOW, LONDON))
    assert "💷 £2,000,000 in all" in text
    assert "🧩 Lot 3 — Day support, £120,000, suitable for VCSEs, reserved for" in text
    assert "🧩 Lot 5 — Respite" in text and "🧩 and 1 more lot fits" in text
    # the notice-wide suitability would mislead next to per-lot suitability
    assert "suitable for SMEs ✓" not in text
    one = shown(telegram_alert(view(lots=(), lot_count=4), NOW, LONDON))
    assert "🧩 4 lots" in one
    group = shown(telegram_group([v, view(delivery_id=2)], NOW, LONDON))
    assert "    🧩 Lot 3 — Day support" in group and "    🧩 and 2 more lots fit" in group
    mail = email_alert(v, NOW, LONDON, unsubscribe_url="https://b.example/u", manage_url=None)
    assert "Lots that fit: Lot 3 — Day support, £120,000" in mail.text


def test_reserved_contract_is_said_plainly() -> None:
    text = shown(telegram_alert(view(reserved=("public_service_mutual",)), NOW, LONDON))
    assert "🔒 Reserved for public service mutuals" in text


def test_hostile_lot_titles_are_escaped() -> None:
    v = view(lots=(LotLine(HOSTILE[:40], HOSTILE, 1.0, None, "GBP"),), lot_count=2)
    message = telegram_alert(v, NOW, LONDON)
    assert "<script>" not in message.text
    assert '<script>alert("x")</script>' in shown(message)


FOLLOW_UPS = [
    ({"kind": ("planned", "tender")}, "out_now", "the tender is out now"),
    ({"kind": ("engagement", "tender")}, "out_now", "the tender is out now"),
    ({"kind": ("dm_intention", "dm_established")}, "open_now", "open to join now"),
    ({"kind": ("tender", "cancelled")}, "cancelled", "was cancelled"),
    ({"stage": ("tender", "cancelled")}, "cancelled", "was cancelled"),
    ({"kind": ("dm_established", "dm_ceased")}, "closed", "the dynamic market has closed"),
    ({"kind": ("dm_established", "dm_modified")}, "changed", "rules or scope have changed"),
    ({"kind": ("pipeline", "engagement")}, "changed", "the buyer wants suppliers' views now"),
    ({"kind": ("tender", "award"), "stage": ("tender", "award")}, "changed", "has been awarded"),
]


@pytest.mark.parametrize(("changes", "follow_up", "words"), FOLLOW_UPS)
def test_follow_ups_in_words(changes: dict[str, object], follow_up: str, words: str) -> None:
    assert follow_up_of(changes) == follow_up
    said = "; ".join(changes_in_words(changes, NOW, LONDON))
    assert words in said
    assert "stage" not in said  # never "moved to the tender stage" next to the kind


def test_out_now_says_when_bids_close_not_that_an_expected_date_moved() -> None:
    changes = {
        "kind": ("planned", "tender"),
        "deadline": ("2026-07-06T11:00:00+00:00", "2026-07-10T11:00:00+00:00"),
        "engagement_end": ("2026-04-24T22:59:00+00:00", None),
    }
    assert changes_in_words(changes, NOW, LONDON) == [
        "the tender is out now",
        "bids close 10 Jul",
    ]
    text = shown(telegram_alert(view(kind="update", changes=changes), NOW, LONDON))
    assert text.startswith("🚀 Out now: School meals service — the tender is out now; bids close")


def test_an_edited_alert_says_what_changed_above_it() -> None:
    v = view(edit={"deadline": ("2026-02-13T12:00:00+00:00", "2026-02-20T12:00:00+00:00")})
    message = telegram_alert(replace(v, deadline=NOW + 16 * DAY), NOW, LONDON)
    lines = shown(message).splitlines()
    assert lines[0] == "📝 Changed: deadline moved from 13 Feb to 20 Feb"
    assert lines[1] == "🔔 Bid by 20 Feb — tender"
    labels = [b.text for row in message.buttons for b in row]
    assert labels[:2] == ["👍 Relevant", "👎 Not relevant"]


def test_a_withdrawn_alert_is_struck_through_without_buttons() -> None:
    message = telegram_alert(view(edit={"kind": ("tender", "cancelled")}), NOW, LONDON)
    text = shown(message)
    assert text.splitlines()[0] == "❌ Withdrawn: was cancelled"
    assert message.buttons == ()
    body = message.text.split("\n")[1:]
    assert body and all(line.startswith("<s>") and line.endswith("</s>") for line in body)


def test_an_edited_digest_marks_only_the_changed_item() -> None:
    views = [
        view(delivery_id=1, title="Stays", deadline=NOW + 3 * DAY),
        view(
            delivery_id=2,
            title="Goes",
            deadline=NOW + 20 * DAY,
            edit={"kind": ("tender", "cancelled")},
        ),
    ]
    message = telegram_digest(views, NOW, LONDON, "daily")
    text = shown(message)
    stays, goes = text.split("\n\n🆕 New\n")
    assert "Withdrawn" not in stays and "<s>" not in message.text.split("🆕")[0]
    assert goes.splitlines()[-1] == "    ❌ Withdrawn: was cancelled"
    assert "<s>2. Bid by 24 Feb — tender</s>" in message.text


def test_digest_email_items_lead_with_their_kind() -> None:
    views = [
        view(delivery_id=1, notice_kind="engagement", deadline=NOW + 3 * DAY),
        view(delivery_id=2, notice_kind="pipeline", deadline=None, future_notice=NOW + 90 * DAY),
    ]
    mail = email_digest(
        views, NOW, LONDON, unsubscribe_url="https://b.example/u", manage_url=None, period="daily"
    )
    assert "- Have your say by 7 Feb — market engagement\n  School meals service" in mail.text
    assert "- Tender expected about May — pipeline\n  School meals service" in mail.text
    assert "tender expected about May" in mail.text.split("pipeline", 1)[1]


def test_kind_line_on_hostile_view_is_valid_html() -> None:
    for kind in ("tender", "engagement", "pipeline", "planned", "dm_established", "unknown"):
        v: AlertView = view(notice_kind=kind, title=HOSTILE, buyer=HOSTILE, lots=LOTS)
        shown(telegram_alert(v, NOW, LONDON))
        shown(telegram_group([v, replace(v, delivery_id=5)], NOW, LONDON))
