"""Matching stored notices against subscribers and filling the outbox.

Every stored notice version starts *unmatched* (``notice_version.matched_at`` is NULL);
:func:`match_pending` takes every unmatched version — this poll's, or one a crash left
behind — and in one transaction queues its alerts and marks it matched. So a kill between
storing a page and queueing its alerts loses nothing: the next cycle matches what is left.

New notices are matched against every active profile (off the event loop: matching is
CPU-bound) in two tiers: an ``alert`` match becomes one delivery per active channel, due
now, after quiet hours, or at the subscriber's digest time; a ``maybe`` match ("worth a
look") waits for the subscriber's digest, for an instant subscriber the weekly one, where it
has its own section. A changed notice is *not* matched again: only
the subscribers already alerted to it get a short update saying what changed. A notice
that duplicates one from the other feed is skipped, so one procurement is alerted once.
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

from bot.timing import QuietHours, due_at, parse_quiet_hours
from feeds.notice import Notice, still_open
from matchers.engine import Match, Matcher
from matchers.profile import Profile, ProfileError, parse_profile
from storage.db import Database
from storage.notices import PendingVersion, load_notices, mark_matched, unmatched_versions
from storage.outbox import NewDelivery, alerted_to, enqueue, reschedule_reminders
from storage.subscribers import Audience, Recipient, alert_audience, recipients

log = logging.getLogger(__name__)
UPDATE_FIELDS = ("title", "deadline", "value")
MAYBE = "maybe"
"""Delivery kind of a "worth a look" match: digests only, in its own section."""

__all__ = ["MatchReport", "MatcherCache", "TimingDefaults", "match_pending"]


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
    #: "worth a look" matches (the maybe tier), queued for digests only
    maybes: int = 0

    def add(self, other: MatchReport) -> None:
        self.notices += other.notices
        self.matches += other.matches
        self.maybes += other.maybes
        self.queued += other.queued
        self.updates += other.updates


def maybe_due(sub: Recipient, now: datetime, defaults: TimingDefaults) -> datetime:
    """A "worth a look" match never goes out on its own: it waits for the subscriber's
    digest — for an instant subscriber, the weekly "you might also consider" message."""
    return due_at(
        now,
        frequency=sub.frequency if sub.frequency in ("daily", "weekly") else "weekly",
        tz=defaults.timezone,
        quiet=None,
        digest_hour=sub.digest_hour,
        weekly_day=sub.weekly_day,
    )


def subscriber_due(sub: Recipient, now: datetime, defaults: TimingDefaults) -> datetime:
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


class MatcherCache:
    """The last :class:`Matcher` and the profiles it was built for, reused while they stay the
    same.

    Building the index takes about 10 s for 100,000 profiles and the matcher's typo cache
    fills up poll after poll; profiles change far less often than feeds are polled. Any
    change (a keyword, a region, a new or paused subscriber) builds a new one. Used from the
    matching thread; a lock keeps two polls from building the same index twice. One per
    process, built by the composition root and used by every poll, scheduled or not.
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

    def match(self, profiles: list[Profile], notices: list[Notice]) -> list[Match]:
        return self.get(profiles).match(notices)

    def match_tiers(self, profiles: list[Profile], notices: list[Notice]) -> list[Match]:
        """Both tiers (``Match.tier``: "alert" goes out at once, "maybe" only in digests),
        with the same cached matcher; the maybe tier's index is built on its first use and
        kept with the matcher. The pipeline queues "alert" as alerts and "maybe" for the
        subscriber's next digest (:func:`maybe_due`)."""
        return self.get(profiles).match_tiers(notices)


def _profiles(audience: Sequence[Audience], defaults: TimingDefaults) -> list[Profile]:
    """The matcher's profiles; one that no longer parses is skipped (and logged), never
    allowed to stop matching for everyone else."""
    out = []
    for member in audience:
        data = dict(member.profile)
        data["stages"] = data.get("stages") or list(defaults.default_stages)
        try:
            out.append(parse_profile(data))
        except ProfileError as exc:
            log.warning("subscriber %s: profile skipped: %s", member.recipient.id, exc.problem)
    return out


async def match_pending(
    db: Database, defaults: TimingDefaults, now: datetime, matchers: MatcherCache
) -> MatchReport:
    """Match every unmatched stored version, queue its alerts or updates, mark it matched."""
    report = MatchReport()
    while True:
        async with db.session() as session:
            pending = await unmatched_versions(session)
        if not pending:
            return report
        await _match_batch(db, pending, defaults, now, matchers, report)


