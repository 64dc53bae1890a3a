"""What a profile would find: the preview shown after sign-up, after a keyword change, by
``/preview`` and (through the same function) on the web settings page.

Weeks of silence are the worst outcome of a badly chosen keyword, and the subscriber only
learns of it by waiting. So every change is answered with what the settings find *now*, on
the notices already stored: how many currently open notices match (the best three named,
the ones with time left to bid offered to be sent at once), and what the settings found in
the last ``days`` days, with how many notices each keyword brought in and how many each
filter (regions, value, suitability, exclusions) kept out — so an enterprise can tune
before it waits.

The matching is the pipeline's own (:class:`matchers.engine.Matcher`, the profile read by
:func:`matchers.profile.parse_profile` with the configured default stages), run once per
question in a worker thread. The per-filter counts come from matching the profile without
its filters once, then each filter alone on what that found (filters only ever remove).

Speed: a preview must answer while the person waits, over thousands of notices. Each
notice's title and opening words are reduced once to their term keys
(:func:`matchers.prefilter.notice_keys`, kept per notice version in a bounded in-process
cache: derived data, never state), and :class:`matchers.prefilter.Prefilter` skips, in
microseconds, every notice the profile could not match; only the rest are read in full and
matched (``benchmarks/bench_preview.py``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.chat import regions_menu
from bot.chat.text import value_range
from bot.services import Services
from feeds.notice import first_deadline, still_open
from matchers.engine import Match, Matcher
from matchers.prefilter import NoticeKeys, Prefilter, notice_keys
from matchers.profile import Profile, ProfileError, parse_profile
from matchers.rules import Document, prepare
from storage.previews import Candidate, Indexed, alerted_notices, load_candidates, preview_index

__all__ = ["FilterEffect", "Preview", "PreviewItem", "preview", "warm"]

#: A notice "has time left to bid" when its first deadline is at least this far off.
TIME_TO_BID = timedelta(days=2)


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreviewItem:
    """One matching notice, as a preview lists it."""

    notice_id: int
    version: int
    title: str
    buyer: str | None
    deadline: datetime | None
    url: str | None
    score: int
    reasons: tuple[str, ...]
    keywords: tuple[str, ...]
    first_seen: datetime
    #: can still be acted on now
    open: bool
    #: open, with at least :data:`TIME_TO_BID` before its first deadline
    biddable: bool
    #: already sent to (or waiting for) this subscriber
    sent: bool


@dataclass(frozen=True, slots=True)
class FilterEffect:
    """A filter of the profile and how many notices it kept out in the window."""

    name: str  # regions | value | vcse | sme | exclude | local
    label: str  # as a person reads it: "Regions: Nottingham"
    removed: int


@dataclass(frozen=True, slots=True)
class Preview:
    days: int
    now: datetime
    #: notices first seen in the last ``days`` days (what was searched)
    seen: int
    #: matches first seen in the window, best first
    found: tuple[PreviewItem, ...]
    #: matches open now (whenever first seen), best first
    open: tuple[PreviewItem, ...]
    #: (keyword, notices in the window it matched), in the profile's order
    by_keyword: tuple[tuple[str, int], ...]
    #: matches in the window that no keyword made (CPV codes alone)
    by_cpv: int
    filters: tuple[FilterEffect, ...]
    #: the profile could not be read (None when it could)
    problem: str | None = None

    def best(self, n: int = 3) -> tuple[PreviewItem, ...]:
        """The best open matches (the found ones when nothing is open)."""
        return (self.open or self.found)[:n]

    @property
    def to_send(self) -> tuple[PreviewItem, ...]:
        """Open matches with time left to bid that this subscriber has not been sent."""
        return tuple(i for i in self.open if i.biddable and not i.sent)


def _profile(data: Mapping[str, Any], default_stages: Sequence[str]) -> Profile:
    raw = dict(data)
    raw.setdefault("id", "preview")
    raw["stages"] = raw.get("stages") or list(default_stages)
    return parse_profile(raw)


def _unfiltered(profile: Profile) -> Profile:
    return replace(
        profile,
        exclude=(),
        regions=(),
        min_value=None,
        max_value=None,
        vcse_only=False,
        sme_only=False,
        local_only=False,
        require_value=False,
    )


def _filters(profile: Profile) -> list[tuple[str, str, Profile]]:
    """Each filter the profile uses, as (name, label, the unfiltered profile with it alone)."""
    bare = _unfiltered(profile)
    out: list[tuple[str, str, Profile]] = []
    if profile.regions:
        label = f"Regions: {regions_menu.names(list(profile.regions))}"
        out.append(("regions", label, replace(bare, regions=profile.regions)))
    if profile.local_only:
        out.append(("local", "Local notices only", replace(bare, local_only=True)))
    if profile.min_value is not None or profile.max_value is not None:
        label = f"Value: {value_range(profile.min_value, profile.max_value)}"
        one = replace(bare, min_value=profile.min_value, max_value=profile.max_value)
        out.append(("value", label, one))
    if profile.vcse_only:
        out.append(("vcse", "VCSE-suitable only", replace(bare, vcse_only=True)))
    if profile.sme_only:
        out.append(("sme", "SME-suitable only", replace(bare, sme_only=True)))
    if profile.exclude:
        label = "Excluding: " + ", ".join(profile.exclude[:5])
        out.append(("exclude", label, replace(bare, exclude=profile.exclude)))
    return out


def _ids(matches: list[Match]) -> set[str]:
    return {m.notice_ocid for m in matches}


class _KeyCache:
    """Term keys per notice content (its hash: the same in every database and worker),
    least recently used dropped past ``size``."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._keys: OrderedDict[str, NoticeKeys] = OrderedDict()

    def get(self, item: Indexed) -> NoticeKeys | None:
        key = item.content_hash
        with self._lock:
            found = self._keys.get(key)
            if found is not None:
                self._keys.move_to_end(key)
            return found

    def remember(self, candidates: Sequence[Candidate]) -> None:
        made = [
            (
                c.content_hash,
                notice_keys(c.notice.title or "", c.notice.description or "", c.notice.cpv),
            )
            for c in candidates
        ]
        with self._lock:
            for key, keys in made:
                self._keys[key] = keys
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)


