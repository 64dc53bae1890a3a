"""Paging through an OCDS API with a crash-safe, gap-free resume cursor.

Both UK APIs return release packages, newest release first, with ``links.next`` pointing at
the next page (the URL carries an opaque ``cursor``) only while more results exist.
:func:`fetch_feed` reads one time window of one :class:`feeds.sources.FeedSource` and
:func:`iter_pages` follows the links, yielding one :class:`FeedPage` per response. The
contract with the pipeline::

    async for page in fetch_feed(client, FIND_A_TENDER, cursor=saved):
        store(page.notices)                 # 1. store this page's notices
        log_problems(page.problems)         #    (malformed or unstorable releases, skipped)
        save_cursor(page.resume.dumps())    # 2. only then move the cursor on

``page.resume`` is where the *next* run must start if this one stops right after storing
this page. The cursor only moves past what was received:

* while pages remain it is the next page's URL (with the window it belongs to);
* an empty page that still links on is not the end: the link is followed (a server that
  filters a page after paging returns such pages); after :attr:`FetchLimits.max_empty_pages`
  of them in a row the poll stops there and the next one resumes at the link;
* a page without ``links.next`` ends the window: the server has said nothing more is in it,
  and the next window starts at this one's end minus a small overlap — *unless* that last
  page is empty right after a page that promised more (the server's answer changed under us,
  or it stopped short): then the cursor stays at that link, and the next poll asks again; only
  an answer that agrees (empty, no link, first page of that poll) closes the window;
* a saved link the server no longer accepts (a 4xx on the first request of a resumed poll)
  re-reads the link's whole window instead of failing for ever.

A crash between 1 and 2 re-reads one page (storage de-duplicates by content hash); nothing is
ever skipped. The window's dates are sent as the source's wall-clock time
(:func:`feeds.sources.wall_clock_window`); the cursor keeps UTC instants.

:class:`Cursor` is a small frozen value with :meth:`Cursor.dumps` / :meth:`Cursor.loads`
(JSON text) so storage keeps it as one string per feed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from feeds.errors import FeedFetchError
from feeds.http import Clock, Deadline, FetchLimits, Params, RetryPolicy, Sleep, get_json
from feeds.limits import checked
from feeds.notice import Notice
from feeds.ocds import ParseProblem, is_package, iter_package
from feeds.order import newest_first
from feeds.sources import FeedSource, source_for_url, source_named, window_query
from feeds.status import FetchEvent, FetchObserver, notify

log = logging.getLogger(__name__)

#: A saved page link answered with these has expired: re-read its window instead.
_STALE_LINK_STATUSES = frozenset({400, 404, 410})


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

    ``notices`` and ``problems`` are in page order (for a poll, newest release first, so an
    older release of the same notice is recognised as older when stored); ``resume`` is the
    cursor to save *after* storing ``notices``; ``last`` is True on the final page.
    """

    url: str
    number: int
    notices: tuple[Notice, ...]
    problems: tuple[ParseProblem, ...]
    resume: Cursor
    last: bool


def _next_link(body: dict[str, Any]) -> str | None:
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


@dataclass(slots=True)
class _Run:
    """What one paging run needs besides the URL (kept together so helpers stay small)."""

    client: httpx.AsyncClient
    policy: RetryPolicy | None
    sleep: Sleep | None
    forbidden_means_rate_limit: bool
    limits: FetchLimits
    deadline: Deadline
    observer: FetchObserver | None

    async def get(self, url: str, params: Params | None) -> Any:
        return await get_json(
            self.client,
            url,
            params=params,
            policy=self.policy,
            sleep=self.sleep or asyncio.sleep,
            forbidden_means_rate_limit=self.forbidden_means_rate_limit,
            limits=self.limits,
            deadline=self.deadline,
            observer=self.observer,
        )

    async def pause(self, url: str) -> None:
        """The gentle pause between pages, inside the poll's time limit."""
        seconds = self.limits.page_pause
        if seconds <= 0:
            return
        if self.deadline.remaining() < seconds:
            raise self.deadline.out_of_time(url, "between pages")
        await (self.sleep or asyncio.sleep)(seconds)


def _parse(body: Any, url: str) -> tuple[list[Notice | ParseProblem], str | None]:
    """The page's releases (bounded by :mod:`feeds.limits`) and its next link."""
    if not is_package(body):
        raise FeedFetchError(url, "the response is not an OCDS release package")
    return list(checked(iter_package(body))), _next_link(body)


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
    limits: FetchLimits | None = None,
    deadline: Deadline | None = None,
    observer: FetchObserver | None = None,
    clock: Clock | None = None,
    newest_first_order: bool = False,
) -> AsyncIterator[FeedPage]:
    """Fetch ``url`` and every ``links.next`` after it, yielding parsed pages.

    ``window`` (since/until) is copied into mid-run resume cursors; ``done`` is the resume
    cursor of a window read to its end. The rules for empty pages, the end of the window and
    the time limits are the module docstring's. ``newest_first_order`` sorts each page's
    notices newest first (polling does; ``feed parse`` keeps the input order).
    """
    limits = limits or FetchLimits()
    run = _Run(
        client,
        policy,
        sleep,
        forbidden_means_rate_limit,
        limits,
        deadline or Deadline(limits.poll_seconds, clock or time.monotonic),
        observer,
    )
    visited: set[str] = set()
    current, current_params, number = url, params, 0
    empties, promised = 0, False
    while True:
        number += 1
        full = _full_url(current, current_params)
        visited.add(full)
        try:
            if number > 1:
                await run.pause(full)
            items, next_url = _parse(await run.get(current, current_params), full)
        except FeedFetchError as exc:
            notify(observer, FetchEvent("failed", full, exc.reason))
            raise
        if next_url is not None and not _same_site(next_url, url):
            raise FeedFetchError(full, f"links.next points to another site: {next_url}")
        empty = not items
        empties = empties + 1 if empty else 0
        resume, last, note = _resume_after(
            full, next_url, visited, empty, promised, empties, limits, window, done
        )
        if max_pages is not None and number >= max_pages:
            last = True
        notices = [i for i in items if isinstance(i, Notice)]
        if newest_first_order:
            notices = newest_first(notices)
        notify(observer, FetchEvent("page", full))
        yield FeedPage(
            url=full,
            number=number,
            notices=tuple(notices),
            problems=tuple(i for i in items if isinstance(i, ParseProblem)),
            resume=resume,
            last=last,
        )
        if note:
            log.warning("feed %s: %s", full, note)
            notify(observer, FetchEvent("stopped", full, note))
        elif resume == done and last:
            notify(observer, FetchEvent("done", full))
        if last:
            return
        assert next_url is not None
        promised = True
        current, current_params = next_url, None


