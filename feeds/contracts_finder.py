"""Contracts Finder (CF) OCDS search API client.

``GET /Published/Notices/OCDS/Search?publishedFrom=…&publishedTo=…&stages=…&limit=100``,
then ``links.next`` (which carries the ``cursor``). CF answers a burst of
requests with HTTP 403 and expects a 5 minute pause, which
:class:`feeds.http.RetryPolicy` ``forbidden_wait`` implements. See
:mod:`feeds.paging` for the page/cursor contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import httpx

from feeds.http import RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, api_time, fetch_window

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

    def window_params(start: datetime, end: datetime) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            "publishedFrom": api_time(start),
            "publishedTo": api_time(end),
            "limit": max(1, min(limit, MAX_LIMIT)),
        }
        if stages:
            params["stages"] = ",".join(stages)
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
        forbidden_means_rate_limit=True,
    ):
        yield page
