"""What a feed fetch is doing right now, for ``/healthz`` and the logs.

A fetch can spend minutes doing nothing visible: waiting out a ``Retry-After`` or Contracts
Finder's 5-minute rate-limit pause. So every fetch takes an optional *observer*, a plain
callable given a :class:`FetchEvent` at each step, and :class:`FeedActivity` is a ready-made
observer that remembers the latest state of one feed::

    activity = FeedActivity("find_a_tender")
    async for page in fetch_feed(client, FIND_A_TENDER, cursor=saved, observer=activity):
        ...
    health["feeds"]["find_a_tender"] = activity.snapshot()
    # {"state": "waiting", "until": "2026-10-06T18:59:10+00:00",
    #  "because": "HTTP 429 (rate limited or unavailable)", "since": "...", "url": "..."}

The observer is called synchronously from the fetch and must not raise; an exception in it
is logged and otherwise ignored, so a broken health page never stops a poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

log = logging.getLogger(__name__)

EventKind = Literal["fetching", "waiting", "page", "done", "stopped", "failed"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FetchEvent:
    """One step of a fetch.

    ``fetching``: a request is being made (``url``); ``waiting``: sleeping ``seconds`` until
    ``until`` because ``reason``; ``page``: a page was parsed; ``done``: the window was read to
    its end; ``stopped``: the poll ended early on purpose (``reason``: time limit, empty pages)
    and the next poll resumes where it stopped; ``failed``: the fetch gave up (``reason``).
    """

    kind: EventKind
    url: str | None = None
    reason: str = ""
    seconds: float | None = None
    until: datetime | None = None
    at: datetime = field(default_factory=_now)

    @classmethod
    def waiting(cls, url: str, seconds: float, reason: str) -> FetchEvent:
        at = _now()
        return cls("waiting", url, reason, seconds, at + timedelta(seconds=seconds), at)


FetchObserver = Callable[[FetchEvent], None]


def notify(observer: FetchObserver | None, event: FetchEvent) -> None:
    """Tell ``observer`` (if any); its failures are logged, never raised into the fetch."""
    if observer is None:
        return
    try:
        observer(event)
    except Exception:  # a status display must never stop a poll
        log.exception("feed observer failed on %s", event.kind)


class FeedActivity:
    """A :data:`FetchObserver` that keeps the latest state of one feed for health checks."""

    def __init__(self, feed: str) -> None:
        self.feed = feed
        self.last: FetchEvent | None = None
        self.pages = 0

    def __call__(self, event: FetchEvent) -> None:
        if event.kind == "page":
            self.pages += 1
            return  # a page is progress, not a state worth showing
        self.last = event

    @property
    def state(self) -> str:
        """``idle`` (nothing yet, or the window was read), ``fetching``, ``waiting``,
        ``stopped`` or ``failed``."""
        if self.last is None or self.last.kind == "done":
            return "idle"
        return self.last.kind

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready dict: ``state``, and when there is one, ``until``, ``because``,
        ``since`` (when this state began) and ``url``."""
        out: dict[str, Any] = {"state": self.state}
        event = self.last
        if event is None:
            return out
        out["since"] = event.at.isoformat(timespec="seconds")
        if event.until is not None:
            out["until"] = event.until.isoformat(timespec="seconds")
        if event.reason:
            out["because"] = event.reason
        if event.url:
            out["url"] = event.url
        return out