_CACHE = _KeyCache()


def _compute(
    profile: Profile,
    candidates: Sequence[Candidate],
    since: datetime,
    now: datetime,
    sent: set[int],
    days: int,
    seen: int,
) -> Preview:
    docs: list[Document] = [prepare(c.notice) for c in candidates]
    by_ocid: dict[str, Candidate] = {}
    for c in candidates:
        by_ocid.setdefault(c.notice.ocid, c)
    in_window = [d for d, c in zip(docs, candidates, strict=True) if c.first_seen >= since]
    matches = Matcher([profile]).match_documents(docs)
    items = [_item(m, by_ocid[m.notice_ocid], now, sent) for m in matches]
    items.sort(key=lambda i: (-i.score, i.deadline or now + timedelta(days=3650)))
    found = tuple(i for i in items if i.first_seen >= since)
    counts: dict[str, int] = dict.fromkeys(profile.keywords, 0)
    window_ocids = {c.notice.ocid for c in candidates if c.first_seen >= since}
    by_cpv = 0
    for m in matches:
        if m.notice_ocid not in window_ocids:
            continue
        for k in m.matched_keywords:
            counts[k] = counts.get(k, 0) + 1
        if not m.matched_keywords:
            by_cpv += 1
    effects: list[FilterEffect] = []
    filters = _filters(profile)
    if filters:
        loose = Matcher([_unfiltered(profile)]).match_documents(in_window)
        loose_ocids = _ids(loose)
        subset = [d for d in in_window if d.notice.ocid in loose_ocids]
        for name, label, alone in filters:
            kept = _ids(Matcher([alone]).match_documents(subset))
            effects.append(FilterEffect(name, label, len(loose_ocids) - len(kept)))
    return Preview(
        days=days,
        now=now,
        seen=seen,
        found=found,
        open=tuple(i for i in items if i.open),
        by_keyword=tuple(counts.items()),
        by_cpv=by_cpv,
        filters=tuple(effects),
    )


