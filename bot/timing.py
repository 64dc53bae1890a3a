"""When a delivery becomes due: quiet hours, daily and weekly digests.

All arithmetic happens in the subscriber's local time zone (Europe/London by
default, so BST is handled) and the result is returned in UTC, which is how the
outbox stores every timestamp.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

QuietHours = tuple[time, time]


def parse_quiet_hours(text: str | None) -> QuietHours | None:
    """``"21:00-07:00"`` -> (21:00, 07:00); ``"off"`` or empty -> None."""
    if text is None or text.strip().lower() in {"", "off", "none"}:
        return None
    start_text, _, end_text = text.replace(" ", "").partition("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    if start == end:
        raise ValueError(f"quiet hours {text!r} start and end at the same time")
    return start, end


def in_quiet_hours(local: datetime, quiet: QuietHours) -> bool:
    """Whether a local time falls in the window (which may wrap past midnight)."""
    start, end = quiet
    now = local.time().replace(tzinfo=None)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def after_quiet_hours(now: datetime, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """``now`` if it is outside quiet hours, else the moment they end (UTC)."""
    if quiet is None:
        return now
    local = now.astimezone(tz)
    if not in_quiet_hours(local, quiet):
        return now
    end = quiet[1]
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = _same_wall_time_next_day(candidate, tz)
    return candidate.astimezone(UTC)


def next_digest_time(
    now: datetime, tz: ZoneInfo, hour: int, weekday: int | None = None
) -> datetime:
    """The next daily digest at ``hour`` local time, or weekly on ``weekday`` (0 = Monday)."""
    local = now.astimezone(tz)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    while candidate <= local or (weekday is not None and candidate.weekday() != weekday):
        candidate = _same_wall_time_next_day(candidate, tz)
    return candidate.astimezone(UTC)


def _same_wall_time_next_day(local: datetime, tz: ZoneInfo) -> datetime:
    """The same wall-clock time tomorrow, re-localised so DST changes keep the hour."""
    naive = local.replace(tzinfo=None) + timedelta(days=1)
    return naive.replace(tzinfo=tz)


def due_at(
    now: datetime,
    *,
    frequency: str,
    tz: ZoneInfo,
    quiet: QuietHours | None,
    digest_hour: int,
    weekly_day: int,
) -> datetime:
    """When a new alert for a subscriber with these settings should go out."""
    if frequency == "daily":
        return next_digest_time(now, tz, digest_hour)
    if frequency == "weekly":
        return next_digest_time(now, tz, digest_hour, weekly_day)
    return after_quiet_hours(now, tz, quiet)