def _resume_after(
    full: str,
    next_url: str | None,
    visited: set[str],
    empty: bool,
    promised: bool,
    empties: int,
    limits: FetchLimits,
    window: Cursor,
    done: Cursor,
) -> tuple[Cursor, bool, str | None]:
    """The cursor to save after this page, whether it is the last, and why the poll stops
    early (None when it does not)."""
    mid = Cursor(next_url=next_url, since=window.since, until=window.until)
    if next_url is None:
        if empty and promised:
            again = Cursor(next_url=full, since=window.since, until=window.until)
            return (
                again,
                True,
                (
                    "an empty last page right after a page that linked on: the window may not be "
                    "complete, so the next poll asks for this page again"
                ),
            )
        return done, True, None
    if next_url in visited:
        return done, True, None  # a loop: everything it links to has been read
    if empty and empties >= limits.max_empty_pages:
        return (
            mid,
            True,
            (
                f"{empties} empty pages in a row that still link on; stopped, and the next poll "
                "resumes at the next page"
            ),
        )
    return mid, False, None


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


async def fetch_feed(
    client: httpx.AsyncClient,
    source: FeedSource | str,
    *,
    cursor: Cursor | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lookback: timedelta = timedelta(days=3),
    overlap: timedelta = timedelta(minutes=10),
    limit: int | None = None,
    stages: tuple[str, ...] | list[str] | None = None,
    base_url: str | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
    now: datetime | None = None,
    limits: FetchLimits | None = None,
    observer: FetchObserver | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[FeedPage]:
    """Pages of one source's releases in a time window, resuming from ``cursor``.

    A cursor with ``next_url`` continues that page sequence exactly (and re-reads its window
    if the server no longer accepts the link). Otherwise the window is ``since`` (else
    ``cursor.since``, else ``now - lookback``) to ``until`` (else now), asked for with the
    source's parameters (:func:`feeds.sources.window_query`). When the window is read to its
    end, ``resume.since`` is ``until - overlap``: the overlap re-reads releases indexed late
    rather than risk missing them. ``stages`` is sent only to sources that take it.
    """
    feed = source_named(source) if isinstance(source, str) else source
    if stages and feed.stages_param is None:
        log.info("%s: stages %s are not sent (filtered after parsing)", feed.name, stages)
    limits = limits or FetchLimits()
    common: dict[str, Any] = {
        "policy": policy,
        "sleep": sleep,
        "forbidden_means_rate_limit": feed.forbidden_means_rate_limit,
        "limits": limits,
        "deadline": Deadline(limits.poll_seconds, clock or time.monotonic),
        "observer": observer,
        "newest_first_order": True,
    }
    wanted = tuple(stages) if stages is not None else None

    def fresh(start: datetime, end: datetime) -> AsyncIterator[FeedPage]:
        query = window_query(feed, start, end, limit=limit, stages=wanted)
        return iter_pages(
            client,
            base_url or feed.base_url,
            params=query,
            window=Cursor(since=start, until=end),
            done=Cursor(since=end - overlap),
            **common,
        )

    if cursor is not None and cursor.next_url:
        end = cursor.until or now or datetime.now(UTC)
        start = cursor.since or end - lookback
        pages = iter_pages(
            client,
            cursor.next_url,
            window=Cursor(since=cursor.since, until=cursor.until),
            done=Cursor(since=end - overlap),
            **common,
        )
        try:
            first = await anext(pages)
        except StopAsyncIteration:
            return
        except FeedFetchError as exc:
            if exc.status not in _STALE_LINK_STATUSES:
                raise
            log.warning(
                "%s: the saved page link was refused (%s); re-reading its window", feed.name, exc
            )
            notify(observer, FetchEvent("fetching", cursor.next_url, "saved link expired"))
            async for page in fresh(start, until or now or datetime.now(UTC)):
                yield page
            return
        yield first
        async for page in pages:
            yield page
        return
    start, end = plan_window(cursor, since=since, until=until, lookback=lookback, now=now)
    async for page in fresh(start, end):
        yield page


async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
    max_pages: int | None = None,
    limits: FetchLimits | None = None,
    observer: FetchObserver | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[FeedPage]:
    """Pages from any OCDS package URL (``bestbot feed parse https://...``), following links.next.

    A known source's host gets its quirks (Contracts Finder's 403 means rate limited).
    """
    source = source_for_url(url)
    async for page in iter_pages(
        client,
        url,
        policy=policy,
        sleep=sleep,
        forbidden_means_rate_limit=bool(source and source.forbidden_means_rate_limit),
        max_pages=max_pages,
        limits=limits,
        observer=observer,
        clock=clock,
    ):
        yield page
