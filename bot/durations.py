"""Durations ("90s", "30m", "4h", "2d") and clock times ("07:00", "21:00-07:00").

People write these in the config file and in chat settings, so the parsers are
strict (a typo must not turn into "0 seconds") and raise :class:`ValueError`
with a short message saying what a good value looks like. The formatters give
the shortest text that parses back to the same value, so a value can be shown
to the user exactly as they would write it.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

__all__ = [
    "format_clock",
    "format_duration",
    "format_time_window",
    "in_time_window",
    "parse_clock",
    "parse_duration",
    "parse_time_window",
]

_UNITS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)\s*([wdhms])")
_WHOLE = re.compile(r"(?:\d+\s*[wdhms]\s*)+")
#: More digits than any real interval needs; longer numbers are refused before ``int()``
#: (which has its own limit and a less helpful message).
_MAX_DIGITS = 12
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")

DURATION_HINT = 'a duration like "15m" (units: s, m, h, d, w)'
CLOCK_HINT = 'a time like "07:00"'
WINDOW_HINT = 'a time range like "21:00-07:00"'


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"4h"``, ``"2d"``, ``"1w"`` or a sum such as ``"1h30m"``.

    Units are required (a bare ``"15"`` is ambiguous) and the result must be
    positive: every duration bestbot reads is an interval or a time limit, and
    zero would mean "spin" or "immediately overdue".
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {DURATION_HINT}")
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not {DURATION_HINT}")
    parts = _PART.findall(cleaned)
    if any(len(n) > _MAX_DIGITS for n, _ in parts):
        raise ValueError(f"{text!r} is too long to be a duration")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # beyond timedelta's 999,999,999 days
        raise ValueError(f"{text!r} is too long to be a duration") from None


def format_duration(value: timedelta) -> str:
    """The shortest text :func:`parse_duration` reads back as ``value``.

    ``timedelta(minutes=90)`` gives ``"1h30m"``, ``timedelta(days=2)`` gives
    ``"2d"``. Weeks are not used on output ("14d" reads better than "2w"), and
    fractions of a second are rounded away.
    """
    total = round(value.total_seconds())
    if total < 0:
        raise ValueError("negative durations cannot be formatted")
    if total == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_clock(text: str) -> time:
    """``"07:00"`` or ``"7:00"`` -> ``time(7, 0)``; 24-hour clock, minutes required."""
    if not isinstance(text, str):
        raise ValueError(f"expected {CLOCK_HINT}")
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not {CLOCK_HINT}")
    return time(int(match.group(1)), int(match.group(2)))


def format_clock(value: time) -> str:
    """``time(7, 0)`` -> ``"07:00"``."""
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_time_window(text: str) -> tuple[time, time]:
    """``"21:00-07:00"`` -> ``(time(21), time(7))``; the window may cross midnight.

    A window whose start equals its end is refused: it could mean "never" or
    "always", and the caller has a clearer way to say either (e.g. "off").
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {WINDOW_HINT}")
    pieces = text.replace("–", "-").split("-")
    if len(pieces) != 2:
        raise ValueError(f"{text!r} is not {WINDOW_HINT}")
    try:
        start, end = parse_clock(pieces[0]), parse_clock(pieces[1])
    except ValueError:
        raise ValueError(f"{text!r} is not {WINDOW_HINT}") from None
    if start == end:
        raise ValueError(f"{text!r} starts and ends at the same time")
    return start, end


def format_time_window(window: tuple[time, time]) -> str:
    """``(time(21), time(7))`` -> ``"21:00-07:00"``."""
    return f"{format_clock(window[0])}-{format_clock(window[1])}"


def in_time_window(window: tuple[time, time], at: time) -> bool:
    """Whether the wall-clock time ``at`` falls in ``[start, end)``, crossing midnight if needed."""
    start, end = window
    at = at.replace(tzinfo=None)
    if start < end:
        return start <= at < end
    return at >= start or at < end
