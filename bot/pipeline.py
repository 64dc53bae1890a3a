"""Matching stored notices against subscribers and filling the outbox.

New notices are matched against every active profile (off the event loop:
matching is CPU-bound); each match becomes one delivery per active channel,
due now, after quiet hours, or at the subscriber's digest time. A changed
notice is *not* matched again: only the subscribers already alerted to it get a
short update saying what changed. A notice that duplicates one from the other
feed is skipped, so one procurement is alerted once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.timing import QuietHours, due_at, parse_quiet_hours
from feeds.notice import Notice
from matchers.engine import Match, Matcher
from matchers.profile import Profile, parse_profile
from storage.db import Database
from storage.models import DeliveryRow, ProfileRow, SubscriberRow
from storage.notices import StoreResult, load_notices
from storage.outbox import NewDelivery, enqueue, reschedule_reminders

log = logging.getLogger(__name__)
UPDATE_FIELDS = ("title", "deadline", "value")


@dataclass(frozen=True, slots=True)
class TimingDefaults:
    """Service-wide defaults for subscribers who kept them."""

    timezone: ZoneInfo
    quiet_hours: QuietHours | None
    default_stages: tuple[str, ...] = ("planning", "tender")


@dataclass
class MatchReport:
    notices: int = 0
    matches: int = 0
    queued: int = 0
    updates: int = 0


def profile_from_row(row: ProfileRow, default_stages: Sequence[str]) -> Profile:
    """The matcher's view of a stored profile (its id is the subscriber id)."""
    return parse_profile(
        {
            "id": str(row.subscriber_id),
            "keywords": list(row.keywords),
            "exclude": list(row.exclude),
            "cpv": list(row.cpv),
            "regions": list(row.regions),
            "min_value": row.min_value,
            "max_value": row.max_value,
            "vcse_only": row.vcse_only,
            "sme_only": row.sme_only,
            "stages": list(row.stages) or list(default_stages),
            "local_only": row.local_only,
        }
    )


def channels_of(sub: SubscriberRow) -> list[str]:
    channels = []
    if sub.telegram_active and sub.telegram_chat_id is not None:
        channels.append("telegram")
    if sub.email_active and sub.email:
        channels.append("email")
    return channels


def subscriber_due(sub: SubscriberRow, now: datetime, defaults: TimingDefaults) -> datetime:
    quiet = defaults.quiet_hours
    if sub.quiet_hours is not None:
        quiet = parse_quiet_hours(sub.quiet_hours)
    return due_at(
        now,
        frequency=sub.frequency,
        tz=defaults.timezone,
        quiet=quiet,
        digest_hour=sub.digest_hour,
        weekly_day=sub.weekly_day,
    )


async def active_subscribers(db: Database) -> list[tuple[SubscriberRow, ProfileRow]]:
    """Subscribers who can receive something and have a profile."""
    async with db.session() as session:
        rows = await session.exec(
            select(SubscriberRow, ProfileRow)
            .join(ProfileRow, col(ProfileRow.subscriber_id) == col(SubscriberRow.id))
            .where(col(SubscriberRow.paused).is_(False))
        )
        return [(s, p) for s, p in rows if channels_of(s)]


