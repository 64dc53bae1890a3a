""" "Coming up for re-tender" in enterprises' weekly digests: contracts in their trade and
region ending in 6-12 months, labelled a forecast, with the supplier and end date; once.

The contract is the real UK6 award to SWITCH UP C.I.C. (mentoring in education, in
Nottinghamshire), signed (UK7, to end 31 March 2028) and extended a year (UK10).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.config import config_from_dict
from bot.reports.procurements import procurements_from_notices
from bot.reports.retender import as_tender, candidates, forecast_profile
from feeds.order import notice_key
from matchers.engine import match
from matchers.profile import parse_profile
from storage.db import Database
from storage.models import ForecastShownRow, NoticeRow
from storage.notices import store_notice
from storage.outbox import NewDelivery, enqueue
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import register_fake, running_bot
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram
from tests.reports.kit import CHANGED_OCID, all_notices

#: Ten months before the extended end (31 March 2029); the signed end is already past.
JUNE_2028 = datetime(2028, 6, 1, 8, 0, tzinfo=UTC)
CHAT = 8200

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def test_candidates_are_contracts_ending_in_six_to_twelve_months() -> None:
    found = candidates(procurements_from_notices(all_notices()), JUNE_2028)
    [switch_up] = [c for c in found if c.procurement.notice.ocid == CHANGED_OCID]
    assert switch_up.end.isoformat() == "2029-03-31T23:59:59+01:00"  # after the change
    assert switch_up.value == 320000
    assert all(
        JUNE_2028 + timedelta(days=183) <= c.end <= JUNE_2028 + timedelta(days=365) for c in found
    )
    # before the change was known the contract ended in March 2028: no forecast in June
    signed_only = [n for n in all_notices() if n.kind != "change"]
    assert CHANGED_OCID not in {
        c.procurement.notice.ocid
        for c in candidates(procurements_from_notices(signed_only), JUNE_2028)
    }


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"keywords": ["mentoring"], "regions": ["UKF"]}, True),
        ({"keywords": ["mentoring"], "regions": ["Nottinghamshire"]}, True),
        ({"keywords": ["mentoring"], "regions": ["UKF"], "vcse_only": True}, True),
        ({"keywords": ["mentoring"], "regions": ["Wales"]}, False),
        ({"keywords": ["catering", "school meals"], "regions": ["UKF"]}, False),
        ({"keywords": ["mentoring"], "exclude": ["education"], "regions": ["UKF"]}, False),
        ({"keywords": ["mentoring"], "max_value": 50000}, False),  # it is worth £320,000
        ({"keywords": ["mentoring"], "min_value": 300000}, True),
    ],
)
def test_in_their_trade_and_region(profile: dict[str, Any], expected: bool) -> None:
    """The award is matched as the tender it forecasts: trade (keywords, exclusions, value)
    and region count; suitability does not (the next tender's is not known)."""
    [switch_up] = [
        c
        for c in candidates(procurements_from_notices(all_notices()), JUNE_2028)
        if c.procurement.notice.ocid == CHANGED_OCID
    ]
    wanted = forecast_profile(parse_profile({"id": "1", **profile}))
    hits = match([as_tender(switch_up)], [wanted])
    assert bool(hits) is expected


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        server.add_user(CHAT, "Mentors")
        register_fake(server)
        yield server


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_weekly_digest_ends_with_the_forecast_once(
    fake: FakeTelegram, database: Database, smtp_server: SmtpSink
) -> None:
    async with database.session() as session:
        for notice in sorted(all_notices(), key=notice_key):
            await store_notice(session, notice)
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name="Nottingham Mentors CIC",
                email="hello@mentors.example.org",
                telegram_chat_id=CHAT,
                frequency="weekly",
                profile={"keywords": ["mentoring", "youth work"], "regions": ["UKF"]},
            ),
        )
        tenders = (
            await session.exec(select(NoticeRow).where(NoticeRow.stage == "tender").limit(4))
        ).all()
    config = config_from_dict(
        {
            "database": {"url": database.url},
            "web": {"secret_key": "retender-test-key"},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "email": {
                "from_address": "SEEM alerts <alerts@seem.example.org>",
                "smtp_host": smtp_server.hostname,
                "smtp_port": smtp_server.port,
                "starttls": False,
            },
            "alerts": {"quiet_hours": "off", "group_within": "0s"},
            "feeds": [],
        },
        env={},
    )
    clock = Clock(JUNE_2028)

    async def digest(rows: list[Any]) -> None:
        async with database.session() as session:
            await enqueue(
                session,
                [
                    NewDelivery(
                        subscriber_id=sub_id,
                        notice_id=row.id,
                        version=1,
                        channel=channel,
                        due_at=clock.now - timedelta(minutes=1),
                        reasons=("keyword “mentoring” in the title",),
                        keywords=("mentoring",),
                    )
                    for row in rows
                    for channel in ("telegram", "email")
                ],
            )

    async with running_bot(config, clock=clock) as running:
        await digest(tenders[:2])
        await running.services.send_alerts()
        [message] = fake.messages(CHAT)
        assert message.text.startswith("📬 Your weekly digest")
        assert "🔮 Coming up for re-tender (a forecast)" in message.text
        assert "not an open opportunity" in message.text
        assert "Mentoring in Education" in message.text
        assert "held by SWITCH UP C.I.C. until 31 Mar 2029 · £320,000" in message.text
        [mail] = await smtp_server.wait_for_messages(1)
        assert mail.html is not None and mail.text is not None
        assert "Coming up for re-tender (a forecast)" in mail.html
        assert "held by SWITCH UP C.I.C. until 31 Mar 2029" in mail.html
        assert "held by SWITCH UP C.I.C. until 31 Mar 2029" in mail.text
        async with database.session() as session:
            shown = (await session.exec(select(ForecastShownRow))).all()
        assert {(r.subscriber_id, r.award_id, r.channel) for r in shown} == {
            (sub_id, "1", "telegram"),
            (sub_id, "1", "email"),
        }

        # next week: a new digest, the same contract is not announced again
        clock.now = JUNE_2028 + timedelta(days=7)
        await digest(tenders[2:4])
        await running.services.send_alerts()
        latest = fake.messages(CHAT)[-1]
        assert latest.message_id != message.message_id
        assert "Coming up for re-tender" not in latest.text
        mails = await smtp_server.wait_for_messages(2)
        assert mails[1].html is not None and "Coming up for re-tender" not in mails[1].html
