"""Paging through an OCDS API with a crash-safe resume cursor.

Both UK APIs return release packages with ``links.next`` pointing at the next
page (the URL carries an opaque ``cursor``). :func:`iter_pages` follows it and
yields one :class:`FeedPage` per response. The contract with the pipeline::

    async for page in find_a_tender.fetch_pages(client, cursor=saved):
        store(page.notices)                 # 1. store this page's notices
        log_problems(page.problems)         #    (malformed releases, skipped)
        save_cursor(page.resume.dumps())    # 2. only then move the cursor on

``page.resume`` is where the *next* run must start if this one stops right
after storing this page: the next page's URL while there are more pages, and
when the last page has been read, a fresh time window starting at this run's
``until`` minus a small overlap. A crash between 1 and 2 re-reads one page
(storage de-duplicates by content hash); nothing is ever skipped.

:class:`Cursor` is a small frozen value with :meth:`Cursor.dumps` /
:meth:`Cursor.loads` (JSON text) so storage keeps it as one string per feed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from feeds.errors import FeedFetchError
from feeds.http import Params, RetryPolicy, Sleep, get_json
from feeds.notice import Notice
from feeds.ocds import ParseProblem, is_package, iter_package


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a feed's next poll starts.

    ``next_url`` set: resume mid-window at that page (``since``/``until``
    record the window it belongs to). ``next_url`` None: start a new window at
    ``since`` (None means "first run: look back the default window").
    """

    next_url: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def dumps(self) -> str:
        """Serialise to a short JSON string for storage."""
        return json.dumps(
            {
                "next": self.next_url,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        """Inverse of :meth:`dumps`; empty or unreadable text gives a fresh cursor."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        next_url = data.get("next")
        return cls(
            next_url=next_url if isinstance(next_url, str) else None,
            since=_parse_iso(data.get("since")),
            until=_parse_iso(data.get("until")),
        )


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One API response, parsed.

    ``notices`` and ``problems`` are in page order; ``resume`` is the cursor to
    save *after* storing ``notices``; ``last`` is True on the final page.
    """

    url: str
    number: int
    notices: tuple[Notice, ...]
    problems: tuple[ParseProblem, ...]
    resume: Cursor
    last: bool


def _next_link(body: Mapping[str, Any]) -> str | None:
    links = body.get("links")
    if isinstance(links, dict):
        link = links.get("next")
        if isinstance(link, str) and link.strip():
            return link.strip()
    return None


def _same_site(url: str, reference: str) -> bool:
    """A ``links.next`` must stay on the feed's host: data must not steer our client elsewhere."""
    a, b = urlsplit(url), urlsplit(reference)
    return a.scheme in ("http", "https") and a.netloc.lower() == b.netloc.lower()


def _full_url(url: str, params: Params | None) -> str:
    """The URL as requested (``httpx.URL(url, params=None)`` would drop the query)."""
    if not params:
        return url
    return str(httpx.URL(url).copy_merge_params(dict(params)))


async def iter_pages(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: Params | None = None,
    window: Cursor = Cursor(),
    done: Cursor = Cursor(),
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
    forbidden_means_rate_limit: bool = False,
    max_pages: int | None = None,
) -> AsyncIterator[FeedPage]:
    """Fetch ``url`` and every ``links.next`` after it, yielding parsed pages.

    ``window`` (since/until) is copied into mid-run resume cursors; ``done`` is
    the resume cursor of the last page. Paging stops at a page with no next
    link, no releases, a next link already visited (a loop), or ``max_pages``.
    """
    extra: dict[str, Any] = {
        "policy": policy,
        "forbidden_means_rate_limit": forbidden_means_rate_limit,
    }
    if sleep is not None:
        extra["sleep"] = sleep
    visited: set[str] = set()
    current, current_params, number = url, params, 0
    while True:
        number += 1
        full = _full_url(current, current_params)
        visited.add(full)
        body = await get_json(client, current, params=current_params, **extra)
        if not is_package(body):
            raise FeedFetchError(full, "the response is not an OCDS release package")
        items = list(iter_package(body))
        next_url = _next_link(body)
        if next_url is not None and not _same_site(next_url, url):
            raise FeedFetchError(full, f"links.next points to another site: {next_url}")
        exhausted = next_url is None or not items or next_url in visited
        last = exhausted or (max_pages is not None and number >= max_pages)
        # Stopping early at max_pages must resume at the next page, never skip it.
        resume = (
            done if exhausted else Cursor(next_url=next_url, since=window.since, until=window.until)
        )
        yield FeedPage(
            url=full,
            number=number,
            notices=tuple(i for i in items if isinstance(i, Notice)),
            problems=tuple(i for i in items if isinstance(i, ParseProblem)),
            resume=resume,
            last=last,
        )
        if last or next_url is None:
            return
        current, current_params = next_url, None


def api_time(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC, the form both APIs accept."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def plan_window(
    cursor: Cursor | None,
    *,
    since: datetime | None,
    until: datetime | None,
    lookback: timedelta,
    now: datetime | None,
) -> tuple[datetime, datetime]:
    """The time window of a fresh run: explicit args, else the cursor, else ``now - lookback``."""
    now = now or datetime.now(UTC)
    start = since or (cursor.since if cursor else None) or now - lookback
    end = until or now
    return start, end


WindowParams = Callable[[datetime, datetime], dict[str, str | int]]


async def fetch_window(
    client: httpx.AsyncClient,
    *,
    base_url: str,
    window_params: WindowParams,
    cursor: Cursor | None,
    since: datetime | None,
    until: datetime | None,
    lookback: timedelta,
    overlap: timedelta,
    now: datetime | None,
    policy: RetryPolicy | None,
    sleep: Sleep | None,
    forbidden_means_rate_limit: bool = False,
) -> AsyncIterator[FeedPage]:
    """The resume rules both UK APIs share, around :func:`iter_pages`.

    A cursor with ``next_url`` continues that page sequence exactly. Otherwise the window is
    ``since`` (else ``cursor.since``, else ``now - lookback``) to ``until`` (else now), and
    ``window_params(start, end)`` gives the API's query. When the last page is read,
    ``resume.since`` is ``until - overlap``: the overlap re-reads releases indexed late rather
    than risk missing them.
    """
    params: dict[str, str | int] | None
    if cursor is not None and cursor.next_url:
        window = Cursor(since=cursor.since, until=cursor.until)
        end = cursor.until or now or datetime.now(UTC)
        url, params = cursor.next_url, None
    else:
        start, end = plan_window(cursor, since=since, until=until, lookback=lookback, now=now)
        window = Cursor(since=start, until=end)
        url, params = base_url, window_params(start, end)
    async for page in iter_pages(
        client,
        url,
        params=params,
        window=window,
        done=Cursor(since=end - overlap),
        policy=policy,
        sleep=sleep,
        forbidden_means_rate_limit=forbidden_means_rate_limit,
    ):
        yield page


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
    max_pages: int | None = None,
) -> AsyncIterator[FeedPage]:
    """Pages from any OCDS package URL (``bestbot feed parse https://...``), following links.next.

    Contracts Finder hosts get their 403-means-rate-limited handling.
    """
    host = urlsplit(url).netloc.lower()
    async for page in iter_pages(
        client,
        url,
        policy=policy,
        sleep=sleep,
        forbidden_means_rate_limit="contractsfinder" in host,
        max_pages=max_pages,
    ):
        yield page
