"""One careful HTTP GET for feed APIs: limits, retries, back-off, Retry-After.

The feed APIs are slow, rate-limited and occasionally return half a body, and a
poll runs unattended, so every request goes through :func:`get_json`:

* ``429`` and ``503`` wait for ``Retry-After`` (seconds or an HTTP date,
  capped at :attr:`RetryPolicy.max_retry_after`, with a warning when capped), else back off;
* ``403`` from Contracts Finder means "rate limited, wait 5 minutes"
  (``forbidden_means_rate_limit=True``);
* other ``5xx``, timeouts, transport errors and bodies that are not complete
  JSON (an HTML maintenance page included) are retried with exponential back-off and jitter;
* other ``4xx`` are not retried (asking again will not help);
* after :attr:`RetryPolicy.max_attempts` attempts, :class:`FeedFetchError`
  names the URL and the last reason.

Limits (:class:`FetchLimits`) keep one fetch from hanging or eating the machine: each request
has an overall deadline (connect, headers and the whole body: a server that drips a byte a
second defeats socket timeouts, not this), a poll has a deadline shared by every request and
wait in it (:class:`Deadline`), and the body is decoded in a stream and refused past
``max_body_bytes`` (a 300 KB gzip body can inflate to gigabytes). A wait that would pass the
poll's deadline is not started: the fetch fails with the reason and the next poll resumes.

Waiting goes through an injected ``sleep`` coroutine function and the deadline through an
injected monotonic ``clock``, so tests record delays instead of sleeping; the client is
injected so tests can use ``httpx.MockTransport`` or a local server. Each step is reported to
an optional observer (:mod:`feeds.status`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from feeds.errors import FeedFetchError
from feeds.status import FetchEvent, FetchObserver, notify

log = logging.getLogger(__name__)

USER_AGENT = "bestbot/0.1 (+https://github.com/seem/bestbot)"
#: Socket-level timeouts; the overall per-request deadline is FetchLimits.request_seconds.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: We decode these ourselves, in a bounded stream; asking for nothing else keeps it so.
ACCEPT_ENCODING = "gzip, deflate"

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. One attempt budget covers every kind of failure."""

    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 120.0
    #: Longest Retry-After we obey; a server asking for hours is treated as this (and logged).
    max_retry_after: float = 900.0
    #: Contracts Finder's documented answer to "too many requests" is 403 + wait 5 minutes.
    forbidden_wait: float = 300.0
    #: Back-off delays are spread over [delay * (1 - jitter), delay].
    jitter: float = 0.5


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Bounds on one fetch, so no server can hang a poll or exhaust memory.

    ``request_seconds`` bounds each request from connect to last body byte; ``poll_seconds``
    bounds one poll (every request, retry wait and pause in it); ``max_body_bytes`` bounds a
    page's *decoded* size (a full page of 100 releases is about 0.7 MB, so 20 MB is ~30x);
    ``page_pause`` is the pause between pages (Find a Tender asks clients to be gentle);
    ``max_empty_pages`` stops a poll after that many empty pages in a row that still link on.
    """

    request_seconds: float = 30.0
    poll_seconds: float = 600.0
    max_body_bytes: int = 20 * 1024 * 1024
    page_pause: float = 1.0
    max_empty_pages: int = 20


class Deadline:
    """A point in monotonic time that a whole poll must finish by."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._at = clock() + seconds

    def remaining(self) -> float:
        return self._at - self._clock()

    def out_of_time(self, url: str, doing: str = "") -> FeedFetchError:
        """The error a fetch raises when this deadline is spent."""
        what = f" {doing}" if doing else ""
        return FeedFetchError(
            url,
            f"this poll's time limit ({self.seconds:g} s) ran out{what}; "
            "the next poll resumes where this one stopped",
        )


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``AsyncClient`` with our User-Agent and timeouts (callers own and close it)."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("follow_redirects", True)
    return httpx.AsyncClient(headers=headers, **kwargs)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential back-off with jitter: attempt 1 → ~base, doubling, capped."""
    delay = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
    return delay * (1 - policy.jitter * rng.random())


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (``"120"`` or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: str
    retry: bool
    delay: float | None = None  # None: use back-off
    asked: float | None = None  # the server's Retry-After before the cap
    status: int | None = None
    timed_out: bool = False


def _rate_limited(
    response: httpx.Response, reason: str, policy: RetryPolicy, default: float | None
) -> _Failure:
    asked = parse_retry_after(response.headers.get("Retry-After"))
    wait = default if asked is None else asked
    delay = None if wait is None else min(wait, policy.max_retry_after)
    return _Failure(reason, True, delay, asked, response.status_code)


def _classify(
    response: httpx.Response, policy: RetryPolicy, forbidden_means_rate_limit: bool
) -> _Failure:
    status = response.status_code
    if status in (429, 503):
        return _rate_limited(response, f"HTTP {status} (rate limited or unavailable)", policy, None)
    if status == 403 and forbidden_means_rate_limit:
        return _rate_limited(response, "HTTP 403 (rate limited)", policy, policy.forbidden_wait)
    if status >= 500:
        return _Failure(f"HTTP {status}", True, status=status)
    return _Failure(f"HTTP {status}", False, status=status)


class _TooLarge(Exception):
    pass


def _too_large(cap: int) -> _TooLarge:
    return _TooLarge(
        f"the response is larger than {cap / 1048576:g} MB once decoded; refused "
        "(a full page is under 1 MB: the server is misbehaving, or raise "
        "FetchLimits.max_body_bytes if such pages are expected)"
    )


class _Inflater:
    """Decode a gzip/deflate/identity body chunk by chunk, never holding more than ``cap``.

    ``zlib``'s ``max_length`` bounds each step's output, so a small body that inflates to
    gigabytes is refused after ``cap`` bytes instead of after the damage.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        self.encoding = encoding
        self.cap = cap
        self.total = 0
        self._raw_deflate = False
        self._inflate = self._new()

    def _new(self) -> Any:
        if self.encoding == "identity":
            return None
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def _count(self, piece: bytes) -> bytes:
        self.total += len(piece)
        if self.total > self.cap:
            raise _too_large(self.cap)
        return piece

    def feed(self, data: bytes) -> list[bytes]:
        if self._inflate is None:
            return [self._count(data)]
        out: list[bytes] = []
        while data:
            try:
                piece = self._inflate.decompress(data, self.cap - self.total + 1)
            except zlib.error:
                if self.encoding == "deflate" and not self._raw_deflate and self.total == 0:
                    self._raw_deflate = True  # some servers send raw deflate without a header
                    self._inflate = self._new()
                    continue
                raise
            out.append(self._count(piece))
            data = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:
                data = self._inflate.unused_data + data  # another gzip member follows
                self._inflate = self._new()
        return out


