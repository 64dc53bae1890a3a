"""Contracts Finder (CF) OCDS search API client.

``GET /Published/Notices/OCDS/Search?publishedFrom=…&publishedTo=…&stages=…&limit=100``,
then ``links.next`` (which carries the ``cursor``). CF answers a burst of
requests with HTTP 403 and expects a 5 minute pause, which
:class:`feeds.http.RetryPolicy` ``forbidden_wait`` implements. See
:mod:`feeds.paging` for the page/cursor contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx

from feeds.http import RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, api_time, iter_pages, plan_window

SOURCE = "contracts_finder"
BASE_URL = "https://www.contractsfinder.service.gov.uk/Published/Notices/OCDS/Search"
MAX_LIMIT = 100
DEFAULT_STAGES: tuple[str, ...] = ("planning", "tender", "award")


async def fetch_pages(
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
) -> AsyncIterator[FeedPage]:
    """Pages of notices published in the window (same resume rules as Find a Tender)."""
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
            "publishedFrom": api_time(start),
            "publishedTo": api_time(end),
            "limit": max(1, min(limit, MAX_LIMIT)),
        }
        if stages:
            params["stages"] = ",".join(stages)
    async for page in iter_pages(
        client,
        url,
        params=params,
        window=window,
        done=Cursor(since=end - overlap),
        policy=policy,
        sleep=sleep,
        forbidden_means_rate_limit=True,
    ):
        yield page
