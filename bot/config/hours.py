"""Advisers' working hours, and SLA arithmetic in working time.

``[routing] working_hours`` reads ``"Mon-Fri 09:00-17:00"`` (an IANA timezone may
follow) or ``"24/7"``; enquiry timers add ``ack_within`` / ``reply_within`` to a
moment in *working* time, as people mean "within 4 hours" of a question asked on a
Friday afternoon.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.config.vocabulary import WEEKDAYS, day_index
from bot.durations import format_time_window, parse_time_window

__all__ = ["WorkingHours"]


@dataclass(frozen=True, repr=False)
class WorkingHours:
    """When advisers work: days of the week and a daily window in one timezone, or 24/7.

    SLA timers (``ack_within``, ``reply_within``) count only working time, so
    "4h" asked at Friday 16:00 is due Monday 12:00.
    """

    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    start: time = time(9, 0)
    end: time = time(17, 0)
    timezone: str = "Europe/London"
    always: bool = False
    #: Whether the text named its timezone; if not, the config gives it ``[alerts] timezone``.
    zone_given: bool = field(default=False, compare=False)

    HINT = 'working hours like "Mon-Fri 09:00-17:00" or "24/7"'

    @classmethod
    def parse(cls, text: str, default_timezone: str = "Europe/London") -> WorkingHours:
        """``"Mon-Fri 09:00-17:00"``, ``"Mon,Wed 10:00-14:00 Europe/London"`` or ``"24/7"``.

        Raises :class:`ValueError` with a message saying what is expected.
        ``default_timezone`` applies when the text names none.
        """
        if not isinstance(text, str):
            raise ValueError(f"expected {cls.HINT}")
        words = text.split()
        if [w.lower() for w in words] in (["24/7"], ["always"]):
            return cls(days=frozenset(range(7)), timezone=default_timezone, always=True)
        if len(words) not in (2, 3):
            raise ValueError(f"{json.dumps(text)} is not {cls.HINT}")
        zone = words[2] if len(words) == 3 else default_timezone
        try:
            days = _parse_days(words[0])
            start, end = parse_time_window(words[1])
        except ValueError:
            raise ValueError(f"{json.dumps(text)} is not {cls.HINT}") from None
        if end <= start:
            raise ValueError(f"{json.dumps(text)}: the working day must end after it starts")
        _check_timezone(zone)
        return cls(days=days, start=start, end=end, timezone=zone, zone_given=len(words) == 3)

    def in_zone(self, timezone: str) -> WorkingHours:
        """These hours in ``timezone``, unless the text named its own."""
        return self if self.zone_given else dataclasses.replace(self, timezone=timezone)

    def __str__(self) -> str:
        if self.always:
            return "24/7"
        window = format_time_window((self.start, self.end))
        return f"{_format_days(self.days)} {window} {self.timezone}"

    def __repr__(self) -> str:
        return f"WorkingHours({str(self)!r})"

    def is_open(self, when: datetime) -> bool:
        """Whether ``when`` (timezone-aware) falls in working hours."""
        if self.always:
            return True
        local = _aware(when).astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def add(self, when: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``when``, in ``when``'s timezone.

        Whole days count as working days and hours as working hours, as people
        mean them: "2d" from Monday 10:00 is Wednesday 10:00, "4h" from Friday
        16:00 is Monday 12:00. Counting starts at the next opening if ``when``
        is outside hours, so "4h" from Saturday is Monday 13:00.
        """
        when = _aware(when)
        if self.always:
            return when + duration
        zone = ZoneInfo(self.timezone)
        cursor = self._forward(when.astimezone(UTC), timedelta(0))
        if duration.days:
            local = cursor.astimezone(zone)
            day, left = local.date(), duration.days
            while left:
                day += timedelta(days=1)
                left -= day.weekday() in self.days
            cursor = datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)
        rest = duration - timedelta(days=duration.days)
        return self._forward(cursor, rest).astimezone(when.tzinfo)

    def _forward(self, cursor: datetime, remaining: timedelta) -> datetime:
        """``remaining`` working hours after the UTC instant ``cursor`` (snapped to hours)."""
        zone = ZoneInfo(self.timezone)
        day = cursor.astimezone(zone).date()
        for _ in range(366 * 20):
            if day.weekday() in self.days:
                opens = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
                closes = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
                cursor = max(cursor, opens)
                if cursor < closes:
                    gap = closes - cursor
                    if remaining < gap or (remaining == gap and remaining > timedelta(0)):
                        return cursor + remaining
                    remaining -= closes - cursor
                    cursor = closes
            day += timedelta(days=1)
        raise ValueError("duration too long for these working hours")  # pragma: no cover


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("working-hours arithmetic needs a timezone-aware datetime")
    return when


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if not sep:
            days.add(day_index(first))
            continue
        a, b = day_index(first), day_index(last)
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return frozenset(days)


def _format_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    runs: list[list[int]] = []
    for d in ordered:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(
        WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs
    )


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        hint = 'a timezone like "Europe/London"'
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        extra = f" (did you mean {json.dumps(close[0])}?)" if close else ""
        raise ValueError(f"{json.dumps(name)} is not {hint}{extra}") from None
    return name