def _content_encoding(response: httpx.Response) -> str | None:
    """``identity``, ``gzip`` or ``deflate``; None for anything else (httpx decodes it)."""
    value = response.headers.get("Content-Encoding", "").strip().lower()
    if value in ("", "identity"):
        return "identity"
    if value in ("gzip", "x-gzip"):
        return "gzip"
    if value == "deflate":
        return "deflate"
    return None


async def _read_body(response: httpx.Response, cap: int) -> bytes:
    """The decoded body, streamed and refused past ``cap`` bytes."""
    try:
        ready = response.content  # an in-memory response (httpx.MockTransport) is already read
    except httpx.ResponseNotRead:
        pass
    else:
        if len(ready) > cap:
            raise _too_large(cap)
        return ready
    encoding = _content_encoding(response)
    declared = response.headers.get("Content-Length", "")
    if encoding == "identity" and declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    chunks: list[bytes] = []
    if encoding is None:  # an encoding we did not ask for: httpx decodes, we still count
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > cap:
                raise _too_large(cap)
            chunks.append(chunk)
        return b"".join(chunks)
    inflater = _Inflater(encoding, cap)
    async for raw in response.aiter_raw():
        chunks.extend(inflater.feed(raw))
    return b"".join(chunks)


def _decode_json(data: bytes, content_type: str) -> tuple[Any, None] | tuple[None, _Failure]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return json.loads(data), None
    except RecursionError:
        return None, _Failure("the JSON is nested too deeply to read", False)
    except (ValueError, UnicodeDecodeError):
        pass
    if "html" in content_type.lower() or data.lstrip()[:1] == b"<":
        return None, _Failure(
            "the server sent an HTML page, not JSON (a maintenance page, "
            "or the address is not an OCDS API)",
            True,
        )
    return None, _Failure("truncated or invalid JSON body", True)