class MatcherCache:
    """The last :class:`Matcher` and the profiles it was built for, reused while they stay the
    same.

    Building the index takes about 10 s for 100,000 profiles and the matcher's typo cache
    fills up poll after poll; profiles change far less often than feeds are polled. Any
    change (a keyword, a region, a new or paused subscriber) builds a new one. Used from the
    matching thread; a lock keeps two polls from building the same index twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._profiles: tuple[Profile, ...] | None = None
        self._matcher: Matcher | None = None
        self.builds = 0

    def get(self, profiles: Sequence[Profile]) -> Matcher:
        key = tuple(profiles)
        with self._lock:
            if self._matcher is None or key != self._profiles:
                started = time.perf_counter()
                self._matcher = Matcher(key)
                self._profiles = key
                self.builds += 1
                log.info(
                    "matcher built for %d profiles in %.1f s",
                    len(key),
                    time.perf_counter() - started,
                )
            return self._matcher


async def match_and_enqueue(
    db: Database,
    results: Sequence[StoreResult],
    defaults: TimingDefaults,
    now: datetime,
    matchers: MatcherCache | None = None,
) -> MatchReport:
    """Turn one poll's stored results into outbox rows.

    ``matchers`` keeps the index between polls (the service passes its own); without it the
    index is built for this call alone."""
    report = MatchReport()
    fresh = [r for r in results if r.status == "new" and r.canonical_id == r.notice_id]
    changed = [r for r in results if r.status == "changed" and _worth_telling(r.changes)]
    if fresh:
        await _alert_new(db, fresh, defaults, now, report, matchers or MatcherCache())
    if changed:
        await _queue_updates(db, changed, defaults, now, report)
    return report


def _worth_telling(changes: dict[str, object]) -> bool:
    if any(name in changes for name in UPDATE_FIELDS):
        return True
    stage = changes.get("stage")
    return isinstance(stage, list) and stage[-1] == "cancelled"


async def _alert_new(
    db: Database,
    fresh: Sequence[StoreResult],
    defaults: TimingDefaults,
    now: datetime,
    report: MatchReport,
    matchers: MatcherCache,
) -> None:
    subscribers = await active_subscribers(db)
    if not subscribers:
        return
    async with db.session() as session:
        notices = await load_notices(session, [r.notice_id for r in fresh])
    # A notice whose deadline has passed is of no use to anyone: never alert it.
    notices = {k: n for k, n in notices.items() if n.deadline is None or n.deadline > now}
    version_of = {r.notice_id: r.version for r in fresh}
    by_ocid = {n.ocid: nid for nid, n in notices.items()}
    profiles = [profile_from_row(p, defaults.default_stages) for _, p in subscribers]
    matches = await asyncio.to_thread(_run_matcher, matchers, profiles, list(notices.values()))
    report.notices += len(notices)
    report.matches += len(matches)
    subs = {str(s.id): s for s, _ in subscribers}
    deliveries = []
    for match in matches:
        sub, notice_id = subs[match.profile_id], by_ocid[match.notice_ocid]
        when = subscriber_due(sub, now, defaults)
        for channel in channels_of(sub):
            deliveries.append(
                NewDelivery(
                    subscriber_id=sub.id or 0,
                    notice_id=notice_id,
                    version=version_of[notice_id],
                    channel=channel,
                    due_at=when,
                    score=match.score,
                    reasons=match.reasons,
                    keywords=match.matched_keywords,
                )
            )
    async with db.session() as session:
        report.queued += await enqueue(session, deliveries)


def _run_matcher(
    matchers: MatcherCache, profiles: list[Profile], notices: list[Notice]
) -> list[Match]:
    return matchers.get(profiles).match(notices)


async def _queue_updates(
    db: Database,
    changed: Sequence[StoreResult],
    defaults: TimingDefaults,
    now: datetime,
    report: MatchReport,
) -> None:
    """One short update for each subscriber already alerted to a changed notice."""
    canonical = {r.canonical_id: r for r in changed}
    async with db.session() as session:
        rows = await session.exec(
            select(DeliveryRow, SubscriberRow)
            .join(SubscriberRow, col(SubscriberRow.id) == col(DeliveryRow.subscriber_id))
            .where(
                col(DeliveryRow.notice_id).in_(list(canonical)),
                col(DeliveryRow.kind) == "alert",
                col(DeliveryRow.status).in_(["sent", "pending"]),
            )
        )
        alerted = list(rows)
    deliveries = []
    for delivery, sub in alerted:
        result = canonical[delivery.notice_id]
        if delivery.channel not in channels_of(sub):
            continue
        deliveries.append(
            NewDelivery(
                subscriber_id=delivery.subscriber_id,
                notice_id=delivery.notice_id,
                version=result.version,
                channel=delivery.channel,
                due_at=subscriber_due(sub, now, defaults) if sub.frequency == "instant" else now,
                kind="update",
                variant=str(result.notice_id),
                reasons=tuple(delivery.reasons),
                keywords=tuple(delivery.keywords),
                changes=result.changes,
            )
        )
    async with db.session() as session:
        report.updates += await enqueue(session, deliveries)
        for result in changed:
            if "deadline" in result.changes:
                new = result.changes["deadline"][1]
                deadline = datetime.fromisoformat(new) if new else None
                await reschedule_reminders(session, result.canonical_id, deadline, now)
