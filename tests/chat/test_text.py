"""Pure parsing of what people type, the regions menu, and the shared flood counter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.chat import regions_menu
from bot.chat.text import (
    MAX_KEYWORDS,
    InputError,
    parse_email,
    parse_frequency,
    parse_quiet,
    parse_value,
    sort_new_words,
    split_keywords,
)
from storage.chat import throttle_hit
from storage.db import Database
from storage.types import utcnow


def test_split_keywords() -> None:
    split = split_keywords('catering, School Meals and "meals and wheels"\n• cleaning; catering')
    assert split.good == ["catering", "School Meals", '"meals and wheels"', "cleaning"]
    split = split_keywords("x" * 61 + ", 🎉, \u202eok\u202c, a\x00b")
    assert split.too_long == ["x" * 61] and split.unsearchable == ["🎉"]
    assert split.good == ["ok", "ab"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10k 500k", (10_000, 500_000)),
        ("£10,000 - £1.5m", (10_000, 1_500_000)),
        ("50k", (50_000, None)),
        ("up to 200k", (None, 200_000)),
        ("any", (None, None)),
    ],
)
def test_parse_value(text: str, expected: tuple[float | None, float | None]) -> None:
    assert parse_value(text) == expected


@pytest.mark.parametrize("text", ["", "ten", "500k 10k", "1 2 3", "9" * 30])
def test_parse_value_refuses(text: str) -> None:
    with pytest.raises(InputError):
        parse_value(text)


def test_frequency_quiet_email() -> None:
    assert parse_frequency("weekly Mon 5pm").weekday == 0
    assert parse_frequency("weekly Mon 5pm").hour == 17
    assert parse_frequency("daily").hour is None
    for bad in ("hourly", "instant 8", "daily 25", "daily 8:30"):
        with pytest.raises(InputError):
            parse_frequency(bad)
    assert parse_quiet("21-7") == "21:00-07:00" and parse_quiet("OFF") == "off"
    for bad in ("21", "7-7", "25:00-01:00"):
        with pytest.raises(InputError):
            parse_quiet(bad)
    assert parse_email(" Jane.Doe@Example.ORG ") == "Jane.Doe@example.org"
    for bad in ("a@b", "a b@c.org", "a..b@c.org", "<b>@</b>", "x@" + "y" * 300 + ".org"):
        with pytest.raises(InputError):
            parse_email(bad)


def test_regions_toggle_and_typed() -> None:
    regions = regions_menu.toggle(["UKF"], "nt")
    assert regions == ["UKF14"]
    assert regions_menu.toggle(regions, "nt") == []
    assert regions_menu.toggle(["UKF14", "UKI"], "em") == ["UKI", "UKF"]
    assert regions_menu.toggle(["UKF14"], "en") == ["ENG"]
    assert regions_menu.toggle(["UKF14"], "nope") == ["UKF14"]
    assert regions_menu.parse_typed("Leicestershire, northants") == ["UKF22", "UKF24", "UKF25"]
    assert regions_menu.parse_typed("derby, all") == ["UKF"]
    assert regions_menu.names(["UKF12", "UKF13", "UKI"]) == "Derbyshire, London"
    with pytest.raises(InputError, match="mars"):
        regions_menu.parse_typed("mars, derby")
    with pytest.raises(InputError):
        regions_menu.parse_typed("UKZZ9")


async def test_flood_counter_is_shared_between_workers(database: Database) -> None:
    other = Database(database.url)  # a second worker's engine
    try:
        now = utcnow()
        window = timedelta(seconds=10)
        hits = []
        for i in range(6):
            db = database if i % 2 else other
            async with db.session() as session:
                hits.append(await throttle_hit(session, 7, now, window, limit=4))
        assert [h.count for h in hits] == [1, 2, 3, 4, 5, 6]
        assert [h.warn for h in hits] == [False, False, False, False, True, False]
        async with database.session() as session:
            fresh = await throttle_hit(session, 7, now + window * 2, window, limit=4)
            assert (fresh.count, fresh.warn) == (1, False)
            assert (await throttle_hit(session, 8, now, window, limit=4)).count == 1
    finally:
        await other.dispose()


def test_sort_new_words_keeps_the_limit_and_ignores_case_and_quotes() -> None:
    current = [f"word{i}" for i in range(MAX_KEYWORDS - 2)] + ['"School Meals"']
    got = sort_new_words(current, ["school meals", "Catering", "catering", "events", "vending"])
    assert got.already == ["school meals", "catering"]  # case and quotes don't make a new one
    assert got.added == ["Catering"]  # one slot was left
    assert got.over == ["events", "vending"]