async def _match_batch(
    db: Database,
    pending: Sequence[PendingVersion],
    defaults: TimingDefaults,
    now: datetime,
    matchers: MatcherCache,
    report: MatchReport,
) -> None:
    fresh = [p for p in pending if p.status == "new" and p.canonical_id == p.notice_id]
    changed = [p for p in pending if p.status == "changed" and _worth_telling(p.changes)]
    deliveries = await _alerts(db, fresh, defaults, now, matchers, report)
    updates, moved = await _updates(db, changed, defaults, now)
    async with db.write_session() as session:
        report.queued += await enqueue(session, deliveries, now)
        report.updates += await enqueue(session, updates, now)
        for canonical_id, deadline in moved:
            await reschedule_reminders(session, canonical_id, deadline, now)
        await mark_matched(session, [i for p in pending for i in p.version_ids], now)


def _worth_telling(changes: dict[str, object]) -> bool:
    if any(name in changes for name in UPDATE_FIELDS):
        return True
    stage = changes.get("stage")
    return isinstance(stage, list) and stage[-1] == "cancelled"


async def _alerts(
    db: Database,
    fresh: Sequence[PendingVersion],
    defaults: TimingDefaults,
    now: datetime,
    matchers: MatcherCache,
    report: MatchReport,
) -> list[NewDelivery]:
    if not fresh:
        return []
    async with db.session() as session:
        audience = await alert_audience(session)
        notices = await load_notices(session, [p.notice_id for p in fresh]) if audience else {}
    # A notice that can no longer be acted on (its first deadline has passed) is of no use
    # to anyone: never alert it.
    notices = {k: n for k, n in notices.items() if still_open(n, now)}
    if not notices:
        return []
    version_of = {p.notice_id: p.version for p in fresh}
    by_ocid = {n.ocid: nid for nid, n in notices.items()}
    profiles = _profiles(audience, defaults)
    matches = await asyncio.to_thread(matchers.match_tiers, profiles, list(notices.values()))
    report.notices += len(notices)
    report.matches += sum(1 for m in matches if m.tier == "alert")
    report.maybes += sum(1 for m in matches if m.tier == "maybe")
    people = {str(a.recipient.id): a.recipient for a in audience}
    deliveries = []
    for match in matches:
        sub, notice_id = people[match.profile_id], by_ocid[match.notice_ocid]
        maybe = match.tier == "maybe"
        when = maybe_due(sub, now, defaults) if maybe else subscriber_due(sub, now, defaults)
        for channel in sub.channels:
            deliveries.append(
                NewDelivery(
                    subscriber_id=sub.id,
                    notice_id=notice_id,
                    version=version_of[notice_id],
                    channel=channel,
                    due_at=when,
                    kind=MAYBE if maybe else "alert",
                    score=match.score,
                    reasons=match.reasons,
                    keywords=match.matched_keywords,
                )
            )
    return deliveries


async def _updates(
    db: Database,
    changed: Sequence[PendingVersion],
    defaults: TimingDefaults,
    now: datetime,
) -> tuple[list[NewDelivery], list[tuple[int, datetime | None]]]:
    """One short update for each subscriber already alerted to a changed notice."""
    if not changed:
        return [], []
    canonical = {p.canonical_id: p for p in changed}
    async with db.session() as session:
        alerted = await alerted_to(session, list(canonical))
        people = await recipients(session, list({a.subscriber_id for a in alerted}))
    deliveries = []
    for item in alerted:
        sub = people.get(item.subscriber_id)
        if sub is None or item.channel not in sub.channels:
            continue
        change = canonical[item.notice_id]
        deliveries.append(
            NewDelivery(
                subscriber_id=sub.id,
                notice_id=item.notice_id,
                version=change.version,
                channel=item.channel,
                due_at=subscriber_due(sub, now, defaults) if sub.frequency == "instant" else now,
                kind="update",
                variant=str(change.notice_id),
                reasons=item.reasons,
                keywords=item.keywords,
                changes=change.changes,
            )
        )
    moved = []
    for change in changed:
        if "deadline" in change.changes:
            new = change.changes["deadline"][1]
            moved.append((change.canonical_id, datetime.fromisoformat(new) if new else None))
    return deliveries, moved
