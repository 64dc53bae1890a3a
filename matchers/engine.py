"""Public entry points of the matching engine.

``match(notices, profiles)`` is the one-shot form. A long-running service builds a
:class:`Matcher` once per profile set (building the index is the expensive part) and calls
``Matcher.match(notices)`` for each poll. ``match_tiers`` / ``Matcher.match_tiers`` give both
tiers: every alert (``tier="alert"``, exactly what ``match`` returns) and the notices worth a
look (``tier="maybe"``: digests and a "you might also consider" section, never instant);
:func:`split_tiers` separates them. Matching is CPU-bound: from async code use
:func:`match_in_thread` (or ``asyncio.to_thread(matcher.match, notices)``) so the event loop
keeps answering users; rapidfuzz releases the GIL during the bulk typo expansion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from feeds.notice import Notice
from matchers.index import Matcher
from matchers.profile import Profile
from matchers.rules import Match
from matchers.tiers import ALERT, MAYBE

__all__ = [
    "ALERT",
    "MAYBE",
    "Match",
    "Matcher",
    "match",
    "match_in_thread",
    "match_tiers",
    "match_tiers_in_thread",
    "split_tiers",
]


def match(notices: Iterable[Notice], profiles: Iterable[Profile]) -> list[Match]:
    """All matches of ``notices`` against ``profiles`` (notice order, then profile order)."""
    return Matcher(profiles).match(list(notices))


def match_tiers(notices: Iterable[Notice], profiles: Iterable[Profile]) -> list[Match]:
    """Both tiers, one match per (profile, notice) at most: see :meth:`Matcher.match_tiers`."""
    return Matcher(profiles).match_tiers(list(notices))


def split_tiers(matches: Iterable[Match]) -> tuple[list[Match], list[Match]]:
    """(alerts, maybes), each in the order given: alerts go out at once, maybes only in
    digests, under their own heading, best score first within a digest."""
    alerts: list[Match] = []
    maybes: list[Match] = []
    for m in matches:
        (alerts if m.tier == ALERT else maybes).append(m)
    return alerts, maybes


async def match_tiers_in_thread(notices: Iterable[Notice], matcher: Matcher) -> list[Match]:
    """:meth:`Matcher.match_tiers` in a worker thread (the index is reused)."""
    return await asyncio.to_thread(matcher.match_tiers, list(notices))


async def match_in_thread(
    notices: Iterable[Notice], profiles: Iterable[Profile] | Matcher
) -> list[Match]:
    """:func:`match` run in a worker thread; pass a prebuilt :class:`Matcher` to reuse it."""
    matcher = profiles if isinstance(profiles, Matcher) else None
    notice_list = list(notices)
    if matcher is None:
        profile_list = list(profiles)  # type: ignore[arg-type]
        return await asyncio.to_thread(match, notice_list, profile_list)
    return await asyncio.to_thread(matcher.match, notice_list)
