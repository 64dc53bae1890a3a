"""For enterprises: "coming up for re-tender" in the weekly digest.

A contract whose end is 6 to 12 months away is usually tendered again, and an enterprise
that hears of it now has time to get ready, find partners or talk to the buyer. Each weekly
digest shows such contracts **in the subscriber's trade and region**: the award notice is
matched against the subscriber's profile as if it were a tender (same keywords, CPV codes,
exclusions, regions and value range; suitability and stage filters left out, since the
next tender's are not known yet). Each contract is shown to a subscriber once.

The candidates (every stored contract ending in the window) and who they match are worked
out at most once an hour, for all weekly subscribers at once, in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.render.model import ForecastView
from bot.reports.figures import amount
from bot.reports.procurements import NO_CONTRACT, Procurement, adjusted_end, fold
from feeds.kinds import DYNAMIC_MARKET_KINDS
from feeds.notice import Award, Notice, NoticeDates, Value
from matchers.engine import Matcher
from matchers.profile import Profile, ProfileError, parse_profile
from storage.db import Database
from storage.reports import award_notices, shown_forecasts
from storage.subscribers import Audience, alert_audience

__all__ = ["Candidate", "RetenderForecasts", "as_tender", "candidates", "forecast_profile"]

log = logging.getLogger(__name__)

SOONEST = timedelta(days=183)  # six months
LATEST = timedelta(days=365)  # twelve months
REFRESH = timedelta(hours=1)
SHOWN = 5


@dataclass(frozen=True, slots=True)
class Candidate:
    """A contract ending within the forecast window: the procurement, the award, when it
    ends and its value after later changes."""

    procurement: Procurement
    award: Award
    end: datetime
    value: float | None

    def view(self) -> ForecastView:
        notice = self.procurement.notice
        names = [s.name for s in self.award.suppliers]
        supplier = "; ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
        return ForecastView(
            notice_id=self.procurement.notice_id or 0,
            award_id=self.award.id,
            title=self.award.title or notice.title,
            buyer=notice.buyer,
            supplier=supplier or None,
            end_date=self.end,
            value=self.value,
            url=notice.url,
        )


def candidates(procurements: Sequence[Procurement], now: datetime) -> list[Candidate]:
    """Contracts whose (changed) end falls 6 to 12 months after ``now``, soonest first."""
    found = []
    for p in procurements:
        if p.notice.kind in DYNAMIC_MARKET_KINDS:
            continue
        for award in p.awards:
            if (award.status or "").lower() in NO_CONTRACT:
                continue
            end, value = adjusted_end(p, award)
            if end is not None and now + SOONEST <= end <= now + LATEST:
                found.append(Candidate(p, award, end, amount(value)))
    return sorted(found, key=lambda c: (c.end, c.procurement.notice.ocid, c.award.id))


def as_tender(candidate: Candidate) -> Notice:
    """An award notice as the tender it forecasts: the same words, codes and places, and
    the contract's value (after changes) as the value."""
    value = Value(candidate.value, None) if candidate.value is not None else candidate.award.value
    return replace(
        candidate.procurement.notice,
        kind="tender",
        stage="tender",
        deadline=None,
        dates=NoticeDates(),
        value=value,
    )


def forecast_profile(profile: Profile) -> Profile:
    """The profile's trade and region only: the next tender's stage and suitability are
    not known, so those filters are left out."""
    return replace(
        profile, stages=("tender",), vcse_only=False, sme_only=False, require_value=False
    )


def _profiles(audience: Sequence[Audience]) -> list[Profile]:
    out = []
    for member in audience:
        try:
            out.append(forecast_profile(parse_profile(dict(member.profile))))
        except ProfileError:
            continue  # matching logs bad profiles already
    return out


def _match(found: list[Candidate], profiles: list[Profile]) -> dict[int, list[Candidate]]:
    """subscriber id -> the candidates in their trade and region (CPU-bound: a thread)."""
    if not found or not profiles:
        return {}
    by_ocid: dict[str, list[Candidate]] = {}
    for candidate in found:
        by_ocid.setdefault(candidate.procurement.notice.ocid, []).append(candidate)
    notices = [as_tender(group[0]) for group in by_ocid.values()]
    matched: dict[int, list[Candidate]] = {}
    for hit in Matcher(profiles).match(notices):
        matched.setdefault(int(hit.profile_id), []).extend(by_ocid.get(hit.notice_ocid, []))
    return matched


class RetenderForecasts:
    """The forecasts of each weekly subscriber's next digest (the alert outbox asks)."""

    def __init__(self, db: Database, clock: Callable[[], datetime], *, limit: int = SHOWN) -> None:
        self.db = db
        self.clock = clock
        self.limit = limit
        self._built_at: datetime | None = None
        self._matched: dict[int, list[Candidate]] = {}
        self._lock = asyncio.Lock()

    async def _refresh(self, now: datetime) -> None:
        async with self._lock:
            if self._built_at is not None and abs(now - self._built_at) < REFRESH:
                return
            procurements: list[Procurement] = []
            async with self.db.session() as session:
                async for batch in award_notices(session):
                    for stored in batch:
                        releases = [
                            Notice.from_json_dict(
                                {**d, "source": stored.source, "ocid": stored.ocid}
                            )
                            for d in stored.versions
                        ]
                        procurements.append(fold(releases, notice_id=stored.notice_id))
                audience = [
                    a for a in await alert_audience(session) if a.recipient.frequency == "weekly"
                ]
            found = candidates(procurements, now)
            self._matched = await asyncio.to_thread(_match, found, _profiles(audience))
            self._built_at = now
            log.info(
                "re-tender forecasts: %d contracts end in 6-12 months; %d weekly subscribers "
                "have some in their trade",
                len(found),
                len(self._matched),
            )

    async def for_subscriber(self, subscriber_id: int, channel: str) -> list[ForecastView]:
        """Up to ``limit`` forecasts this subscriber has not been shown on ``channel``,
        soonest first."""
        now = self.clock()
        await self._refresh(now)
        mine = self._matched.get(subscriber_id, [])
        if not mine:
            return []
        async with self.db.session() as session:
            seen = await shown_forecasts(session, subscriber_id, channel)
        views: dict[tuple[int, str], ForecastView] = {}
        for candidate in sorted(mine, key=lambda c: c.end):
            view = candidate.view()
            if view.key not in seen and now + SOONEST <= view.end_date:
                views.setdefault(view.key, view)
        return list(views.values())[: self.limit]
