"""Each kind of notice, as a real-shaped FTS release (``tests/feeds/uk_profile_releases.py``),
through the composed App and the fake Bot API: what its first line says, whether it comes
at once, only in the digest, or never; the first deadline of a two-stage tender for
reminders, "closing soon" and "still open?"; lots and reservations."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.timing import next_digest_time
from feeds.notice import Notice
from feeds.ocds import parse_release
from matchers.engine import Matcher
from matchers.lots import match_lots
from matchers.profile import parse_profile
from storage.db import Database
from tests.bot.life_kit import (
    cycle,
    deliveries,
    life_config,
    set_profile,
    subscribe,
    write_feed,
)
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import register_fake, running_bot, settle
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram
from tests.feeds import uk_profile_releases as uk

ANN, DAISY = 8201, 8202
LONDON = ZoneInfo("Europe/London")
LONDON_DIGEST_HOUR = 8
ALL_STAGES = ["planning", "tender", "award", "contract", "cancelled"]

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid in (ANN, DAISY):
            server.add_user(uid)
        register_fake(server)
        yield server


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def parsed(release: dict[str, Any]) -> Notice:
    return parse_release(json.loads(json.dumps(release)))


def fitting_profile(notice: Notice) -> dict[str, Any]:
    """A profile that matches ``notice`` at any stage (its own CPV division, else the first
    two words of its title), so that whatever stops an alert is its kind, not the match."""
    if notice.cpv:
        return {"keywords": [], "cpv": [notice.cpv[0][:2]], "stages": ALL_STAGES}
    words = [w for w in notice.title.split() if w.isalpha() and len(w) > 3][:2]
    return {"keywords": [" ".join(words)], "stages": ALL_STAGES}


#: code -> (first line of the alert, how it comes); None: never sent to an enterprise.
EXPECTED: dict[str, tuple[str, str] | None] = {
    "UK1": ("🔔 Tender expected about Jun — pipeline", "digest"),
    "UK2": ("🔔 Have your say by 24 Apr — market engagement", "instant"),
    "UK3": ("🔔 Tender may allow only 10 days — planned procurement", "digest"),
    "UK4": ("🔔 Request to take part by 2 Nov — tender", "instant"),
    "UK5": None,
    "UK6": None,
    "UK7": None,
    "UK9": None,
    "UK10": None,
    "UK11": None,
    "UK12": None,  # a follow-up only: nobody was alerted to this procurement
    "UK13": ("🔔 Apply to join when it opens — dynamic market", "instant"),
    "UK14": ("🔔 Apply to join — dynamic market", "instant"),
    "UK15": ("🔔 Rules changed — dynamic market", "digest"),
    "UK16": None,
    "UK17": None,
}


@pytest.mark.parametrize("code", sorted(EXPECTED, key=lambda c: int(c[2:])))
async def test_each_kind_reaches_an_instant_subscriber_as_its_default_says(
    code: str, fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    build, _kind = uk.UK_RELEASES[code]
    release = build()
    notice = parsed(release)
    profile = fitting_profile(notice)
    # the profile does match the notice: what follows is down to its kind
    p = parse_profile({"id": "x", **profile})
    assert match_lots(Matcher([p]).match, [notice], [p])
    await subscribe(database, chat=ANN, **profile)
    config = life_config(fake, smtp, database, write_feed(tmp_path, code, release))

    assert notice.published is not None
    published = notice.published.astimezone(UTC)
    await cycle(config, published + timedelta(minutes=5))
    at_once = list(fake.messages(ANN))
    digest = next_digest_time(published + timedelta(minutes=5), LONDON, LONDON_DIGEST_HOUR)
    await cycle(config, digest + timedelta(minutes=1))
    later = fake.messages(ANN)

    expected = EXPECTED[code]
    if expected is None:
        assert later == [] and await deliveries(database) == []
        return
    first_line, how = expected
    (message,) = later
    assert message.text.splitlines()[0] == first_line
    assert message.text.splitlines()[1] == notice.title
    assert len(at_once) == (1 if how == "instant" else 0)


async def test_pipeline_and_planned_go_only_in_the_digest_and_can_be_switched_off(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    """UK1 and UK3 wait for the digest even for an instant subscriber; a daily subscriber
    gets them in the same digest as everything else; /types off means never."""
    pipeline, tender = uk.uk1_pipeline(), uk.uk4_two_stage()
    await subscribe(database, chat=ANN, keywords=[], cpv=["09", "85"])
    await subscribe(database, chat=DAISY, keywords=[], cpv=["09", "85"], frequency="daily")
    ben = await subscribe(database, email="ben@example.org", keywords=[], cpv=["09", "85"])
    await set_profile(database, ben, kinds_off=["pipeline", "planned"])
    feed = write_feed(tmp_path, "both", pipeline, tender)
    config = life_config(fake, smtp, database, feed)
    now = datetime(2026, 10, 6, 17, 5, tzinfo=UTC)  # after both were published
    await cycle(config, now)
    (instant,) = fake.messages(ANN)
    assert instant.text.startswith("🔔 Request to take part by 2 Nov — tender")
    assert fake.messages(DAISY) == []
    assert [m.subject for m in smtp.messages] == [
        "SEEM alert: Competitive Flexible Procedure (CFP) Aldbanks Supported Living "
        "CBC-2074-CFP-SK — closes 2 Nov"
    ]
    # the UK1's expected tender date has passed (29 Jun): it is still early sight
    await cycle(config, datetime(2026, 10, 7, 7, 1, tzinfo=UTC))  # 08:01 BST
    ann_digest = fake.messages(ANN)[-1]
    assert ann_digest.text.startswith("🔔 Tender expected later — pipeline\n")
    daisy_digest = fake.messages(DAISY)[-1]
    assert daisy_digest.text.startswith("📬 Your daily digest — 2 new opportunities")
    assert "Request to take part by 2 Nov — tender" in daisy_digest.text
    assert "Tender expected later — pipeline" in daisy_digest.text
    assert len(smtp.messages) == 1  # Ben switched early sight off


async def test_two_stage_tender_uses_its_first_deadline(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    """Requests to take part close 2 Nov 12:00 and tenders 5 Dec: the alert, the reminder,
    the digest's "closing soon" and "still open?" all go by 2 Nov."""
    release = uk.uk4_two_stage()
    release["tender"]["tenderPeriod"] = {"endDate": "2026-12-05T12:00:00+00:00"}
    # another procurement of the same buyer, whose requests to take part close later
    phase2 = copy.deepcopy(release)
    phase2["ocid"], phase2["id"] = "ocds-h6vhtk-0bed02", "094999-2026"
    phase2["tender"]["title"] = "Bedford Supported Living Phase 2"
    phase2["tender"]["expressionOfInterestDeadline"] = "2026-11-20T12:00:00+00:00"
    feed = write_feed(tmp_path, "two-stage", release, phase2)
    await subscribe(database, chat=ANN, keywords=["competitive flexible procedure"])
    await subscribe(database, chat=DAISY, keywords=["supported living"], frequency="daily")
    now = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    config = life_config(fake, smtp, database, feed)
    async with running_bot(config, clock=lambda: now) as running:
        await running.app.cycle()
        (alert,) = fake.messages(ANN)
        lines = alert.text.splitlines()
        assert lines[0] == "🔔 Request to take part by 2 Nov — tender"
        assert "📅 closes Mon 2 Nov, 12:00 — 5 days left (then tenders close 5 Dec)" in lines
        before = len(fake.callback_answers)
        fake.user_presses(ANN, alert.message_id, alert.button("⏰ Remind me")["callback_data"])
        await fake.wait_for_callback_answers(before + 1)
        await settle(fake, running)
        reminders = await deliveries(database, kind="reminder")
        assert sorted(r.due_at for r in reminders) == [
            datetime(2026, 10, 30, 12, 0, tzinfo=UTC),  # 3 days before 2 Nov, not 5 Dec
            datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        ]
    # Daisy's digest next morning: "closing soon" goes by the first deadline
    await cycle(config, datetime(2026, 10, 29, 8, 1, tzinfo=UTC))
    (digest,) = fake.messages(DAISY)
    soon, new = digest.text.split("⏳ Closing soon\n")[1].split("\n\n🆕 New\n")
    assert soon.startswith("1. Request to take part by 2 Nov — tender\n    Competitive Flexible")
    assert new.startswith("2. Request to take part by 20 Nov — tender\n    Bedford Supported")
    # once requests to take part have closed, nobody new is alerted: it is no longer open
    fake.add_user(8203)
    await subscribe(database, chat=8203, keywords=["competitive flexible procedure"])
    again = {**release, "id": release["id"] + "-x", "date": "2026-11-03T08:00:00+00:00"}
    later = life_config(fake, smtp, database, write_feed(tmp_path, "again", again))
    report = await cycle(later, datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    assert report.matching.queued == 0 and fake.messages(8203) == []


async def test_the_lot_that_fits_is_named_and_reserved_lots_are_a_filter(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    """The Harrogate tender in three lots (£33,721 in all): a profile capped at £10,000 is
    told which lots fit; one asking for supported-employment reservations gets lot 3 only."""
    release = uk.uk4_lots()
    await subscribe(database, chat=ANN, keywords=["feasibility study"], max_value=10_000)
    await subscribe(
        database, chat=DAISY, keywords=["feasibility study"], reserved=["supported_employment"]
    )
    await subscribe(
        database,
        email="mutual@example.org",
        keywords=["feasibility study"],
        reserved=["public_service_mutual"],
    )
    notice = parsed(release)
    assert notice.published is not None
    config = life_config(fake, smtp, database, write_feed(tmp_path, "lots", release))
    await cycle(config, notice.published.astimezone(UTC) + timedelta(minutes=5))
    (capped,) = fake.messages(ANN)
    text = capped.text
    assert "💷 £33,721 in all" in text
    assert "🧩 Lot 2 — Stakeholder engagement, £8,000, suitable for SMEs" in text
    assert (
        "🧩 Lot 3 — Site surveys and grounds clearance, £5,721, "
        "reserved for supported employment providers"
    ) in text
    (reserved,) = fake.messages(DAISY)
    lots = [line for line in reserved.text.splitlines() if line.startswith("🧩")]
    assert lots == [
        "🧩 Lot 3 — Site surveys and grounds clearance, £5,721, "
        "reserved for supported employment providers"
    ]
    assert smtp.messages == []  # nothing in it is reserved for mutuals
    (row,) = await deliveries(database, channel="telegram", lots=["3"])
    assert row.lots == ["3"]
