"""The weekly market report to SEEM's advisers and admins, and ``/report`` on demand.

Like every other message it goes through the message outbox (:mod:`bot.delivery.messages`):
the report (figures, CSV, charts) and one outbox row per recipient and channel are written
in **one transaction before anything is sent**, under a key unique to the week's slot
(``weekly:2025-01-20:UKF``). So a crash after writing sends it on the next delivery pass; a
crash before writing makes it on the next hourly check; and two workers reaching the hour
together make it once — the second one's transaction fails on the key and rolls back.

Telegram gets the short summary and the charts as an album; email gets the full report in
HTML with the charts inline and the CSV attached.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.delivery.messages import chart_content_id
from bot.reports.charts import ChartFile, render_charts
from bot.reports.formats import Chart, report_csv, report_html, report_text, telegram_summary
from bot.reports.formats import title_of as report_title
from bot.reports.params import ReportParams
from bot.reports.source import report_from_database
from bot.services import Services
from storage.enquiries import list_advisers
from storage.messages import NewMessage, queue_message
from storage.reports import ReportFile, StoredReport, latest_report, report_exists, save_report

__all__ = ["WeeklyRun", "due_slot", "run_weekly", "send_latest"]

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
#: A slot missed while the service was down is still made this long after it.
CATCH_UP = timedelta(days=1)
PURPOSE = "report"


@dataclass(frozen=True, slots=True)
class WeeklyRun:
    """What one check did: ``made`` a report (``report_id``) and queued ``queued`` messages,
    or not (``reason``: switched off, not due, already made)."""

    key: str | None
    made: bool
    reason: str = ""
    report_id: int | None = None
    queued: int = 0


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: str  # "adviser" | "admin"
    channel: str  # "telegram" | "email"
    chat_id: int | None = None
    email: str | None = None
    adviser_id: int | None = None


def due_slot(now: datetime, tz: ZoneInfo, weekday: int, hour: int) -> datetime:
    """The latest scheduled moment at or before ``now``: ``weekday`` at ``hour`` in ``tz``."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = datetime.combine(day, time(hour), tzinfo=tz)
    if slot > local:
        slot -= WEEK
    return slot


async def _recipients(services: Services) -> list[Recipient]:
    """Advisers (each channel they have) and admins (Telegram), each chat once."""
    reports = services.config.reports
    found: list[Recipient] = []
    chats: set[int] = set()
    if reports.to_advisers:
        async with services.db.session() as session:
            advisers = await list_advisers(session)
        for adviser in advisers:
            if adviser.telegram_id is not None and adviser.telegram_id not in chats:
                chats.add(adviser.telegram_id)
                found.append(
                    Recipient(
                        "adviser", "telegram", chat_id=adviser.telegram_id, adviser_id=adviser.id
                    )
                )
            if adviser.email:
                found.append(
                    Recipient("adviser", "email", email=adviser.email, adviser_id=adviser.id)
                )
    if reports.to_admins:
        for admin in sorted(services.admin_ids):
            if admin not in chats:
                chats.add(admin)
                found.append(Recipient("admin", "telegram", chat_id=admin))
    return found


def _files(charts: list[ChartFile]) -> list[ReportFile]:
    return [ReportFile(c.name, c.title, "image/png", c.png) for c in charts]


def _message(
    services: Services,
    report: dict[str, Any],
    charts: list[ChartFile],
    report_id: int,
    to: Recipient,
    now: datetime,
) -> NewMessage:
    common: dict[str, Any] = {
        "purpose": PURPOSE,
        "recipient": to.kind,
        "due_at": now,
        "adviser_id": to.adviser_id,
        "report_id": report_id,
    }
    if to.channel == "telegram":
        return NewMessage(
            channel="telegram", chat_id=to.chat_id, body=telegram_summary(report), **common
        )
    inline = [Chart(c.name, c.title, f"cid:{chart_content_id(c.name)}") for c in charts]
    return NewMessage(
        channel="email",
        email_to=to.email,
        subject=report_title(report),
        body=report_text(report),
        body_html=report_html(report, inline),
        email_message_id=services.mailer.new_message_id("report"),
        **common,
    )


async def _store_and_queue(
    services: Services,
    *,
    key: str,
    params: ReportParams,
    report: dict[str, Any],
    charts: list[ChartFile],
    now: datetime,
    recipients: list[Recipient] | None = None,
) -> tuple[int, int]:
    """One transaction: the report, its files and every message that carries it."""
    targets = await _recipients(services) if recipients is None else recipients
    async with services.db.session() as session:
        report_id = await save_report(
            session,
            key=key,
            region=params.region,
            window_from=params.start,
            window_to=params.end,
            data=report,
            csv=report_csv(report),
            files=_files(charts),
            at=now,
        )
        for to in targets:
            queue_message(session, _message(services, report, charts, report_id, to, now))
    return report_id, len(targets)


def weekly_params(services: Services, slot: datetime) -> ReportParams:
    reports = services.config.reports
    return ReportParams(
        start=slot - WEEK,
        end=slot,
        region=reports.region,
        horizon=reports.horizon,
        closing_within=reports.closing_within,
    )


async def run_weekly(services: Services) -> WeeklyRun:
    """Make, store and send this week's report if it is due and not made yet (hourly)."""
    reports = services.config.reports
    if not reports.enabled:
        return WeeklyRun(None, False, "switched off ([reports] enabled = false)")
    now = services.clock()
    slot = due_slot(now, services.timezone, reports.weekly_day, reports.hour)
    key = f"weekly:{slot.date().isoformat()}:{reports.region}"
    if now - slot > CATCH_UP:
        return WeeklyRun(key, False, "not due")
    async with services.db.session() as session:
        if await report_exists(session, key):
            return WeeklyRun(key, False, "already made")
    params = weekly_params(services, slot)
    report = await report_from_database(services.db, params, generated_at=now)
    charts = await asyncio.to_thread(render_charts, report)
    try:
        report_id, queued = await _store_and_queue(
            services, key=key, params=params, report=report, charts=charts, now=now
        )
    except IntegrityError:
        log.info("weekly report %s: made by another worker", key)
        return WeeklyRun(key, False, "already made")
    log.info("weekly report %s: %d messages queued", key, queued)
    await services.send_messages()
    return WeeklyRun(key, True, report_id=report_id, queued=queued)


async def send_latest(services: Services, chat_id: int, kind: str) -> StoredReport:
    """``/report``: queue the latest report to this chat (making one for the last seven days
    when none exists yet) and send it."""
    now = services.clock()
    async with services.db.session() as session:
        stored = await latest_report(session)
    if stored is None:
        params = weekly_params(services, now)
        report = await report_from_database(services.db, params, generated_at=now)
        charts = await asyncio.to_thread(render_charts, report)
        key = f"adhoc:{now.isoformat()}:{params.region}"
        await _store_and_queue(
            services, key=key, params=params, report=report, charts=charts, now=now, recipients=[]
        )
        async with services.db.session() as session:
            stored = await latest_report(session)
        assert stored is not None
    async with services.db.session() as session:
        queue_message(
            session,
            NewMessage(
                channel="telegram",
                purpose=PURPOSE,
                recipient=kind,
                chat_id=chat_id,
                body=telegram_summary(stored.data),
                due_at=now,
                report_id=stored.id,
            ),
        )
    await services.send_messages()
    return stored
