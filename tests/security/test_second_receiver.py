"""Issue #17.7: a second process receiving updates for the same bot token.

Telegram lets one ``getUpdates`` long poll run per token: a new one ends the older with
409 ``Conflict: terminated by other getUpdates request``. Two real ``bestbot run``
processes with one token (an operator's slip: a staging copy started with the live token)
against the fake Bot API, which answers exactly so. Each says so in one clear warning —
not an ERROR with a traceback every cycle — and backs off instead of hammering Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.errors import CONFLICT
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, free_port, until

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
WATCH_SECONDS = 10.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        yield server


def _config(tmp: Path, name: str, fake: FakeTelegram) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{tmp / name}.sqlite3"},
        "telegram": {"token": fake.token, "base_url": fake.base_url},
        "web": {"host": "127.0.0.1", "port": free_port(), "secret_key": f"{name}-key-0123456789"},
        "feeds": [],
    }


async def test_two_receivers_of_one_token_warn_once_and_back_off(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    live_dir, stray_dir = tmp_path / "live", tmp_path / "stray"
    live_dir.mkdir()
    stray_dir.mkdir()
    live = Procs(live_dir, _config(live_dir, "live", fake))
    stray = Procs(stray_dir, _config(stray_dir, "stray", fake))
    try:
        first = await live.start("run", name="live")
        second = await stray.start("run", name="stray")

        async def conflicting() -> bool:
            return len(_conflicts(fake)) >= 2

        await until("the two receivers to collide", conflicting, within=45)
        started = len(_conflicts(fake))
        await asyncio.sleep(WATCH_SECONDS)
        during = len(_conflicts(fake)) - started
        codes = [await p.stop() for p in (second, first)]
    finally:
        await stray.close()
        await live.close()
    assert codes == [0, 0], [p.stderr()[-2000:] for p in (first, second)]
    # Backing off: PTB waits 1 s, then 1.5x longer after each conflict (to 30 s), so two
    # receivers meet a handful of times in 12 s, not once per poll round trip.
    assert 0 < during <= 16, during
    warned = 0
    for proc in (first, second):
        log = proc.stderr()
        assert "Traceback" not in log, log[-3000:]
        assert " ERROR " not in log, log[-3000:]
        assert log.count(CONFLICT) <= 1, log[-3000:]  # one clear line, not one per cycle
        warned += log.count(CONFLICT)
        assert fake.token not in log
    assert warned >= 1


def _conflicts(fake: FakeTelegram) -> list[Any]:
    return [r for r in fake.calls("getUpdates") if r.status == 409]
