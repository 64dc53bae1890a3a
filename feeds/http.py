"""One careful HTTP GET for feed APIs: timeouts, retries, back-off, Retry-After.

The feed APIs are slow, rate-limited and occasionally return half a body, and a
poll runs unattended, so every request goes through :func:`get_json`:

* ``429`` and ``503`` wait for ``Retry-After`` (seconds or an HTTP date,
  capped at :attr:`RetryPolicy.max_retry_after`), else back off;
* ``403`` from Contracts Finder means "rate limited, wait 5 minutes"
  (``forbidden_means_rate_limit=True``);
* other ``5xx``, timeouts, transport errors and bodies that are not complete
  JSON are retried with exponential back-off and jitter;
* other ``4xx`` are not retried (asking again will not help);
* after :attr:`RetryPolicy.max_attempts` attempts, :class:`FeedFetchError`
  names the URL and the last reason.

Waiting goes through an injected ``sleep`` coroutine function so tests can
record the delays instead of sleeping, and the client is injected so tests can
use ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from feeds.errors import FeedFetchError

log = logging.getLogger(__name__)

USER_AGENT = "bestbot/0.1 (+https://github.com/seem/bestbot)"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=15.0)

Sleep = Callable[[float], Awaitable[None]]
Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. One attempt budget covers every kind of failure."""

    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 120.0
    #: Longest Retry-After we obey; a server asking for hours is treated as this.
    max_retry_after: float = 900.0
    #: Contracts Finder's documented answer to "too many requests" is 403 + wait 5 minutes.
    forbidden_wait: float = 300.0
    #: Back-off delays are spread over [delay * (1 - jitter), delay].
    jitter: float = 0.5


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


def _classify(
    response: httpx.Response, policy: RetryPolicy, forbidden_means_rate_limit: bool
) -> _Failure:
    status = response.status_code
    if status in (429, 503):
        wait = parse_retry_after(response.headers.get("Retry-After"))
        delay = None if wait is None else min(wait, policy.max_retry_after)
        return _Failure(f"HTTP {status} (rate limited or unavailable)", True, delay)
    if status == 403 and forbidden_means_rate_limit:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        delay = policy.forbidden_wait if wait is None else min(wait, policy.max_retry_after)
        return _Failure("HTTP 403 (rate limited)", True, delay)
    if status >= 500:
        return _Failure(f"HTTP {status}", True)
    return _Failure(f"HTTP {status}", False)


async def _attempt(
    client: httpx.AsyncClient,
    url: str,
    params: Params | None,
    policy: RetryPolicy,
    forbidden_means_rate_limit: bool,
) -> tuple[Any, None] | tuple[None, _Failure]:
    try:
        response = await client.get(url, params=params, headers={"User-Agent": USER_AGENT})
    except httpx.TimeoutException:
        return None, _Failure("timed out", True)
    except httpx.TransportError as exc:
        return None, _Failure(f"connection error ({type(exc).__name__})", True)
    if response.status_code != 200:
        return None, _classify(response, policy, forbidden_means_rate_limit)
    try:
        return json.loads(response.content), None
    except (ValueError, UnicodeDecodeError):
        return None, _Failure("truncated or invalid JSON body", True)


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: Params | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    forbidden_means_rate_limit: bool = False,
) -> Any:
    """GET ``url`` and decode its JSON body, retrying as described in the module docstring."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    reason = "no attempt made"
    for attempt in range(1, policy.max_attempts + 1):
        body, failure = await _attempt(client, url, params, policy, forbidden_means_rate_limit)
        if failure is None:
            return body
        reason = failure.reason
        if not failure.retry:
            raise FeedFetchError(url, reason)
        if attempt == policy.max_attempts:
            break
        delay = failure.delay if failure.delay is not None else backoff_delay(attempt, policy, rng)
        log.warning(
            "feed GET %s failed (%s), attempt %d/%d, retrying in %.1fs",
            url,
            reason,
            attempt,
            policy.max_attempts,
            delay,
        )
        await sleep(delay)
    raise FeedFetchError(url, f"{reason}; gave up after {policy.max_attempts} attempts")
