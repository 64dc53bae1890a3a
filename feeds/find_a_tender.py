"""Find a Tender (FTS): kept as a name for :func:`feeds.paging.fetch_feed` on its table row.

``GET /api/1.0/ocdsReleasePackages?updatedFrom=…&updatedTo=…&limit=100``, then
``links.next``. The dates are London wall-clock time; ``stages`` is never sent. Everything
else lives in :data:`feeds.sources.FIND_A_TENDER` and :mod:`feeds.paging`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx

from feeds.http import RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, fetch_feed
from feeds.sources import FIND_A_TENDER

SOURCE = FIND_A_TENDER.name
BASE_URL = FIND_A_TENDER.base_url
MAX_LIMIT = FIND_A_TENDER.max_limit


def fetch_pages(
    client: httpx.AsyncClient,
    *,
    cursor: Cursor | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lookback: timedelta = timedelta(days=3),
    overlap: timedelta = timedelta(minutes=10),
    limit: int = MAX_LIMIT,
    base_url: str = BASE_URL,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
    now: datetime | None = None,
    **more: Any,
) -> AsyncIterator[FeedPage]:
    """``fetch_feed(client, FIND_A_TENDER, ...)``; ``more`` takes its newer keywords
    (``limits``, ``observer``, ``clock``)."""
    return fetch_feed(
        client,
        FIND_A_TENDER,
        cursor=cursor,
        since=since,
        until=until,
        lookback=lookback,
        overlap=overlap,
        limit=limit,
        base_url=base_url,
        policy=policy,
        sleep=sleep,
        now=now,
        **more,
    )
