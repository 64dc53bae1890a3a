"""Matching stored notices against subscribers and filling the outbox.

Every stored notice version starts *unmatched* (``notice_version.matched_at`` is NULL);
:func:`match_pending` takes every unmatched version — this poll's, or one a crash left
behind — and in one transaction queues its alerts and marks it matched. So a kill between
storing a page and queueing its alerts loses nothing: the next cycle matches what is left.

New notices are matched against every active profile, lot by lot (off the event loop:
matching is CPU-bound), in two tiers. An ``alert`` match becomes one delivery per active
channel, as the notice's kind reaches that subscriber (``bot.kinds``): due now or after
quiet hours (tenders, market engagement, dynamic markets), at the subscriber's digest time
(daily or weekly subscribers; pipeline and planned notices for everyone), or not at all
(awards and contract history, kinds switched off with /types). A ``maybe`` match ("worth a
look") waits for the subscriber's digest — for an instant subscriber the weekly one — where
it has its own section.

A changed notice is a later notice of the same procurement: the subscribers already
alerted to it get a follow-up (the tender out, cancelled, a moved deadline...) and, in
Telegram, their alert edited in place (``bot.delivery.edits``). It is matched again only
when it became another kind of chance (a planned procurement now a tender), for those not
yet alerted. A notice that duplicates one from the other feed is skipped, so one
procurement is alerted once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery.alerts import AlertSettings
from bot.delivery.edits import EditTarget, queue_edits
from bot.kinds import advanced, clean_kinds_off, delivery_for, follow_up_of, is_withdrawn
from bot.render.phrases import CLOSING_SOON
from bot.timing import QuietHours, due_at, parse_quiet_hours
from feeds.kinds import DIGEST, INSTANT
from feeds.notice import Notice, first_deadline, still_open
from matchers.engine import Match, Matcher
from matchers.lots import LotMatch, match_lots
from matchers.profile import Profile, ProfileError, parse_profile
from storage.db import Database
from storage.notices import PendingVersion, load_notices, mark_matched, unmatched_versions
from storage.outbox import (
    CANCELLED,
    PENDING,
    Alerted,
    NewDelivery,
    alerted_to,
    bring_forward,
    enqueue,
    mark_final,
    reschedule_reminders,
)
from storage.subscribers import Audience, Recipient, alert_audience, recipients

log = logging.getLogger(__name__)
UPDATE_FIELDS = ("title", "deadline", "value", "expression_of_interest", "engagement_end")
#: Changes that can move the first deadline (and so the reminders).
DEADLINE_FIELDS = ("deadline", "expression_of_interest", "engagement_end", "kind", "stage")
MAYBE = "maybe"
"""Delivery kind of a "worth a look" match: digests only, in its own section."""

__all__ = ["MatchReport", "MatcherCache", "TimingDefaults", "match_pending"]


@dataclass(frozen=True, slots=True)
class TimingDefaults:
    """Service-wide defaults for subscribers who kept them."""

    timezone: ZoneInfo
    quiet_hours: QuietHours | None
    default_stages: tuple[str, ...] = ("planning", "tender")
    closing_soon: timedelta = CLOSING_SOON


@dataclass
class MatchReport:
    notices: int = 0
    matches: int = 0
    queued: int = 0
    updates: int = 0
    #: "worth a look" matches (the maybe tier), queued for digests only
    maybes: int = 0
    #: Telegram alerts queued to be edited in place (their procurement moved on).
    edits: int = 0

    def add(self, other: MatchReport) -> None:
        self.notices += other.notices
        self.matches += other.matches
        self.maybes += other.maybes
        self.queued += other.queued
        self.updates += other.updates
        self.edits += other.edits


def digest_due(sub: Recipient, now: datetime, defaults: TimingDefaults) -> datetime:
    """The subscriber's next digest: theirs if they take one, else a daily one at their
    digest hour (where an instant subscriber's early sight goes)."""
    weekly = sub.frequency == "weekly"
    return due_at(
        now,
        frequency="weekly" if weekly else "daily",
        tz=defaults.timezone,
        quiet=None,
        digest_hour=sub.digest_hour,
        weekly_day=sub.weekly_day,
    )


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
        kept with the matcher."""
        return self.get(profiles).match_tiers(notices)

    def match_lots(self, profiles: list[Profile], notices: list[Notice]) -> list[LotMatch]:
        """Each notice and each of its lots (:mod:`matchers.lots`), in both tiers: one match
        per profile and notice, naming the lots that fitted — an alert where the notice or a
        lot is sure, else a "maybe" where one is worth a look."""
        matcher = self.get(profiles)
        sure = match_lots(matcher.match, notices, profiles)
        taken = {(m.match.profile_id, m.match.notice_ocid) for m in sure}
        weak = match_lots(
            lambda views: [m for m in matcher.match_tiers(views) if m.tier == "maybe"],
            notices,
            profiles,
        )
        return sure + [m for m in weak if (m.match.profile_id, m.match.notice_ocid) not in taken]


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
    changed = [p for p in pending if p.status == "changed"]
    told = [p for p in changed if _worth_telling(p.changes)]
    # A procurement that became another kind of chance (planned -> tender) is matched again
    # for everyone not yet alerted to it; those alerted get the follow-up instead.
    again = [p for p in changed if p.canonical_id == p.notice_id and advanced(p.changes)]
    async with db.session() as session:
        alerted = await alerted_to(session, list({p.canonical_id for p in (*told, *again)}))
        latest = await load_notices(session, [p.notice_id for p in changed])
    already: dict[int, set[int]] = {}
    for item in alerted:
        already.setdefault(item.notice_id, set()).add(item.subscriber_id)
    deliveries = await _alerts(db, [*fresh, *again], defaults, now, matchers, report, already)
    plan = await _follow_ups(db, told, alerted, latest, defaults, now)
    async with db.write_session() as session:
        report.queued += await enqueue(session, deliveries, now)
        report.updates += await enqueue(session, plan.updates, now)
        for delivery_id, due in plan.sooner:
            await bring_forward(session, [delivery_id], due)
        if plan.withdrawn:
            await mark_final(session, plan.withdrawn, CANCELLED, "procurement withdrawn")
        settings = AlertSettings(timezone=defaults.timezone, closing_soon=defaults.closing_soon)
        report.edits += await queue_edits(session, plan.edits, now, settings)
        for change in changed:
            notice = latest.get(change.notice_id)
            if notice is not None and any(n in change.changes for n in DEADLINE_FIELDS):
                await reschedule_reminders(
                    session, change.canonical_id, first_deadline(notice), now
                )
        await mark_matched(session, [i for p in pending for i in p.version_ids], now)


def _worth_telling(changes: dict[str, object]) -> bool:
    """Worth a follow-up to those alerted: a changed title, deadline or value, the tender
    out, a dynamic market open or changed, the procurement cancelled or closed."""
    if any(name in changes for name in UPDATE_FIELDS):
        return True
    return follow_up_of(changes) != "changed" or advanced(changes)


async def _alerts(
    db: Database,
    pending: Sequence[PendingVersion],
    defaults: TimingDefaults,
    now: datetime,
    matchers: MatcherCache,
    report: MatchReport,
    already: dict[int, set[int]],
) -> list[NewDelivery]:
    """New alerts for these notices, for every subscriber they fit and not yet alerted.

    Each kind reaches a subscriber as ``bot.kinds.delivery_for`` says: instant kinds when
    the subscriber takes alerts (after quiet hours, or at their digest time), digest kinds
    (pipeline, planned) only at their digest time, kinds switched off or never sent not at
    all."""
    if not pending:
        return []
    async with db.session() as session:
        audience = await alert_audience(session)
        notices = await load_notices(session, [p.notice_id for p in pending]) if audience else {}
    # A notice that can no longer be acted on (its first deadline has passed, or it is
    # award or contract history) is of no use to anyone: never alert it.
    notices = {k: n for k, n in notices.items() if still_open(n, now)}
    if not notices:
        return []
    version_of = {p.notice_id: p.version for p in pending}
    by_ocid = {n.ocid: nid for nid, n in notices.items()}
    profiles = _profiles(audience, defaults)
    matches = await asyncio.to_thread(matchers.match_lots, profiles, list(notices.values()))
    report.notices += len(notices)
    people = {str(a.recipient.id): a for a in audience}
    deliveries = []
    for found in matches:
        match = found.match
        member, notice_id = people[match.profile_id], by_ocid[match.notice_ocid]
        sub = member.recipient
        if sub.id in already.get(notice_id, ()):
            continue
        how = delivery_for(
            notices[notice_id].kind, clean_kinds_off(member.profile.get("kinds_off", ()))
        )
        if how not in (INSTANT, DIGEST):
            continue
        maybe = match.tier == "maybe"
        if maybe:
            report.maybes += 1
            when = maybe_due(sub, now, defaults)
        else:
            report.matches += 1
            when = (
                subscriber_due(sub, now, defaults)
                if how == INSTANT
                else digest_due(sub, now, defaults)
            )
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
                    lots=found.lots,
                )
            )
    return deliveries


@dataclass
class _FollowUpPlan:
    updates: list[NewDelivery] = field(default_factory=list)
    edits: list[EditTarget] = field(default_factory=list)
    #: Pending alerts (waiting for a digest) of notices now worth an instant alert.
    sooner: list[tuple[int, datetime]] = field(default_factory=list)
    #: Pending alerts of withdrawn procurements: never sent.
    withdrawn: list[int] = field(default_factory=list)


async def _follow_ups(
    db: Database,
    told: Sequence[PendingVersion],
    alerted: Sequence[Alerted],
    latest: dict[int, Notice],
    defaults: TimingDefaults,
    now: datetime,
) -> _FollowUpPlan:
    """For each subscriber already alerted to a changed procurement: one follow-up message
    (the update), and in Telegram an in-place edit of the alert they have.

    An alert not sent yet needs neither: it will show the newest version when it goes. It
    is brought forward if the notice is now worth an instant alert (a planned procurement
    waiting for the digest, now a tender), and dropped if the procurement was withdrawn."""
    plan = _FollowUpPlan()
    canonical = {p.canonical_id: p for p in told}
    if not canonical:
        return plan
    async with db.session() as session:
        people = await recipients(session, list({a.subscriber_id for a in alerted}))
    for item in alerted:
        change, sub = canonical.get(item.notice_id), people.get(item.subscriber_id)
        if change is None or sub is None or item.channel not in sub.channels:
            continue
        if item.status == PENDING:
            _waiting_alert(plan, item, change, latest.get(change.notice_id), sub, defaults, now)
            continue
        plan.updates.append(
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
                lots=item.lots,
            )
        )
        if item.channel == "telegram" and item.message_ref:
            gone = change.first_version if is_withdrawn(change.changes) else None
            plan.edits.append(
                EditTarget(sub, item.message_ref, item.notice_id, change.changes, gone)
            )
    return plan


def _waiting_alert(
    plan: _FollowUpPlan,
    item: Alerted,
    change: PendingVersion,
    notice: Notice | None,
    sub: Recipient,
    defaults: TimingDefaults,
    now: datetime,
) -> None:
    if is_withdrawn(change.changes):
        plan.withdrawn.append(item.delivery_id)
    elif notice is not None and delivery_for(notice.kind) == INSTANT:
        plan.sooner.append((item.delivery_id, subscriber_due(sub, now, defaults)))
