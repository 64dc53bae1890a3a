"""Find a Tender (FTS) OCDS API client.

``GET /api/1.0/ocdsReleasePackages?updatedFrom=…&updatedTo=…&limit=100``,
then ``links.next`` (which carries the ``cursor``). Since 24 Feb 2025 every new
procurement under the Procurement Act 2023, below threshold too, is published
here. 429/503 carry ``Retry-After``; see :mod:`feeds.http` for retries and
:mod:`feeds.paging` for the page/cursor contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx

from feeds.http import RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, api_time, fetch_window

SOURCE = "find_a_tender"
BASE_URL = "https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages"
MAX_LIMIT = 100


async def fetch_pages(
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
) -> AsyncIterator[FeedPage]:
    """Pages of releases updated in the window; resumes from ``cursor`` when given
    (the rules are :func:`feeds.paging.fetch_window`'s)."""

    def window_params(start: datetime, end: datetime) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            "updatedFrom": api_time(start),
            "updatedTo": api_time(end),
            "limit": max(1, min(limit, MAX_LIMIT)),
        }
        return params

    async for page in fetch_window(
        client,
        base_url=base_url,
        window_params=window_params,
        cursor=cursor,
        since=since,
        until=until,
        lookback=lookback,
        overlap=overlap,
        now=now,
        policy=policy,
        sleep=sleep,
    ):
        yield page
