"""``[[feeds]]``: the sources bestbot polls, each on its own schedule and limits.

Most per-feed defaults depend on other keys of the same feed, so they are derived:
the name is the kind, the URL is the kind's official API, ``jitter`` is at most a
tenth of ``every``, and ``timeout`` (one request) and ``deadline`` (one whole poll)
give way to whichever of the two was written. Leaving a key out therefore never
makes a feed invalid; a written value that cannot work is refused by name.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BeforeValidator, model_validator

from bot.config.errors import problem, show
from bot.config.sections import Section, fill, written
from bot.config.values import (
    Duration,
    DurationOrZero,
    Flag,
    OptionalHttpUrl,
    OptionalText,
    Size,
    dedupe,
)
from bot.config.vocabulary import FEED_URLS, CfStage, FeedKind
from bot.durations import format_duration

__all__ = ["DEFAULT_FEEDS", "FeedConfig", "unique_names"]

_FEED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

#: The longest jitter a feed gets by default; shorter when ``every`` is short.
MAX_DEFAULT_JITTER = timedelta(seconds=30)
DEFAULT_TIMEOUT = timedelta(seconds=30)
DEFAULT_DEADLINE = timedelta(minutes=10)


def _feed_name(value: Any) -> str:
    if not isinstance(value, str) or not _FEED_NAME.fullmatch(value.strip()):
        raise problem(f"{show(value)} is not a feed name of letters, digits, '-', '_' or '.'")
    return value.strip()


def _quoted(value: timedelta) -> str:
    return f'"{format_duration(value)}"'


class FeedConfig(Section):
    """One ``[[feeds]]`` entry: a source polled on its own schedule."""

    #: Unique; default: the kind.
    name: Annotated[str, BeforeValidator(_feed_name)] = ""
    kind: FeedKind
    #: Default: the official API of the kind (remote kinds only).
    url: OptionalHttpUrl = None
    #: File feeds only; relative to the config file's folder.
    path: OptionalText = None
    every: Duration = timedelta(minutes=15)
    lookback: Duration = timedelta(days=3)
    #: Default: 30s, or a tenth of ``every`` when that is shorter.
    jitter: DurationOrZero = MAX_DEFAULT_JITTER
    stages: Annotated[tuple[CfStage, ...], AfterValidator(dedupe)] = ()
    enabled: Flag = True
    #: One HTTP request; default 30s, or ``deadline`` when that is shorter.
    timeout: Duration = DEFAULT_TIMEOUT
    #: One whole poll (every page); default 10m, or ``timeout`` when that is longer.
    deadline: Duration = DEFAULT_DEADLINE
    max_page_bytes: Size = 20 * 1024**2
    #: A pause between pages, to be gentle with the API ("0s" for none).
    page_pause: DurationOrZero = timedelta(seconds=1)
    #: The longest ``Retry-After`` honoured; a longer one is cut to this.
    max_retry_after: Duration = timedelta(minutes=15)

    @model_validator(mode="after")
    def _derive(self) -> Self:
        self._source()
        if not written(self, "name"):
            fill(self, name=self.kind)
        if written(self, "stages") and self.kind != "contracts_finder":
            raise problem("only contracts_finder feeds take stages", at="stages")
        self._timing()
        return self

    def _source(self) -> None:
        """A file feed reads ``path``; the others read ``url`` (default: the official API)."""
        if self.kind == "file":
            if written(self, "url"):
                raise problem('a file feed reads "path", not "url"', at="url")
            if self.path is None:
                raise problem("required for a file feed (the file to read)", at="path")
            return
        if written(self, "path"):
            raise problem(f'only file feeds take a path; a {self.kind} feed takes "url"', at="path")
        if self.url is None:
            fill(self, url=FEED_URLS[self.kind])

    def _timing(self) -> None:
        if not written(self, "jitter"):
            fill(self, jitter=min(MAX_DEFAULT_JITTER, self.every / 10))
        elif self.jitter >= self.every:
            raise problem(
                f"{_quoted(self.jitter)} must be shorter than every ({_quoted(self.every)})",
                at="jitter",
            )
        if not written(self, "timeout"):
            fill(self, timeout=min(DEFAULT_TIMEOUT, self.deadline))
        if not written(self, "deadline"):
            fill(self, deadline=max(DEFAULT_DEADLINE, self.timeout))
        if self.timeout > self.deadline:
            raise problem(
                f"{_quoted(self.timeout)} must not be longer than deadline "
                f"({_quoted(self.deadline)}, the limit on a whole poll)",
                at="timeout",
            )


DEFAULT_FEEDS: tuple[FeedConfig, ...] = (
    FeedConfig(kind="find_a_tender"),
    FeedConfig(kind="contracts_finder"),
)


def unique_names(feeds: tuple[FeedConfig, ...]) -> tuple[FeedConfig, ...]:
    """Refuse two feeds with one name, saying so differently when a name was not written."""
    seen: dict[str, int] = {}
    for i, feed in enumerate(feeds):
        first = seen.setdefault(feed.name, i)
        if first == i:
            continue
        if written(feed, "name"):
            text = f"{show(feed.name)} is already used by feeds[{first}]; feed names must be unique"
        else:
            text = (
                f"required: feeds[{first}] is already called {show(feed.name)} (a feed's name "
                "defaults to its kind) and feed names must be unique"
            )
        raise problem(text, at=f"[{i}].name")
    return feeds
