"""Contracts Finder (CF): kept as a name for :func:`feeds.paging.fetch_feed` on its table row.

``GET /Published/Notices/OCDS/Search?publishedFrom=…&publishedTo=…&stages=…&limit=100``, then
``links.next``. CF answers a burst of requests with HTTP 403 and expects a 5 minute pause
(:attr:`feeds.http.RetryPolicy.forbidden_wait`). Everything else lives in
:data:`feeds.sources.CONTRACTS_FINDER` and :mod:`feeds.paging`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from feeds.http import RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, fetch_feed
from feeds.sources import CONTRACTS_FINDER

SOURCE = CONTRACTS_FINDER.name
BASE_URL = CONTRACTS_FINDER.base_url
MAX_LIMIT = CONTRACTS_FINDER.max_limit
DEFAULT_STAGES: tuple[str, ...] = CONTRACTS_FINDER.default_stages


def fetch_pages(
    client: httpx.AsyncClient,
    *,
    cursor: Cursor | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    stages: Sequence[str] = DEFAULT_STAGES,
    lookback: timedelta = timedelta(days=3),
    overlap: timedelta = timedelta(minutes=10),
    limit: int = MAX_LIMIT,
    base_url: str = BASE_URL,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
    now: datetime | None = None,
    **more: Any,
) -> AsyncIterator[FeedPage]:
    """``fetch_feed(client, CONTRACTS_FINDER, ...)``; ``more`` takes its newer keywords
    (``limits``, ``observer``, ``clock``)."""
    return fetch_feed(
        client,
        CONTRACTS_FINDER,
        cursor=cursor,
        since=since,
        until=until,
        stages=tuple(stages),
        lookback=lookback,
        overlap=overlap,
        limit=limit,
        base_url=base_url,
        policy=policy,
        sleep=sleep,
        now=now,
        **more,
    )