async def _attempt(
    client: httpx.AsyncClient,
    url: str,
    params: Params | None,
    policy: RetryPolicy,
    forbidden_means_rate_limit: bool,
    max_body_bytes: int,
    budget: float,
) -> tuple[Any, None] | tuple[None, _Failure]:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
    try:
        async with asyncio.timeout(budget):
            async with client.stream("GET", url, params=params, headers=headers) as response:
                if response.status_code != 200:
                    return None, _classify(response, policy, forbidden_means_rate_limit)
                data = await _read_body(response, max_body_bytes)
                content_type = response.headers.get("Content-Type", "")
    except TimeoutError:
        return None, _Failure(f"no complete answer within {budget:g} s", True, timed_out=True)
    except httpx.TimeoutException:
        return None, _Failure("timed out", True)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return None, _Failure(f"not a usable http(s) address ({exc})", False)
    except httpx.TransportError as exc:
        return None, _Failure(f"connection error ({type(exc).__name__})", True)
    except _TooLarge as exc:
        return None, _Failure(str(exc), False)
    except zlib.error:
        return None, _Failure("the compressed body is corrupt", True)
    return _decode_json(data, content_type)


def _wait_for(
    failure: _Failure, attempt: int, policy: RetryPolicy, rng: random.Random, url: str
) -> float:
    if failure.delay is None:
        return backoff_delay(attempt, policy, rng)
    if failure.asked is not None and failure.asked > policy.max_retry_after:
        log.warning(
            "feed GET %s: the server asked to wait %.0f s (Retry-After); "
            "waiting the %.0f s cap instead",
            url,
            failure.asked,
            policy.max_retry_after,
        )
    return failure.delay


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: Params | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    forbidden_means_rate_limit: bool = False,
    limits: FetchLimits | None = None,
    deadline: Deadline | None = None,
    observer: FetchObserver | None = None,
) -> Any:
    """GET ``url`` and decode its JSON body, retrying as described in the module docstring.

    ``deadline`` is the poll's (shared by its requests); without one only the per-request
    limit applies. ``observer`` hears ``fetching`` and ``waiting`` events.
    """
    policy = policy or RetryPolicy()
    limits = limits or FetchLimits()
    rng = rng or random.Random()
    reason, status = "no attempt made", None
    for attempt in range(1, policy.max_attempts + 1):
        budget = limits.request_seconds
        if deadline is not None:
            if deadline.remaining() <= 0:
                raise deadline.out_of_time(url)
            budget = min(budget, deadline.remaining())
        notify(observer, FetchEvent("fetching", url))
        body, failure = await _attempt(
            client, url, params, policy, forbidden_means_rate_limit, limits.max_body_bytes, budget
        )
        if failure is None:
            return body
        reason, status = failure.reason, failure.status
        if failure.timed_out and budget < limits.request_seconds and deadline is not None:
            raise deadline.out_of_time(url, "during a request")
        if not failure.retry:
            raise FeedFetchError(url, reason, status=status)
        if attempt == policy.max_attempts:
            break
        delay = _wait_for(failure, attempt, policy, rng, url)
        if deadline is not None and delay > deadline.remaining():
            raise FeedFetchError(
                url,
                f"{reason}; waiting {delay:.0f} s would pass this poll's time limit "
                f"({deadline.seconds:g} s), so the next poll resumes here",
                status=status,
            )
        log.warning(
            "feed GET %s failed (%s), attempt %d/%d, retrying in %.1fs",
            url,
            reason,
            attempt,
            policy.max_attempts,
            delay,
        )
        notify(observer, FetchEvent.waiting(url, delay, reason))
        await sleep(delay)
    raise FeedFetchError(
        url, f"{reason}; gave up after {policy.max_attempts} attempts", status=status
    )
