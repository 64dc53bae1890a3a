"""Errors raised by the feeds package.

Two kinds only, because callers react to exactly two situations: the *input* is
not something we can read at all (``FeedFormatError``: the CLI exits 2, a poll
logs it and moves on), or the *remote service* could not be reached within the
retry budget (``FeedFetchError``: the scheduler logs it and tries next time).
A single bad release is neither: it becomes a :class:`feeds.ocds.ParseProblem`.
"""

from __future__ import annotations


class FeedError(Exception):
    """Base class so callers can catch every feed failure in one clause."""


class FeedFormatError(FeedError):
    """The input is empty, binary, truncated or not OCDS; the message is for humans."""


class FeedFetchError(FeedError):
    """A feed URL could not be fetched: retries spent, a refused answer, or out of time.

    ``status`` is the last HTTP status when there was one (a saved cursor answered with a 4xx
    has expired), ``reason`` a short sentence for people.
    """

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"could not fetch {url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
