"""The python-telegram-bot application: built from the config, started by hand.

``run_polling()`` would take over the event loop and the signals, so bestbot starts the
Application itself inside its own loop. ``AIORateLimiter`` paces sends to Telegram's limits;
``base_url`` points at any Bot API server (the tests' fake). Updates are handled
concurrently across chats and in order within one (:mod:`bot.telegram.updates`). Only
``bestbot run`` receives updates (getUpdates may be called by one process per token);
``poll`` and ``demo`` only send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from telegram.ext import AIORateLimiter, ApplicationBuilder, BaseRateLimiter

from bot.config import Config
from bot.roles import ADMIN_COMMANDS, ADVISER_COMMANDS, ENTERPRISE_COMMANDS
from bot.telegram.budget import SharedRateLimiter
from bot.telegram.context import CONTEXT_TYPES, BotApplication
from bot.telegram.errors import ReceiveErrors
from bot.telegram.updates import PerChatUpdateProcessor
from storage.db import is_sqlite

log = logging.getLogger(__name__)

__all__ = ["COMMANDS", "OVERALL_RATE", "build_application", "start_receiving", "stop_receiving"]

#: Just under Telegram's 30 messages/s: pacing at exactly the limit lets jitter trip 429s,
#: and each 429 stalls every send for a whole second (benchmarks/bench_delivery.py: 92 % of
#: the ceiling at 30/s with 49 429s, 99 % at 29/s with none).
OVERALL_RATE = 29
MAX_CONCURRENT_UPDATES = 64

#: Every command any role is offered (each role's menu is in :mod:`bot.roles`).
COMMANDS: tuple[tuple[str, str], ...] = tuple(
    dict(
        (name, text)
        for commands in (ADMIN_COMMANDS, ADVISER_COMMANDS, ENTERPRISE_COMMANDS)
        for name, text in commands
    ).items()
)


def rate_limiter(config: Config) -> BaseRateLimiter[Any]:
    """One process on SQLite paces itself (``AIORateLimiter``); on PostgreSQL a fleet may
    share the token, so the budget is shared through the database. Both at ``[telegram]
    send_rate`` (default :data:`OVERALL_RATE`)."""
    if is_sqlite(config.database.url):
        return AIORateLimiter(overall_max_rate=config.telegram.send_rate, max_retries=3)
    return SharedRateLimiter(config.database.url, overall_rate=config.telegram.send_rate)


def build_application(config: Config) -> BotApplication:
    """The PTB application for ``config.telegram`` (not yet initialised, no handlers)."""
    tg = config.telegram
    assert tg.token, "telegram.token is required"
    builder = (
        ApplicationBuilder()
        .token(tg.token)
        .context_types(CONTEXT_TYPES)
        .rate_limiter(rate_limiter(config))
        .concurrent_updates(PerChatUpdateProcessor(MAX_CONCURRENT_UPDATES))
    )
    if tg.base_url:
        builder = builder.base_url(tg.base_url)
    if tg.base_file_url:
        builder = builder.base_file_url(tg.base_file_url)
    app: BotApplication = builder.build()
    return app


async def start_receiving(app: BotApplication, *, polling: bool = True) -> ReceiveErrors:
    """Set the bot's description and each role's command menu, and start handling updates:
    by long polling (which deletes any webhook first), or — ``polling=False`` — only the
    application, for updates that arrive by webhook through the inbox
    (:mod:`bot.telegram.webhook`)."""
    from bot.telegram.menus import install_menus

    errors = ReceiveErrors()
    await install_menus(app.bot)
    for warmup in app.bot_data.warmups:
        _background(warmup())
    await app.start()
    if polling:
        assert app.updater is not None
        await app.updater.start_polling(drop_pending_updates=False, error_callback=errors)
    return errors


_TASKS: set[asyncio.Task[None]] = set()


def _background(job: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(job)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


async def stop_receiving(app: BotApplication) -> None:
    for task in list(_TASKS):
        task.cancel()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
