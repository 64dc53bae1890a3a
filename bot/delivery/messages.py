"""The message outbox: enquiry messages, nudges, codes and reports, one row one message.

Rows are written by the feature that decides to send (in the same transaction as the change
they report) with their final text; this outbox only turns a claimed row into a message for
its channel and records the outcome, under the courier's rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.courier import Parcel
from bot.delivery.errors import RetryLater
from bot.delivery.mail import Mailer
from bot.render.model import Attachment, Button, Photo, RenderedEmail, TelegramMessage
from storage.db import Database
from storage.messages import (
    CANCELLED,
    FAILED,
    claim_messages,
    keep_messages,
    mark_message_final,
    mark_message_retry,
    mark_message_sent,
)
from storage.models import MessageRow
from storage.reports import ReportFile, StoredReport, reports_with_files
from storage.subscribers import deactivate_channel

log = logging.getLogger(__name__)

__all__ = [
    "EDIT_OF",
    "EDIT_TEXT_OF",
    "MessageOutbox",
    "MessageParcel",
    "buttons_from_json",
    "chart_content_id",
    "report_attachments",
    "report_photos",
]

EDIT_OF = "edit_of"
"""Header of a Telegram row that changes an earlier message's buttons (its message id)
instead of sending a new message (:attr:`TelegramMessage.edit_of`)."""
EDIT_TEXT_OF = "edit_text_of"
"""Header of a Telegram row that replaces an earlier message's text and buttons (its message
id): an alert edited in place when its procurement moves on (:mod:`bot.delivery.edits`)."""


@dataclass
class MessageParcel(Parcel):
    subscriber_id: int | None = None
    purpose: str = ""


class MessageOutbox:
    """The :class:`~bot.delivery.courier.Outbox` of every message that is not an alert."""

    name = "messages"

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str,
        clock: Callable[[], datetime],
        mailer: Mailer | None,
        max_attempts: int = 8,
    ) -> None:
        self.db = db
        self.worker_id = worker_id
        self.clock = clock
        self.mailer = mailer
        self.max_attempts = max_attempts

    async def claim(self, channel: str, limit: int, lease: timedelta) -> list[MessageParcel]:
        async with self.db.claim_session() as session:
            rows = await claim_messages(
                session, self.worker_id, now=self.clock(), lease=lease, channel=channel, limit=limit
            )
        reports = await self._reports(rows)
        return [self._parcel(row, reports.get(row.report_id or 0)) for row in rows]

    async def _reports(self, rows: Sequence[MessageRow]) -> dict[int, ReportParts]:
        """The stored reports the claimed messages carry, read once per report (outside
        the claim's short transaction)."""
        ids = [row.report_id for row in rows if row.report_id is not None]
        if not ids:
            return {}
        async with self.db.session() as session:
            return await reports_with_files(session, ids)

    def _parcel(self, row: MessageRow, report: ReportParts | None = None) -> MessageParcel:
        assert row.id is not None
        parcel = MessageParcel(
            row_ids=(row.id,),
            channel=row.channel,
            attempts=row.attempts,
            subscriber_id=row.subscriber_id,
            purpose=row.purpose,
        )
        if row.channel == "telegram":
            parcel.chat_id = row.chat_id
            headers = row.headers or {}
            edit_of, edit_text_of = headers.get(EDIT_OF), headers.get(EDIT_TEXT_OF)
            if isinstance(edit_text_of, int):
                edit_of = edit_text_of
            parcel.telegram = TelegramMessage(
                row.body,
                buttons_from_json(row.buttons),
                edit_of=int(edit_of) if isinstance(edit_of, int) else None,
                photos=report_photos(report),
                edit_text=isinstance(edit_text_of, int),
            )
            return parcel
        assert self.mailer is not None
        parcel.address = row.email_to
        rendered = RenderedEmail(
            row.subject or self.mailer.settings.brand.name, row.body, row.body_html or ""
        )
        parcel.email = self.mailer.personal(
            rendered,
            to=row.email_to or "",
            message_id=row.email_message_id,
            in_reply_to=row.in_reply_to,
            reply_to=(row.headers or {}).get("reply_to"),
            list_headers=(row.headers or {}).get("list"),
            now=self.clock(),
            attachments=report_attachments(report),
        )
        return parcel

    async def keep(self, parcel: MessageParcel, until: datetime) -> bool:
        async with self.db.write_session() as session:
            kept = await keep_messages(session, parcel.row_ids, self.worker_id, until)
        return set(parcel.row_ids) <= kept

    async def sent(self, parcel: MessageParcel, ref: str) -> None:
        async with self.db.write_session() as session:
            await mark_message_sent(
                session, parcel.row_ids[0], self.worker_id, ref=ref, at=self.clock()
            )

    async def retry(
        self, parcel: MessageParcel, error: RetryLater, at: datetime, count: bool
    ) -> bool:
        async with self.db.write_session() as session:
            return await mark_message_retry(
                session,
                parcel.row_ids[0],
                self.worker_id,
                str(error),
                retry_at=at,
                max_attempts=self.max_attempts,
                count_attempt=count,
            )

    async def failed(self, parcel: MessageParcel, reason: str, *, cancelled: bool = False) -> None:
        async with self.db.write_session() as session:
            await mark_message_final(
                session, parcel.row_ids[0], CANCELLED if cancelled else FAILED, reason
            )

    async def gone(self, parcel: MessageParcel, reason: str) -> None:
        async with self.db.write_session() as session:
            await mark_message_final(session, parcel.row_ids[0], FAILED, reason)
            if parcel.subscriber_id is not None:
                await deactivate_channel(session, parcel.subscriber_id, parcel.channel)


ReportParts = tuple[StoredReport, list[ReportFile]]


def report_photos(report: ReportParts | None) -> tuple[Photo, ...]:
    """A report's charts as Telegram photos (none for other messages)."""
    if report is None:
        return ()
    return tuple(
        Photo(f"{f.name}.png", f.data, caption=f.title[:1000])
        for f in report[1]
        if f.content_type == "image/png"
    )


def chart_content_id(name: str) -> str:
    """The ``cid:`` a report email's HTML uses for a chart (the queued HTML names it)."""
    return f"{name}@report.bestbot"


def report_attachments(report: ReportParts | None) -> tuple[Attachment, ...]:
    """A report's charts inline (by :func:`chart_content_id`) and its CSV attached."""
    if report is None:
        return ()
    stored, files = report
    inline = tuple(
        Attachment(f"{f.name}.png", f.content_type, f.data, content_id=chart_content_id(f.name))
        for f in files
    )
    name = f"market-report-{stored.window_to:%Y-%m-%d}-{stored.region}.csv"
    return (*inline, Attachment(name, "text/csv", stored.csv.encode("utf-8")))


def buttons_from_json(data: Sequence[Any]) -> tuple[tuple[Button, ...], ...]:
    """Stored button rows (``[{"text", "callback_data" | "url"}]``) as message buttons."""
    rows = []
    for row in data or ():
        if not isinstance(row, list | tuple):
            continue
        rows.append(
            tuple(
                Button(str(b["text"]), b.get("callback_data"), b.get("url"))
                for b in row
                if isinstance(b, dict) and "text" in b
            )
        )
    return tuple(r for r in rows if r)
