"""Find a Tender (FTS) OCDS API client.

``GET /api/1.0/ocdsReleasePackages?updatedFrom=…&updatedTo=…&limit=100``,
then ``links.next`` (which carries the ``cursor``). Since 24 Feb 2025 every new
procurement under the Procurement Act 2023, below threshold too, is published
here. 429/503 carry ``Retry-After``; see :mod:`feeds.http` for retries and
:mod:`feeds.paging` for the page/cursor contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx

from feeds.http import RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, api_time, iter_pages, plan_window

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
    """Pages of releases updated in the window; resumes from ``cursor`` when given.

    A cursor with ``next_url`` continues that page sequence exactly. Otherwise
    the window is ``since`` (else ``cursor.since``, else ``now - lookback``) to
    ``until`` (else now). When the last page is read, ``resume.since`` is
    ``until - overlap``: the overlap re-reads releases indexed late rather than
    risk missing them.
    """
    params: dict[str, str | int] | None
    if cursor is not None and cursor.next_url:
        window = Cursor(since=cursor.since, until=cursor.until)
        end = cursor.until or now or datetime.now(UTC)
        url, params = cursor.next_url, None
    else:
        start, end = plan_window(cursor, since=since, until=until, lookback=lookback, now=now)
        window = Cursor(since=start, until=end)
        url = base_url
        params = {
            "updatedFrom": api_time(start),
            "updatedTo": api_time(end),
            "limit": max(1, min(limit, MAX_LIMIT)),
        }
    async for page in iter_pages(
        client,
        url,
        params=params,
        window=window,
        done=Cursor(since=end - overlap),
        policy=policy,
        sleep=sleep,
    ):
        yield page
