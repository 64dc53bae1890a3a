"""A local HTTP server replaying real OCDS release packages, with scripted faults.

It serves the two UK feeds in their own URL shapes:

* Find a Tender: ``GET /api/1.0/ocdsReleasePackages?updatedFrom=&updatedTo=&limit=&cursor=``
  and ``GET /api/1.0/ocdsReleasePackages/{noticeId}``
* Contracts Finder: ``GET /Published/Notices/OCDS/Search?publishedFrom=&publishedTo=&limit=
  &cursor=``

Releases come from files in ``feeds/samples/`` (unchanged), are split into pages of
``page_size`` (or the client's smaller ``limit``) and linked by ``links.next`` URLs carrying an
opaque base64 ``cursor`` shaped like the real ones. The last page has no ``links``.

Faults are consumed in order, one per request (optionally only for one feed): an HTTP status
(429 with ``Retry-After``, 403, 500, 503...), a delay before answering, a body cut short
(invalid JSON, consistent length), a connection dropped mid-body, a body dripped a few bytes at
a time for ever, a huge gzip-encoded body, an empty page (with or without ``links.next``), or any
other body.

Like the real Find a Tender API, the date parameters carry no offset and are read as
``Europe/London`` wall-clock time (``fts_zone``); Contracts Finder's are read as UTC unless they
carry an offset (``cf_zone``). Each request records the window it was read as
(:attr:`FeedRequest.window`, aware UTC datetimes), so tests can check what a client asked for.
A wall-clock time that happens twice (the October clock change) is read as its first
occurrence unless ``fold=1``; a time that never happens (March) is read with the offset before
the change, as :mod:`zoneinfo` does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web

SAMPLES = Path(__file__).resolve().parents[2] / "feeds" / "samples"
FTS_PATH = "/api/1.0/ocdsReleasePackages"
CF_PATH = "/Published/Notices/OCDS/Search"
DEFAULT_FTS_FILES = (
    "fts_release_package_2026-10-06_limit4.json",
    "fts_032703-2026_UK4_tender.json",
    "fts_037689-2026_UK1_pipeline.json",
)
DEFAULT_CF_FILES = ("cf_ocds_search_2025-01-20_to_2025-01-23_page1.json",)
Source = Literal["fts", "cf"]
JSON = dict[str, Any]
_DATE_PARAMS: dict[str, tuple[str, str]] = {
    "fts": ("updatedFrom", "updatedTo"),
    "cf": ("publishedFrom", "publishedTo"),
}


@dataclass
class Fault:
    """One scripted misbehaviour; build with the class methods."""

    kind: Literal[
        "ok",
        "status",
        "delay",
        "truncate",
        "disconnect",
        "body",
        "drip",
        "huge",
        "empty",
        "empty_end",
    ]
    status: int = 200
    retry_after: str | None = None
    seconds: float = 0.0
    body: str = ""
    content_type: str = "application/json"
    source: Source | None = None  # only requests to this feed consume it
    size: int = 0

    @classmethod
    def ok(cls, *, source: Source | None = None) -> Fault:
        """Answer normally: a placeholder so a later fault hits a later request."""
        return cls("ok", source=source)

    @classmethod
    def http(
        cls,
        status: int,
        *,
        retry_after: float | str | None = None,
        body: str | None = None,
        source: Source | None = None,
    ) -> Fault:
        """Answer ``status`` (with a ``Retry-After`` header if given) instead of the page."""
        text = body if body is not None else json.dumps({"error": f"HTTP {status}"})
        ra = None if retry_after is None else str(retry_after)
        return cls("status", status=status, retry_after=ra, body=text, source=source)

    @classmethod
    def delay(cls, seconds: float, *, source: Source | None = None) -> Fault:
        """Wait ``seconds`` before answering normally (longer than the client's timeout)."""
        return cls("delay", seconds=seconds, source=source)

    @classmethod
    def truncated(cls, *, source: Source | None = None) -> Fault:
        """Answer 200 with the first half of the page: a complete response of invalid JSON."""
        return cls("truncate", source=source)

    @classmethod
    def disconnect(cls, *, source: Source | None = None) -> Fault:
        """Announce the full Content-Length, send half the page, drop the connection."""
        return cls("disconnect", source=source)

    @classmethod
    def drip(cls, seconds: float = 0.05, *, source: Source | None = None) -> Fault:
        """Answer 200 and send the page one byte every ``seconds``, padded so it never ends
        before the client gives up (a server that keeps a connection alive by trickling)."""
        return cls("drip", seconds=seconds, source=source)

    @classmethod
    def huge(cls, decoded_bytes: int, *, source: Source | None = None) -> Fault:
        """Answer 200 with a valid package padded to ``decoded_bytes`` of JSON, gzip-encoded
        (a few hundred KB on the wire for tens of MB decoded), streamed as it is compressed."""
        return cls("huge", size=decoded_bytes, source=source)

    @classmethod
    def empty_page(cls, *, next_link: bool = True, source: Source | None = None) -> Fault:
        """Answer with no releases. With ``next_link`` the page still links to the releases it
        would have served (a fresh cursor at the same offset), as a server that filters a page
        after paging does; without, it claims to be the last page."""
        return cls("empty" if next_link else "empty_end", source=source)

    @classmethod
    def raw(
        cls,
        status: int,
        body: str,
        content_type: str = "text/html",
        *,
        source: Source | None = None,
    ) -> Fault:
        """Any other answer, e.g. a 200 HTML maintenance page."""
        return cls("body", status=status, body=body, content_type=content_type, source=source)


Window = tuple[datetime | None, datetime | None]


@dataclass
class FeedRequest:
    source: Source
    path: str
    query: dict[str, str]
    status: int
    fault: str | None
    at: float = field(default_factory=time.monotonic)
    #: The date parameters as this server read them (aware, UTC); None where absent/unreadable.
    window: Window = (None, None)
    #: The answer linked a next page (the client's poll goes on).
    more: bool = False


def encode_cursor(query: dict[str, str], offset: int, *, serial: int = 0) -> str:
    parts = [f"{k}={v}" for k, v in query.items() if k != "cursor"]
    if serial:
        parts.append(f"serial={serial}")  # two cursors at one offset differ, as real ones do
    return base64.b64encode("|".join([*parts, f"nextCursor={offset}"]).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The release offset in a cursor made by :func:`encode_cursor`; ValueError if invalid."""
    text = base64.b64decode(cursor.encode(), validate=True).decode()
    last = text.rsplit("|", 1)[-1]
    if not last.startswith("nextCursor="):
        raise ValueError(cursor)
    return int(last[len("nextCursor=") :])


def read_wall_time(value: str, zone: ZoneInfo, fold: int = 0) -> datetime | None:
    """A date parameter as an aware UTC instant: its own offset if it has one, else ``zone``."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone, fold=fold)
    return parsed.astimezone(UTC)


def _load(files: Iterable[str | Path], samples_dir: Path) -> tuple[JSON, list[JSON]]:
    meta: JSON = {}
    releases: list[JSON] = []
    for name in files:
        path = Path(name) if Path(name).is_absolute() else samples_dir / name
        package = json.loads(path.read_text(encoding="utf-8"))
        if not meta:
            meta = {k: v for k, v in package.items() if k not in {"releases", "links"}}
        releases.extend(package["releases"])
    return meta, releases


def _release_date(release: JSON) -> datetime | None:
    """A release's own ``date`` (always with an offset in the real feeds; UTC if not)."""
    return read_wall_time(str(release.get("date", "")), ZoneInfo("UTC"))


class FeedServer:
    """The feed server. ``async with FeedServer() as feed`` or the ``feed_server`` fixture."""

    def __init__(
        self,
        *,
        fts_files: Sequence[str | Path] = DEFAULT_FTS_FILES,
        cf_files: Sequence[str | Path] = DEFAULT_CF_FILES,
        fts_page_size: int = 2,
        cf_page_size: int = 25,
        samples_dir: Path = SAMPLES,
        filter_by_date: bool = False,
        fts_zone: str = "Europe/London",
        cf_zone: str = "UTC",
        fold: int = 0,
        gzip: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        fts_meta, fts = _load(fts_files, samples_dir)
        cf_meta, cf = _load(cf_files, samples_dir)
        self.meta: dict[Source, JSON] = {"fts": fts_meta, "cf": cf_meta}
        self.releases: dict[Source, list[JSON]] = {"fts": fts, "cf": cf}
        self.page_size: dict[Source, int] = {"fts": fts_page_size, "cf": cf_page_size}
        self.filter_by_date = filter_by_date
        self.zones: dict[Source, ZoneInfo] = {"fts": ZoneInfo(fts_zone), "cf": ZoneInfo(cf_zone)}
        self.fold = fold
        self.gzip = gzip
        self._serial = 0
        self.faults: list[Fault] = []
        self.requests: list[FeedRequest] = []
        #: Seconds every page takes to answer (a real API is not instant): gives two clients
        #: polling one feed at once the time to meet in :attr:`max_in_flight`.
        self.latency = 0.0
        self.in_flight: dict[Source, int] = {"fts": 0, "cf": 0}
        #: The most requests to one feed ever answered at the same time.
        self.max_in_flight: dict[Source, int] = {"fts": 0, "cf": 0}
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Server root: stands in for ``https://www.find-tender.service.gov.uk`` and
        ``https://www.contractsfinder.service.gov.uk``."""
        return f"http://{self.host}:{self.port}"

    @property
    def fts_url(self) -> str:
        return self.url + FTS_PATH

    @property
    def cf_url(self) -> str:
        return self.url + CF_PATH

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_get(FTS_PATH, self._fts)
        app.router.add_get(FTS_PATH + "/{notice}", self._fts_notice)
        app.router.add_get(CF_PATH, self._cf)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._closing.set()  # cut scripted delays short so no handler outlives the server
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeedServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- scripting ---------------------------------------------------------------------------

    def script(self, *faults: Fault) -> None:
        """Append faults; each later request consumes the first one that applies to it."""
        self.faults.extend(faults)

    def add_release(self, source: Source, release: JSON) -> None:
        """A new release appears in a feed (appended, i.e. on the last page)."""
        self.releases[source].append(release)

    def pages(self, source: Source) -> int:
        size = self.page_size[source]
        return max(1, -(-len(self.releases[source]) // size))

    def requests_to(self, source: Source) -> list[FeedRequest]:
        return [r for r in self.requests if r.source == source]

    def overlapping_polls(self, source: Source) -> int:
        """How many polls of ``source`` began while another was still reading it: a poll is
        a request without a cursor, then the pages it links to, up to the page that links to
        none (so a poll cut short by a fault also counts as overlapped by the next)."""
        overlaps, open_poll = 0, False
        for request in self.requests_to(source):
            if "cursor" not in request.query and open_poll:
                overlaps += 1
            open_poll = request.more
        return overlaps

    def windows(self, source: Source) -> list[Window]:
        """The windows of the requests that opened a window (not those following a cursor)."""
        return [r.window for r in self.requests_to(source) if "cursor" not in r.query]

    def window_of(self, source: Source, query: dict[str, str]) -> Window:
        lo_name, hi_name = _DATE_PARAMS[source]
        zone = self.zones[source]
        lo = query.get(lo_name)
        hi = query.get(hi_name)
        return (
            read_wall_time(lo, zone, self.fold) if lo else None,
            read_wall_time(hi, zone, self.fold) if hi else None,
        )

    # --- handlers ----------------------------------------------------------------------------

    async def _fts(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "fts")

    async def _cf(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "cf")

    async def _fts_notice(self, request: web.Request) -> web.StreamResponse:
        notice = request.match_info["notice"]
        found = [
            r
            for r in self.releases["fts"]
            if r.get("id", "").startswith(notice) or r.get("ocid", "").endswith(notice)
        ]
        body: JSON | None = None
        if found:
            body = {**copy.deepcopy(self.meta["fts"]), "uri": str(request.url), "releases": found}
        return await self._answer(request, "fts", body)

    def _take_fault(self, source: Source) -> Fault | None:
        for fault in self.faults:
            if fault.source in (None, source):
                self.faults.remove(fault)
                return fault
        return None

    def _page(self, request: web.Request, source: Source) -> JSON:
        query = dict(request.query)
        releases = self.releases[source]
        if self.filter_by_date:
            lo, hi = self.window_of(source, query)
            kept = []
            for r in releases:
                when = _release_date(r)
                if when is None or (lo and when < lo) or (hi and when > hi):
                    continue
                kept.append(r)
            releases = kept
        size = self.page_size[source]
        if query.get("limit", "").isdigit():
            size = max(1, min(size, int(query["limit"])))
        offset = decode_cursor(query["cursor"]) if "cursor" in query else 0
        package: JSON = copy.deepcopy(self.meta[source])
        package["uri"] = str(request.url)
        package["releases"] = releases[offset : offset + size]
        if offset + size < len(releases):
            package["links"] = {"next": self._next_link(source, query, offset + size)}
        return package

    def _next_link(self, source: Source, query: dict[str, str], offset: int) -> str:
        base = {k: v for k, v in query.items() if k != "cursor"}
        qs = "&".join(f"{k}={v}" for k, v in base.items())
        path = FTS_PATH if source == "fts" else CF_PATH
        sep = "&" if qs else ""
        self._serial += 1
        cursor = encode_cursor(base, offset, serial=self._serial)
        return f"{self.url}{path}?{qs}{sep}cursor={cursor}"

    def _offset(self, request: web.Request) -> int:
        cursor = request.query.get("cursor")
        return decode_cursor(cursor) if cursor else 0

    async def _serve(self, request: web.Request, source: Source) -> web.StreamResponse:
        self.in_flight[source] += 1
        self.max_in_flight[source] = max(self.max_in_flight[source], self.in_flight[source])
        try:
            if self.latency:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.latency)
            try:
                body = self._page(request, source)
            except ValueError:
                self._record(request, source, 400, None)
                return web.json_response({"error": "Invalid cursor"}, status=400)
            return await self._answer(request, source, body)
        finally:
            self.in_flight[source] -= 1

    async def _answer(
        self, request: web.Request, source: Source, body: JSON | None
    ) -> web.StreamResponse:
        fault = self._take_fault(source)
        if fault is not None and fault.kind == "ok":
            fault = None
        if body is None and fault is None:
            self._record(request, source, 404, None)
            return web.json_response({"error": "Not found"}, status=404)
        if fault is not None and fault.kind in ("empty", "empty_end") and body is not None:
            body = dict(body, releases=[])
            body.pop("links", None)
            if fault.kind == "empty":
                query = dict(request.query)
                body["links"] = {"next": self._next_link(source, query, self._offset(request))}
        payload = json.dumps(body).encode()
        if fault is None or fault.kind in ("empty", "empty_end"):
            more = body is not None and "links" in body
            self._record(request, source, 200, fault.kind if fault else None, more=more)
            return self._json(payload)
        self._record(request, source, fault.status, fault.kind)
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return web.Response(
                status=fault.status,
                text=fault.body,
                content_type=fault.content_type,
                headers=headers,
            )
        if fault.kind == "body":
            return web.Response(
                status=fault.status, text=fault.body, content_type=fault.content_type
            )
        if fault.kind == "delay":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.seconds)
            return web.Response(body=payload, content_type="application/json")
        if fault.kind == "truncate":
            return web.Response(body=payload[: len(payload) // 2], content_type="application/json")
        if fault.kind == "drip":
            return await self._drip(request, payload, fault.seconds)
        if fault.kind == "huge":
            return await self._huge(request, payload, fault.size)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(payload)
        await response.prepare(request)
        await response.write(payload[: len(payload) // 2])
        if request.transport is not None:
            request.transport.close()
        return response

    def _json(self, payload: bytes) -> web.Response:
        if not self.gzip:
            return web.Response(body=payload, content_type="application/json")
        return web.Response(
            body=_gzip(payload),
            content_type="application/json",
            headers={"Content-Encoding": "gzip"},
        )

    async def _drip(
        self, request: web.Request, payload: bytes, seconds: float
    ) -> web.StreamResponse:
        """One byte per ``seconds``: whitespace first (valid JSON padding), so the page never
        completes while anyone is still waiting for it."""
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            while not self._closing.is_set():
                await response.write(b" ")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), seconds)
            await response.write(payload)
        return response

    async def _huge(self, request: web.Request, payload: bytes, size: int) -> web.StreamResponse:
        """``payload`` with whitespace before its closing brace up to ``size`` bytes, gzipped on
        the fly in 1 MB steps so the server never holds the decoded body."""
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )
        await response.prepare(request)
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        head, tail = payload[:-1], payload[-1:]
        padding = max(0, size - len(payload))
        step = b" " * (1 << 20)
        with contextlib.suppress(ConnectionError):
            await response.write(compressor.compress(head))
            while padding > 0 and not self._closing.is_set():
                chunk = step[: min(padding, len(step))]
                padding -= len(chunk)
                out = compressor.compress(chunk)
                if out:
                    await response.write(out)
            await response.write(compressor.compress(tail) + compressor.flush())
        return response

    def _record(
        self,
        request: web.Request,
        source: Source,
        status: int,
        fault: str | None,
        *,
        more: bool = False,
    ) -> None:
        query = dict(request.query)
        self.requests.append(
            FeedRequest(
                source,
                request.path,
                query,
                status,
                fault,
                window=self.window_of(source, query),
                more=more,
            )
        )


def _gzip(payload: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(payload) + compressor.flush()
