"""The alert outbox: due ``delivery`` rows → one message per subscriber and channel.

Claimed rows are grouped per subscriber and channel: several alerts at once become one
grouped message, a subscriber's digest rows become one digest. New alerts that follow the
subscriber's previous message by less than ``group_within`` wait and go out together (two
feeds polled a minute apart make one message, not a string of pings). A message shows what
fits; what does not is put back, due at once, and goes in the next message — a row is
marked sent only when its notice was shown.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.delivery.courier import Parcel
from bot.delivery.errors import RetryLater
from bot.delivery.mail import Mailer
from bot.kinds import digest_period as kinds_digest_period
from bot.render.model import AlertView, ForecastView, LotLine, TelegramMessage
from bot.render.phrases import CLOSING_SOON
from bot.render.telegram import telegram_alert, telegram_digest, telegram_group
from feeds.notice import Lot, Notice, first_deadline
from matchers.lots import tender_reserved
from storage.db import Database
from storage.models import DeliveryRow
from storage.notices import load_notices
from storage.outbox import (
    CANCELLED,
    FAILED,
    claim_due,
    defer,
    keep_deliveries,
    last_sent_at,
    mark_final,
    mark_retry,
    mark_sent,
)
from storage.reports import mark_forecasts_shown
from storage.subscribers import Recipient, deactivate_channel, recipients

log = logging.getLogger(__name__)

__all__ = [
    "AlertOutbox",
    "AlertParcel",
    "AlertSettings",
    "ForecastSource",
    "alert_view",
    "digest_period",
    "telegram_message",
]


@dataclass(frozen=True)
class AlertSettings:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    max_attempts: int = 8
    #: Alerts within this long of the previous message wait and go out as one message.
    group_within: timedelta = timedelta(minutes=1)
    closing_soon: timedelta = CLOSING_SOON


@dataclass
class AlertParcel(Parcel):
    recipient: Recipient | None = None
    #: Re-tender forecasts the message shows: recorded as shown once it is sent.
    forecast_keys: tuple[tuple[int, str], ...] = ()


class ForecastSource(Protocol):
    """Where a weekly digest's "coming up for re-tender" section comes from
    (:class:`bot.reports.retender.RetenderForecasts`)."""

    async def for_subscriber(self, subscriber_id: int, channel: str) -> list[ForecastView]: ...


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class AlertOutbox:
    """The :class:`~bot.delivery.courier.Outbox` of alerts, updates and reminders."""

    name = "alerts"

    def __init__(
        self,
        db: Database,
        settings: AlertSettings,
        *,
        worker_id: str,
        clock: Callable[[], datetime],
        mailer: Mailer | None,
        forecasts: ForecastSource | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.worker_id = worker_id
        self.clock = clock
        self.mailer = mailer
        self.forecasts = forecasts

    async def claim(self, channel: str, limit: int, lease: timedelta) -> list[AlertParcel]:
        async with self.db.claim_session() as session:
            rows = await claim_due(
                session, self.worker_id, now=self.clock(), limit=limit, lease=lease, channel=channel
            )
        if not rows:
            return []
        by_subscriber: dict[int, list[DeliveryRow]] = defaultdict(list)
        for row in rows:
            by_subscriber[row.subscriber_id].append(row)
        async with self.db.session() as session:
            people = await recipients(session, list(by_subscriber))
            notices = await load_notices(session, list({r.notice_id for r in rows}))
        parcels = []
        for sub_id, members in by_subscriber.items():
            parcel = await self._parcel(people.get(sub_id), channel, members, notices)
            if parcel is not None:
                parcels.append(parcel)
        return parcels

    async def _parcel(
        self,
        recipient: Recipient | None,
        channel: str,
        rows: list[DeliveryRow],
        notices: dict[int, Notice],
    ) -> AlertParcel | None:
        ids = [r.id for r in rows if r.id is not None]
        if recipient is None or not recipient.reachable(channel):
            async with self.db.write_session() as session:
                await mark_final(session, ids, CANCELLED, f"{channel} channel not active")
            return None
        if await self._hold_for_grouping(recipient, channel, rows, ids):
            return None
        views = [alert_view(r, notices[r.notice_id]) for r in rows if r.notice_id in notices]
        orphans = [r.id for r in rows if r.notice_id not in notices and r.id is not None]
        if orphans:
            async with self.db.write_session() as session:
                await mark_final(session, orphans, CANCELLED, "notice no longer stored")
        if not views:
            return None
        now = self.clock()
        attempts = max(r.attempts for r in rows)
        forecasts = await self._forecasts(recipient, channel, rows)
        keys = tuple(f.key for f in forecasts)
        if channel == "telegram":
            message = self._telegram(recipient, views, now, forecasts)
            shown = set(message.shown) or {v.delivery_id for v in views}
            return AlertParcel(
                row_ids=tuple(v.delivery_id for v in views if v.delivery_id in shown),
                leftover=tuple(v.delivery_id for v in views if v.delivery_id not in shown),
                channel=channel,
                attempts=attempts,
                chat_id=recipient.telegram_chat_id,
                telegram=message,
                recipient=recipient,
                forecast_keys=keys,
            )
        assert self.mailer is not None
        mail, _rendered = self.mailer.alerts(recipient, views, now, forecasts)
        return AlertParcel(
            row_ids=tuple(v.delivery_id for v in views),
            channel=channel,
            attempts=attempts,
            address=recipient.email,
            email=mail,
            recipient=recipient,
            forecast_keys=keys,
        )

    async def _forecasts(
        self, recipient: Recipient, channel: str, rows: Sequence[DeliveryRow]
    ) -> list[ForecastView]:
        """A weekly digest (a message with new alerts) gets its re-tender forecasts; a
        failure to work them out never holds the digest back."""
        if (
            self.forecasts is None
            or recipient.frequency != "weekly"
            or not any(r.kind == "alert" for r in rows)
        ):
            return []
        try:
            return await self.forecasts.for_subscriber(recipient.id, channel)
        except Exception as exc:
            log.warning("re-tender forecasts skipped: %s: %s", type(exc).__name__, exc)
            return []

    def _telegram(
        self,
        recipient: Recipient,
        views: Sequence[AlertView],
        now: datetime,
        forecasts: Sequence[ForecastView] = (),
    ) -> TelegramMessage:
        return telegram_message(recipient, views, now, self.settings, forecasts)

    async def _hold_for_grouping(
        self, recipient: Recipient, channel: str, rows: Sequence[DeliveryRow], ids: list[int]
    ) -> bool:
        """Defer new alerts that follow a message by less than ``group_within``.

        Updates and reminders are not held: they are about something already sent. Nor are
        alerts queued before that message went out: they are what did not fit in it, which
        it promised "in my next message" — they go now, not a grouping window later."""
        window = self.settings.group_within
        if window <= timedelta(0) or any(r.kind != "alert" for r in rows):
            return False
        async with self.db.write_session() as session:
            last = await last_sent_at(session, recipient.id, channel)
            if last is None or self.clock() - last >= window:
                return False
            if any(_aware(r.created_at) <= _aware(last) for r in rows):
                return False
            await defer(session, ids, self.worker_id, last + window)
        return True

    # ------------------------------------------------------------------ outcomes

    async def keep(self, parcel: AlertParcel, until: datetime) -> bool:
        ids = [*parcel.row_ids, *parcel.leftover]
        async with self.db.write_session() as session:
            kept = await keep_deliveries(session, ids, self.worker_id, until)
        return set(parcel.row_ids) <= kept

    async def sent(self, parcel: AlertParcel, ref: str) -> None:
        async with self.db.write_session() as session:
            await mark_sent(
                session, parcel.row_ids, self.worker_id, message_ref=ref, sent_at=self.clock()
            )
            if parcel.forecast_keys and parcel.recipient is not None:
                await mark_forecasts_shown(
                    session, parcel.recipient.id, parcel.channel, parcel.forecast_keys, self.clock()
                )
            if parcel.leftover:
                # What did not fit goes in the next message, at once (not held for grouping:
                # its claim is released with the due time now).
                await defer(session, parcel.leftover, self.worker_id, self.clock())

    async def retry(
        self, parcel: AlertParcel, error: RetryLater, at: datetime, count: bool
    ) -> bool:
        async with self.db.write_session() as session:
            return await mark_retry(
                session,
                [*parcel.row_ids, *parcel.leftover],
                self.worker_id,
                str(error),
                retry_at=at,
                max_attempts=self.settings.max_attempts,
                count_attempt=count,
            )

    async def failed(self, parcel: AlertParcel, reason: str, *, cancelled: bool = False) -> None:
        async with self.db.write_session() as session:
            await mark_final(
                session,
                [*parcel.row_ids, *parcel.leftover],
                CANCELLED if cancelled else FAILED,
                reason,
            )

    async def gone(self, parcel: AlertParcel, reason: str) -> None:
        assert parcel.recipient is not None
        async with self.db.write_session() as session:
            await mark_final(session, [*parcel.row_ids, *parcel.leftover], FAILED, reason)
            await deactivate_channel(session, parcel.recipient.id, parcel.channel)
        log.info("subscriber %s: %s deactivated (%s)", parcel.recipient.id, parcel.channel, reason)


def digest_period(recipient: Recipient, views: Sequence[AlertView]) -> str | None:
    """The digest these views make for this subscriber, or None for an alert or a group:
    a daily or weekly subscriber's, or an instant subscriber's early sight (pipeline and
    planned notices go only in a digest, at the subscriber's digest hour)."""
    return kinds_digest_period(
        recipient.frequency, [v.notice_kind for v in views if v.kind == "alert"]
    )


def telegram_message(
    recipient: Recipient,
    views: Sequence[AlertView],
    now: datetime,
    settings: AlertSettings,
    forecasts: Sequence[ForecastView] = (),
) -> TelegramMessage:
    """One message for these deliveries: an alert, a group, or a digest. The in-place edit
    of a sent message renders its deliveries again through here, so it keeps its shape.
    "Worth a look" matches only ever come in a digest (an instant subscriber's weekly one),
    and so do re-tender ``forecasts``."""
    tz = settings.timezone
    if any(v.kind == "maybe" for v in views):
        weekly = recipient.frequency if recipient.frequency != "instant" else "weekly"
        return telegram_digest(views, now, tz, weekly, settings.closing_soon, forecasts)
    if len(views) == 1 and not forecasts:
        return telegram_alert(views[0], now, tz)
    period = digest_period(recipient, views)
    if period is not None or forecasts:
        shown = period or recipient.frequency
        return telegram_digest(views, now, tz, shown, settings.closing_soon, forecasts)
    return telegram_group(views, now, tz)


def lot_line(lot: Lot) -> LotLine:
    value = lot.value
    return LotLine(
        id=lot.id,
        title=lot.title,
        value_amount=value.amount if value is not None else None,
        value_min=value.min if value is not None else None,
        currency=value.currency if value is not None else None,
        suitable_sme=lot.suitable_sme,
        suitable_vcse=lot.suitable_vcse,
        reserved=lot.reserved,
    )


def _matched_lots(row: DeliveryRow, notice: Notice) -> tuple[LotLine, ...]:
    by_id = {lot.id: lot for lot in notice.lots}
    return tuple(lot_line(by_id[i]) for i in (row.lots or ()) if i in by_id)


def alert_view(row: DeliveryRow, notice: Notice) -> AlertView:
    """What the renderer needs, from the outbox row and the stored notice.

    ``deadline`` is the first deadline that applies to the notice's kind (a two-stage
    tender's request to take part, an engagement's close), so reminders, "closing soon"
    and the sort order all use the date a supplier must act by."""
    value = notice.value
    changes = {k: (v[0], v[1]) for k, v in (row.changes or {}).items()}
    lotted = len(notice.lots) >= 2
    return AlertView(
        delivery_id=row.id or 0,
        notice_id=row.notice_id,
        kind=row.kind,
        title=notice.title or "Untitled notice",
        url=notice.url,
        buyer=notice.buyer,
        value_amount=value.amount if value is not None else None,
        value_min=value.min if value is not None else None,
        currency=value.currency if value is not None else None,
        deadline=first_deadline(notice),
        regions=notice.regions,
        suitable_sme=notice.suitable_sme,
        suitable_vcse=notice.suitable_vcse,
        reasons=tuple(row.reasons or ()),
        keywords=tuple(row.keywords or ()),
        changes=changes,
        days_before=int(row.variant[:-1]) if row.kind == "reminder" and row.variant else None,
        description=notice.description,
        notice_kind=notice.kind,
        tender_deadline=notice.deadline,
        expression_of_interest=notice.dates.expression_of_interest,
        engagement_end=notice.dates.engagement_end,
        future_notice=notice.dates.future_notice,
        lots=_matched_lots(row, notice) if lotted else (),
        lot_count=len(notice.lots),
        reserved=tender_reserved(notice) if lotted else notice.reserved,
    )
