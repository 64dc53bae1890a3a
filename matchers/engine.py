"""Public entry points of the matching engine.

``match(notices, profiles)`` is the one-shot form. A long-running service builds a
:class:`Matcher` once per profile set (building the index is the expensive part) and calls
``Matcher.match(notices)`` for each poll. Matching is CPU-bound: from async code use
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

__all__ = ["Match", "Matcher", "match", "match_in_thread"]


def match(notices: Iterable[Notice], profiles: Iterable[Profile]) -> list[Match]:
    """All matches of ``notices`` against ``profiles`` (notice order, then profile order)."""
    return Matcher(profiles).match(list(notices))


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
