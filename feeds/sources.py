"""The feed-source table: what differs between the UK OCDS APIs, in one place.

Find a Tender and Contracts Finder serve the same thing (OCDS release packages, paged by
``links.next``) and differ only in details: the URL, the names of the date parameters, the
time zone those naive dates are read in, the ``stages`` filter, and how rate limiting is
answered. Each :class:`FeedSource` row states those details; :func:`feeds.paging.fetch_feed`
is the one fetch that uses them.

**Time zones.** Both APIs take ``YYYY-MM-DDTHH:MM:SS`` without an offset. Find a Tender reads
it as UK local time (BST in summer): measured by another client on 2026-10-07 (a BST
request for 10:00-11:00 returned notices dated 10:05-10:57+01:00) and consistent with our
bundled 2026-10-06 page. So :func:`wall_clock_window` sends ``Europe/London`` wall-clock time,
widened so that the window covers the intended UTC instants whichever offset the server
applies at either end: across the October change (01:00-02:00 happens twice) and the March
change (01:00-02:00 never happens) the window grows by up to an hour instead of risking a
gap. Contracts Finder documents "ISO 8601" and nothing about the zone; without evidence that
it reads naive times as London time it keeps receiving UTC (see docs/feeds.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

#: Both APIs cap ``limit`` at 100.
MAX_LIMIT = 100
#: Clock changes move an offset by at most this much (UK: one hour).
_LARGEST_SHIFT = timedelta(hours=2)
#: UK offsets last months; sampling daily inside a window finds every change in it.
_SAMPLE_STEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One OCDS API and its quirks (a row of :data:`SOURCES`)."""

    #: The feed kind, also the ``source`` of its notices (``bot.config`` ``kind``).
    name: str
    title: str
    base_url: str
    #: Query parameters for the window's start and end.
    from_param: str
    to_param: str
    #: IANA zone the API reads its naive date parameters in.
    zone: str
    #: Largest ``limit`` the API accepts.
    max_limit: int = MAX_LIMIT
    #: Name of the stages filter parameter, or None: the API's filter is not used.
    stages_param: str | None = None
    default_stages: tuple[str, ...] = ()
    #: HTTP 403 means "rate limited, wait" (RetryPolicy.forbidden_wait), not "forbidden".
    forbidden_means_rate_limit: bool = False
    #: Hosts whose URLs belong to this source (``feed parse URL`` picks its quirks by host).
    hosts: tuple[str, ...] = ()


FIND_A_TENDER = FeedSource(
    name="find_a_tender",
    title="Find a Tender",
    base_url="https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages",
    from_param="updatedFrom",
    to_param="updatedTo",
    zone="Europe/London",
    # FTS documents ``stages`` too, but another client reports it drops notices; stages are
    # filtered after parsing instead, so it is never sent.
    stages_param=None,
    hosts=("www.find-tender.service.gov.uk", "find-tender.service.gov.uk"),
)

CONTRACTS_FINDER = FeedSource(
    name="contracts_finder",
    title="Contracts Finder",
    base_url="https://www.contractsfinder.service.gov.uk/Published/Notices/OCDS/Search",
    from_param="publishedFrom",
    to_param="publishedTo",
    zone="UTC",
    stages_param="stages",
    default_stages=("planning", "tender", "award"),
    forbidden_means_rate_limit=True,
    hosts=("www.contractsfinder.service.gov.uk", "contractsfinder.service.gov.uk"),
)

SOURCES: dict[str, FeedSource] = {s.name: s for s in (FIND_A_TENDER, CONTRACTS_FINDER)}


def source_named(name: str) -> FeedSource:
    """The table row for a feed kind; ValueError names the kinds there are."""
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"unknown feed source {name!r} (known: {known})") from None


def source_for_url(url: str) -> FeedSource | None:
    """The source whose host serves ``url`` (so ``feed parse URL`` gets its quirks)."""
    host = (urlsplit(url).hostname or "").lower()
    for source in SOURCES.values():
        if host in source.hosts:
            return source
    return None


def _offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[timedelta]:
    """Every UTC offset ``zone`` uses from ``start`` to ``end`` (widened by the largest
    shift, so a wall time near either edge is read with an offset that is in the list)."""
    first, last = start - _LARGEST_SHIFT, end + _LARGEST_SHIFT
    found: set[timedelta] = set()
    moment = first
    while moment < last:
        found.add(moment.astimezone(zone).utcoffset() or timedelta(0))
        moment += _SAMPLE_STEP
    found.add(last.astimezone(zone).utcoffset() or timedelta(0))
    return sorted(found)


def _wall(moment: datetime, *, up: bool) -> str:
    """A naive instant as ``YYYY-MM-DDTHH:MM:SS``, rounded down (``up``: up) to the second."""
    whole = moment.replace(microsecond=0)
    if up and whole != moment:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%S")


def _utc(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def wall_clock_window(start: datetime, end: datetime, zone: str) -> tuple[str, str]:
    """Naive ``from``/``to`` strings that cover ``[start, end]`` however ``zone`` is applied.

    The server turns a wall time ``w`` into the instant ``w - offset`` for some offset the
    zone uses near that time (for a repeated or skipped wall time, either of two). Sending
    ``from = start + smallest offset`` and ``to = end + largest offset`` (over the window and
    an edge margin) makes every reading start no later than ``start`` and end no earlier than
    ``end``. Within one offset this is the plain local time; across a clock change the window
    grows by the shift (an hour) instead of opening a gap.
    """
    start, end = _utc(start), _utc(end)
    offsets = _offsets(ZoneInfo(zone), start, end)
    naive_start = start.replace(tzinfo=None) + offsets[0]
    naive_end = end.replace(tzinfo=None) + offsets[-1]
    return _wall(naive_start, up=False), _wall(naive_end, up=True)


def window_query(
    source: FeedSource,
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
    stages: tuple[str, ...] | None = None,
) -> dict[str, str | int]:
    """The query of a fresh window: dates in the source's zone, limit, and stages if it has them."""
    wall_from, wall_to = wall_clock_window(start, end, source.zone)
    wanted = source.max_limit if limit is None else limit
    query: dict[str, str | int] = {
        source.from_param: wall_from,
        source.to_param: wall_to,
        "limit": max(1, min(int(wanted), source.max_limit)),
    }
    chosen = source.default_stages if stages is None else stages
    if source.stages_param and chosen:
        query[source.stages_param] = ",".join(chosen)
    return query
