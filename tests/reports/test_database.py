"""The report from the database: the bundled samples stored as polling stores them, plus
subscribers, alerts, 👍/👎, enquiries, feed cursors and messages written here.

The notice figures must equal the report made from the same files (one count per
procurement either way); the database's own figures (``unserved_demand``, ``feedback``,
``enquiries``, ``service``) are checked against counts of the rows this test wrote.
Runs on SQLite, and on PostgreSQL when ``BESTBOT_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.reports.build import build_report
from bot.reports.params import ReportParams
from bot.reports.procurements import procurements_from_notices
from bot.reports.source import report_from_database
from feeds.order import notice_key
from storage.db import Database
from storage.models import (
    DeliveryRow,
    EnquiryRow,
    FeedbackRow,
    FeedCursorRow,
    MessageRow,
    NoticeRow,
    SubscriberRow,
)
from storage.notices import store_notice
from tests.reports.kit import END, START, all_notices

NOTICE_KEYS = ("opportunities", "closing_soon", "early_signals", "contracts_ending", "awards")
IN_WINDOW = START + timedelta(days=30)
BEFORE = START - timedelta(days=3)


async def _store_samples(db: Database) -> dict[str, int]:
    """Store every release in release order (as successive polls would); ocid -> row id."""
    async with db.session() as session:
        for notice in sorted(all_notices(), key=notice_key):
            await store_notice(session, notice)
    async with db.session() as session:
        rows = (await session.exec(_select(NoticeRow))).all()
        return {row.ocid: row.id for row in rows if row.duplicate_of is None and row.id}


def _select(model: Any) -> Any:
    from sqlmodel import select

    return select(model)


async def _people_and_activity(
    db: Database, file_report: dict[str, Any], ids: dict[str, int]
) -> tuple[list[int], list[tuple[int, int, bool]]]:
    """Two subscribers; alerts for the window's first few opportunities; feedback, enquiries,
    cursors and messages, some inside the window and some outside it."""
    opportunities = [e["ocid"] for e in file_report["closing_soon"]]  # live ones, for alerts
    async with db.session() as session:
        ann = SubscriberRow(name="Ann", telegram_chat_id=1, telegram_active=True)
        bob = SubscriberRow(name="Bob", email="bob@example.org", email_active=True, paused=True)
        session.add_all([ann, bob])
        await session.flush()
        assert ann.id and bob.id
        alerted = [ids[o] for o in opportunities[:4]]
        for notice_id in alerted:
            session.add(
                DeliveryRow(
                    subscriber_id=ann.id,
                    notice_id=notice_id,
                    version=1,
                    channel="telegram",
                    status="sent",
                    sent_at=IN_WINDOW,
                    created_at=IN_WINDOW,
                )
            )
        session.add(
            DeliveryRow(
                subscriber_id=bob.id,
                notice_id=alerted[0],
                version=1,
                channel="email",
                status="failed",
                created_at=IN_WINDOW,
            )
        )
        marks = [
            (ann.id, alerted[0], True),
            (ann.id, alerted[1], False),
            (bob.id, alerted[0], True),
        ]
        for who, notice_id, relevant in marks:
            session.add(
                FeedbackRow(
                    subscriber_id=who, notice_id=notice_id, relevant=relevant, created_at=IN_WINDOW
                )
            )
        session.add(
            FeedbackRow(
                subscriber_id=bob.id, notice_id=alerted[2], relevant=False, created_at=BEFORE
            )
        )
        asked = [
            ("bid_writing", IN_WINDOW, IN_WINDOW + timedelta(hours=2)),
            ("bid_writing", IN_WINDOW, IN_WINDOW + timedelta(hours=5)),
            ("legal", IN_WINDOW, IN_WINDOW + timedelta(hours=30)),
            ("finance", IN_WINDOW, None),
            ("legal", BEFORE, BEFORE + timedelta(hours=1)),
        ]
        for topic, created, answered in asked:
            session.add(
                EnquiryRow(
                    channel="telegram",
                    text="q",
                    topic=topic,
                    created_at=created,
                    first_response_at=answered,
                )
            )
        session.add_all(
            [
                FeedCursorRow(
                    feed="contracts_finder", last_poll_at=IN_WINDOW, last_success_at=IN_WINDOW
                ),
                FeedCursorRow(
                    feed="find_a_tender",
                    last_poll_at=IN_WINDOW,
                    last_success_at=BEFORE,
                    last_error="HTTP 503",
                ),
            ]
        )
        for status, sent in (("sent", IN_WINDOW), ("sent", BEFORE), ("failed", None)):
            session.add(
                MessageRow(
                    recipient="adviser",
                    purpose="enquiry",
                    channel="telegram",
                    chat_id=5,
                    body="x",
                    status=status,
                    sent_at=sent,
                    created_at=sent or IN_WINDOW,
                )
            )
    return alerted, marks


async def test_the_database_report_agrees_with_the_files(database: Database) -> None:
    params = ReportParams(start=START, end=END, region="UK")
    generated = datetime(2025, 4, 1, 9, tzinfo=UTC)
    file_report = build_report(
        procurements_from_notices(all_notices()), params, generated_at=generated, source="files"
    )
    ids = await _store_samples(database)
    alerted, marks = await _people_and_activity(database, file_report, ids)
    report = await report_from_database(database, params, generated_at=generated)

    for key in NOTICE_KEYS:
        assert report[key] == file_report[key], key
    assert report["about"]["source"] == "database"

    # unserved demand: the window's opportunities with no delivery at all, by sector
    opportunities = _opportunity_sectors(file_report)
    alerted_ocids = {ocid for ocid, row_id in ids.items() if row_id in alerted}
    unmatched = Counter(s for ocid, s in opportunities.items() if ocid not in alerted_ocids)
    total = Counter(opportunities.values())
    got = {
        u["cpv_division"]: (u["unmatched"], u["opportunities"]) for u in report["unserved_demand"]
    }
    assert got == {key: (n, total[key]) for key, n in unmatched.items() if n}

    # feedback: the three marks inside the window, by the sector of the notice marked
    sector_of = {ids[e["ocid"]]: e["cpv_division"] for e in file_report["closing_soon"]}
    feedback = report["feedback"]
    assert (feedback["marked"], feedback["relevant"]) == (3, 2)
    assert feedback["share_relevant"] == round(2 / 3, 3)
    by_trade: Counter[str] = Counter(sector_of[n] for _, n, _ in marks)
    assert {t: v["marked"] for t, v in feedback["by_trade"].items()} == dict(by_trade)

    enquiries = report["enquiries"]
    assert enquiries["total"] == 4 and enquiries["answered"] == 3
    assert enquiries["by_topic"] == {"bid_writing": 2, "finance": 1, "legal": 1}
    assert enquiries["median_first_response_hours"] == statistics.median([2, 5, 30])

    service = report["service"]
    assert (service["alerts_sent"], service["alerts_failed"], service["alerts_pending"]) == (
        4,
        1,
        0,
    )
    assert (service["messages_sent"], service["messages_failed"]) == (1, 1)
    assert service["feeds"]["find_a_tender"]["last_error"] == "HTTP 503"
    assert service["feeds"]["find_a_tender"]["last_success_at"] == BEFORE.isoformat()
    assert service["feeds"]["contracts_finder"]["last_success_at"] == IN_WINDOW.isoformat()


def _opportunity_sectors(report: dict[str, Any]) -> dict[str, str]:
    """ocid -> sector of every opportunity the files' report counted (rebuilt from notices)."""
    from tests.reports.test_figures import opportunities_expected, sector

    return {n.ocid: sector(n) for n in opportunities_expected(all_notices(), "UK")}


async def test_a_region_report_from_the_database(database: Database) -> None:
    """East Midlands only, and a window in 2028 where the extended contract is still ahead."""
    await _store_samples(database)
    for params in (
        ReportParams(start=START, end=END, region="UKF"),
        ReportParams(
            start=datetime(2028, 1, 1, tzinfo=UTC),
            end=datetime(2028, 3, 1, tzinfo=UTC),
            region="UKF",
        ),
    ):
        generated = params.end
        expected = build_report(
            procurements_from_notices(all_notices()), params, generated_at=generated, source="files"
        )
        report = await report_from_database(database, params, generated_at=generated)
        for key in NOTICE_KEYS:
            assert report[key] == expected[key], key
    assert any(e["changed"] for e in report["contracts_ending"])