def _item(match: Match, candidate: Candidate, now: datetime, sent: set[int]) -> PreviewItem:
    notice = candidate.notice
    is_open = still_open(notice, now) and (
        notice.deadline is not None or first_deadline(notice) is not None or True
    )
    deadline = first_deadline(notice)
    biddable = is_open and (deadline is None or deadline - now >= TIME_TO_BID)
    return PreviewItem(
        notice_id=candidate.notice_id,
        version=candidate.version,
        title=" ".join((notice.title or "Untitled notice").split()),
        buyer=notice.buyer,
        deadline=deadline,
        url=notice.url,
        score=match.score,
        reasons=match.reasons,
        keywords=match.matched_keywords,
        first_seen=candidate.first_seen,
        open=is_open,
        biddable=biddable,
        sent=candidate.notice_id in sent,
    )


async def warm(services: Services, days: int = 30) -> int:
    """Compute the term keys of every notice a preview would look at, in the background at
    start, so that the first preview after a restart is as quick as the next ones; returns
    how many were computed."""
    now = services.clock()
    async with services.db.session() as session:
        index = await preview_index(session, now - timedelta(days=days), now)
    missing = [i for i in index if _CACHE.get(i) is None]
    for start in range(0, len(missing), 500):
        async with services.db.session() as session:
            loaded = await load_candidates(session, missing[start : start + 500])
        await asyncio.to_thread(_CACHE.remember, loaded)
    return len(missing)


async def warm_quietly(services: Services) -> None:
    """Previews answer people while they wait: prepare what they read, before anyone asks.
    A cache: a failure is one warning line and never stops the bot."""
    try:
        count = await warm(services)
    except Exception as exc:
        log.warning("preview warm-up failed: %s: %s", type(exc).__name__, exc)
        return
    log.info("preview keys ready for %d notices", count)


async def preview(services: Services, profile_data: Mapping[str, Any], days: int = 30) -> Preview:
    """What ``profile_data`` (the profile JSON, as :func:`storage.subscribers.profile_data`
    gives it; its ``id`` is the subscriber's, or anything for a profile not yet saved) finds
    among the stored notices: open now, and first seen in the last ``days`` days."""
    now = services.clock()
    since = now - timedelta(days=days)
    try:
        profile = _profile(profile_data, services.config.matching.default_stages)
    except ProfileError as exc:
        return Preview(days, now, 0, (), (), (), 0, (), problem=exc.problem)
    raw_id = str(profile_data.get("id", ""))
    async with services.db.session() as session:
        index = await preview_index(session, since, now)
        sent = await alerted_notices(session, int(raw_id)) if raw_id.isdigit() else set()
        missing = [i for i in index if _CACHE.get(i) is None]
        loaded = {c.notice_id: c for c in await load_candidates(session, missing)}
    if loaded:
        await asyncio.to_thread(_CACHE.remember, list(loaded.values()))
    test = Prefilter(_unfiltered(profile))
    passing = [i for i in index if (k := _CACHE.get(i)) is None or test.may_match(k)]
    unread = [i for i in passing if i.notice_id not in loaded]
    if unread:
        async with services.db.session() as session:
            loaded.update({c.notice_id: c for c in await load_candidates(session, unread)})
    candidates = [loaded[i.notice_id] for i in passing if i.notice_id in loaded]
    seen = sum(1 for i in index if i.first_seen >= since)
    return await asyncio.to_thread(_compute, profile, candidates, since, now, sent, days, seen)
