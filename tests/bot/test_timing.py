"""Quiet hours and digest times, in Europe/London across the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.timing import after_quiet_hours, due_at, next_digest_time, parse_quiet_hours

LONDON = ZoneInfo("Europe/London")
QUIET = (time(21, 0), time(7, 0))


def test_parse_quiet_hours() -> None:
    assert parse_quiet_hours("21:00-07:00") == QUIET
    assert parse_quiet_hours("off") is None
    with pytest.raises(ValueError):
        parse_quiet_hours("25:00-07:00")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 22:30 BST on 1 July -> 07:00 BST next day = 06:00 UTC
        (datetime(2026, 7, 1, 21, 30, tzinfo=UTC), datetime(2026, 7, 2, 6, 0, tzinfo=UTC)),
        # 03:00 GMT in January -> 07:00 GMT same day
        (datetime(2026, 1, 10, 3, 0, tzinfo=UTC), datetime(2026, 1, 10, 7, 0, tzinfo=UTC)),
        # midday is not quiet: unchanged
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), datetime(2026, 1, 10, 12, 0, tzinfo=UTC)),
        # the night the clocks go forward (29 Mar 2026): 23:00 GMT -> 07:00 BST = 06:00 UTC
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
    ],
)
def test_instant_alerts_wait_for_the_end_of_quiet_hours(now: datetime, expected: datetime) -> None:
    assert after_quiet_hours(now, LONDON, QUIET) == expected


def test_quiet_hours_off_sends_now() -> None:
    now = datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    assert after_quiet_hours(now, LONDON, None) == now


def test_daily_digest_is_next_8am_local() -> None:
    before = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 07:00 BST
    after = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert next_digest_time(before, LONDON, 8) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert next_digest_time(after, LONDON, 8) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)


def test_weekly_digest_lands_on_the_chosen_weekday() -> None:
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    due = due_at(thursday, frequency="weekly", tz=LONDON, quiet=QUIET, digest_hour=8, weekly_day=0)
    assert due == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert due.astimezone(LONDON).weekday() == 0
