"""bestbot as ``bestbot run`` builds it, against the fakes: the real composition root, the
real PTB application receiving from the fake Bot API, the real handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from bot import routes
from bot.app import App, channels
from bot.config import Config
from bot.delivery.courier import EmailFactory
from bot.telegram.application import start_receiving
from bot.telegram.context import BotApplication
from bot.telegram.updates import PerChatUpdateProcessor
from storage.types import utcnow
from tests.fakes.telegram_api import FakeTelegram


@dataclass
class Running:
    app: App
    bot: BotApplication
    #: Updates the fake had delivered to earlier bots before this one started.
    baseline: int = 0

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.app.services


@asynccontextmanager
async def running_bot(
    config: Config,
    *,
    clock: Callable[[], datetime] = utcnow,
    email: EmailFactory | None = None,
    worker_id: str | None = None,
) -> AsyncIterator[Running]:
    """The service's Telegram side, started; stopped cleanly on exit."""
    async with channels(config, receive=True) as (bot_app, telegram, smtp):
        assert bot_app is not None, "a Telegram token is required"
        async with App(
            config,
            telegram=telegram,
            email=email or smtp,
            bot_application=bot_app,
            clock=clock,
            worker_id=worker_id,
        ) as app:
            routes.install(bot_app, app.services)
            baseline = _fake_of(config).delivered_count if _fake_of(config) else 0
            await start_receiving(bot_app)
            yield Running(app, bot_app, baseline)


_FAKES: dict[str, FakeTelegram] = {}


def register_fake(fake: FakeTelegram) -> None:
    """Let :func:`running_bot` find the fake a config points at (for :func:`settle`)."""
    _FAKES[fake.base_url] = fake


def _fake_of(config: Config) -> FakeTelegram | None:
    return _FAKES.get(config.telegram.base_url or "")


async def settle(fake: FakeTelegram, running: Running, wait_at_most: float = 10.0) -> None:
    """Wait until every update sent so far has been fetched *and* fully handled."""
    processor = running.bot.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    await fake.wait_for_updates_delivered(wait_at_most)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_at_most
    while running.baseline + processor.finished < fake.delivered_count:
        if loop.time() > deadline:
            raise AssertionError(
                f"timed out: {processor.finished} of "
                f"{fake.delivered_count - running.baseline} updates handled"
            )
        await asyncio.sleep(0.005)
