"""The alert dispatcher: claim due outbox rows, render, send, record the outcome.

One pass (:meth:`Dispatcher.run_once`) claims a batch, groups it per subscriber
and channel (several alerts at once become one message, digests become one
digest), sends each group, and marks its rows in a transaction of their own
straight after the channel accepted it. The claim is committed before sending,
so a crash resends at most the groups that were in flight.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot import render
from bot.render import AlertView, TelegramMessage
from bot.telegram_channel import PermanentError, RecipientGone, SendError, TemporaryError
from bot.tokens import sign
from storage.db import Database
from storage.models import DeliveryRow, NoticeRow, SubscriberRow
from storage.outbox import (
    CANCELLED,
    FAILED,
    cancel_pending_for,
    claim_due,
    defer,
    last_sent_at,
    mark_final,
    mark_retry,
    mark_sent,
)
from storage.types import utcnow

log = logging.getLogger(__name__)


class TelegramPort(Protocol):
    async def send(self, chat_id: int, message: TelegramMessage) -> int: ...


class EmailPort(Protocol):
    async def send(self, message: Any) -> str: ...


EmailFactory = Callable[[], AbstractAsyncContextManager[EmailPort]]
EmailBuilder = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    """What the dispatcher needs from the config, as plain values."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    max_attempts: int = 8
    batch_size: int = 500
    concurrency: int = 8
    lease: timedelta = timedelta(minutes=2)
    #: Alerts within this long of the previous message wait and go out as one message.
    group_within: timedelta = timedelta(minutes=1)
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8080"
    from_address: str = "alerts@bestbot.invalid"
    from_email: str = "alerts@bestbot.invalid"


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    messages: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0

    def add(self, other: DispatchReport) -> None:
        for name in ("claimed", "sent", "messages", "retried", "failed", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Group:
    subscriber: SubscriberRow
    channel: str
    rows: list[DeliveryRow]
    views: list[AlertView]


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min… capped at an hour, with jitter so retries don't stampede."""
    base = min(30 * 2 ** max(attempts, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


class Dispatcher:
    """Sends what the outbox says is due. Safe to run on several workers at once."""

    def __init__(
        self,
        db: Database,
        settings: DispatchSettings,
        *,
        worker_id: str,
        telegram: TelegramPort | None = None,
        email: EmailFactory | None = None,
        build_email: EmailBuilder | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.worker_id = worker_id
        self.telegram = telegram
        self.email = email
        self.build_email = build_email
        self.clock = clock

    async def run_until_idle(self, max_passes: int = 1000) -> DispatchReport:
        """Dispatch until nothing is due now (the ``poll`` command and tests use this)."""
        total = DispatchReport()
        for _ in range(max_passes):
            report = await self.run_once()
            total.add(report)
            if report.claimed == 0:
                break
        return total

    async def run_once(self) -> DispatchReport:
        """Claim one batch of due rows and send it."""
        channels = [c for c, on in (("telegram", self.telegram), ("email", self.email)) if on]
        report = DispatchReport()
        for channel in channels:
            async with self.db.session() as session:
                rows = await claim_due(
                    session,
                    self.worker_id,
                    now=self.clock(),
                    limit=self.settings.batch_size,
                    lease=self.settings.lease,
                    channel=channel,
                )
            if not rows:
                continue
            report.claimed += len(rows)
            groups = await self._groups(rows)
            if channel == "telegram":
                await self._send_telegram(groups, report)
            else:
                await self._send_email(groups, report)
        return report

    async def _groups(self, rows: Sequence[DeliveryRow]) -> list[_Group]:
        by_key: dict[tuple[int, str], list[DeliveryRow]] = defaultdict(list)
        for row in rows:
            by_key[(row.subscriber_id, row.channel)].append(row)
        async with self.db.session() as session:
            subs = await _by_id(session, SubscriberRow, {r.subscriber_id for r in rows})
            notices = await _by_id(session, NoticeRow, {r.notice_id for r in rows})
        groups = []
        for (sub_id, channel), members in by_key.items():
            subscriber = subs.get(sub_id)
            if subscriber is None:
                continue
            views = [_view(r, notices[r.notice_id]) for r in members if r.notice_id in notices]
            groups.append(_Group(subscriber, channel, members, views))
        return groups

    async def _send_telegram(self, groups: list[_Group], report: DispatchReport) -> None:
        assert self.telegram is not None
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def one(group: _Group) -> None:
            async with limit:
                await self._deliver_telegram(group, report)

        await asyncio.gather(*(one(g) for g in groups))

    async def _deliver_telegram(self, group: _Group, report: DispatchReport) -> None:
        assert self.telegram is not None
        sub = group.subscriber
        if not sub.telegram_active or sub.telegram_chat_id is None or sub.paused:
            await self._finish(group, CANCELLED, "telegram channel not active", report)
            return
        if await self._hold_for_grouping(group):
            return
        message = self._render_telegram(group)
        try:
            message_id = await self.telegram.send(sub.telegram_chat_id, message)
        except RecipientGone as exc:
            await self._deactivate_telegram(sub, str(exc))
            report.cancelled += len(group.rows)
            return
        except SendError as exc:
            await self._handle_failure(group, exc, report)
            return
        await self._mark_sent(group, str(message_id), report)

    async def _hold_for_grouping(self, group: _Group) -> bool:
        """Defer new alerts that follow a message by less than ``group_within``.

        A burst (two feeds polled a minute apart, say) then arrives as one grouped
        message instead of a string of pings. Updates and reminders are not held.
        """
        window = self.settings.group_within
        if window <= timedelta(0) or any(r.kind != "alert" for r in group.rows):
            return False
        assert group.subscriber.id is not None
        async with self.db.session() as session:
            last = await last_sent_at(session, group.subscriber.id, group.channel)
            if last is None or self.clock() - last >= window:
                return False
            ids = [r.id for r in group.rows if r.id is not None]
            await defer(session, ids, self.worker_id, last + window)
        return True

    def _render_telegram(self, group: _Group) -> TelegramMessage:
        now, tz = self.clock(), self.settings.timezone
        if group.subscriber.frequency in {"daily", "weekly"} and len(group.views) > 1:
            return render.telegram_digest(group.views, now, tz, group.subscriber.frequency)
        if len(group.views) == 1:
            return render.telegram_alert(group.views[0], now, tz)
        return render.telegram_group(group.views, now, tz)

    async def _send_email(self, groups: list[_Group], report: DispatchReport) -> None:
        assert self.email is not None and self.build_email is not None
        try:
            async with self.email() as sender:
                for group in groups:
                    await self._deliver_email(sender, group, report)
        except SendError as exc:
            # The connection itself failed: everything still claimed goes back.
            unsent = [g for g in groups if all(r.status == "pending" for r in g.rows)]
            for group in unsent:
                await self._handle_failure(group, exc, report)

    async def _deliver_email(
        self, sender: EmailPort, group: _Group, report: DispatchReport
    ) -> None:
        sub = group.subscriber
        if not sub.email_active or not sub.email or sub.paused:
            await self._finish(group, CANCELLED, "email channel not active", report)
            return
        assert self.build_email is not None and sub.id is not None
        message = self.build_email(
            subscriber=sub,
            views=group.views,
            now=self.clock(),
            tz=self.settings.timezone,
            unsubscribe_url=self.unsubscribe_url(sub.id),
            from_address=self.settings.from_address,
            from_email=self.settings.from_email,
        )
        try:
            message_ref = await sender.send(message)
        except (TemporaryError, PermanentError) as exc:
            await self._handle_failure(group, exc, report)
            return
        for row in group.rows:
            row.status = "sent"
        await self._mark_sent(group, message_ref, report)

    def unsubscribe_url(self, subscriber_id: int) -> str:
        token = sign(self.settings.secret_key, "unsub", subscriber_id)
        return f"{self.settings.public_url.rstrip('/')}/unsubscribe/{token}"

    async def _mark_sent(self, group: _Group, ref: str, report: DispatchReport) -> None:
        ids = [r.id for r in group.rows if r.id is not None]
        async with self.db.session() as session:
            await mark_sent(session, ids, self.worker_id, message_ref=ref, sent_at=self.clock())
        report.sent += len(ids)
        report.messages += 1

    async def _handle_failure(self, group: _Group, exc: SendError, report: DispatchReport) -> None:
        ids = [r.id for r in group.rows if r.id is not None]
        if isinstance(exc, PermanentError):
            await self._finish(group, FAILED, str(exc), report)
            return
        retry_after = exc.retry_after if isinstance(exc, TemporaryError) else None
        flood = retry_after is not None
        wait = (
            timedelta(seconds=retry_after)
            if retry_after is not None
            else backoff(group.rows[0].attempts)
        )
        log.warning("delivery retry in %ss: %s", int(wait.total_seconds()), exc)
        async with self.db.session() as session:
            await mark_retry(
                session,
                ids,
                self.worker_id,
                str(exc),
                retry_at=self.clock() + wait,
                max_attempts=self.settings.max_attempts,
                count_attempt=not flood,  # a 429 is Telegram pacing us, not a failure
            )
        report.retried += len(ids)

    async def _finish(
        self, group: _Group, status: str, reason: str, report: DispatchReport
    ) -> None:
        ids = [r.id for r in group.rows if r.id is not None]
        async with self.db.session() as session:
            await mark_final(session, ids, status, reason)
        if status == FAILED:
            report.failed += len(ids)
        else:
            report.cancelled += len(ids)

    async def _deactivate_telegram(self, sub: SubscriberRow, reason: str) -> None:
        log.info("subscriber %s: telegram deactivated (%s)", sub.id, reason)
        async with self.db.session() as session:
            row = await session.get(SubscriberRow, sub.id)
            if row is not None:
                row.telegram_active = False
                session.add(row)
            assert sub.id is not None
            await cancel_pending_for(session, sub.id, "telegram")


async def _by_id(session: Any, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = await session.exec(select(model).where(col(model.id).in_(list(ids))))
    return {row.id: row for row in rows}


def _view(row: DeliveryRow, notice: NoticeRow) -> AlertView:
    """What the renderer needs, from the outbox row and the stored notice."""
    data = notice.data
    value = data.get("value") or {}
    changes = {k: (v[0], v[1]) for k, v in (row.changes or {}).items()}
    deadline = data.get("deadline")
    return AlertView(
        delivery_id=row.id or 0,
        notice_id=notice.id or 0,
        kind=row.kind,
        title=str(data.get("title") or "Untitled notice"),
        url=data.get("url"),
        buyer=data.get("buyer"),
        value_amount=value.get("amount"),
        value_min=value.get("min"),
        currency=value.get("currency"),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        regions=tuple(data.get("regions") or ()),
        suitable_sme=data.get("suitable_sme"),
        suitable_vcse=data.get("suitable_vcse"),
        reasons=tuple(row.reasons or ()),
        keywords=tuple(row.keywords or ()),
        changes=changes,
        days_before=int(row.variant[:-1]) if row.kind == "reminder" and row.variant else None,
    )
