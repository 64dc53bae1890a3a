"""The python-telegram-bot application: built from the config, started by hand.

``run_polling()`` would take over the event loop and the signals, so bestbot starts the
Application itself inside its own loop. ``AIORateLimiter`` paces sends to Telegram's limits;
``base_url`` points at any Bot API server (the tests' fake). Updates are handled
concurrently across chats and in order within one (:mod:`bot.telegram.updates`). Only
``bestbot run`` receives updates (getUpdates may be called by one process per token);
``poll`` and ``demo`` only send.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand
from telegram.ext import AIORateLimiter, ApplicationBuilder, BaseRateLimiter

from bot.config import Config
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

COMMANDS = (
    ("start", "Set up alerts"),
    ("settings", "See and change all your settings"),
    ("keywords", "Your keywords"),
    ("add", "Add keywords"),
    ("remove", "Remove keywords"),
    ("exclude", "Words that rule a notice out"),
    ("regions", "Where you work"),
    ("cpv", "Add CPV codes, or find them by a word"),
    ("value", "Contract value range, e.g. /value 10k 500k"),
    ("vcse", "Only notices suitable for VCSEs (on/off)"),
    ("sme", "Only notices suitable for SMEs (on/off)"),
    ("frequency", "Instant, daily or weekly"),
    ("quiet", "Quiet hours"),
    ("email", "Get alerts by email too"),
    ("verify", "Confirm your email code"),
    ("pause", "Pause alerts"),
    ("resume", "Resume alerts"),
    ("stop", "Stop alerts"),
    ("ask", "Ask a SEEM adviser"),
    ("mydata", "Get a copy of your data"),
    ("forget", "Delete everything about you"),
    ("privacy", "How we use your data"),
    ("help", "What I can do"),
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
    """Set the command menu and start handling updates: by long polling (which deletes any
    webhook first), or — ``polling=False`` — only the application, for updates that arrive
    by webhook through the inbox (:mod:`bot.telegram.webhook`)."""
    errors = ReceiveErrors()
    await app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
    await app.start()
    if polling:
        assert app.updater is not None
        await app.updater.start_polling(drop_pending_updates=False, error_callback=errors)
    return errors


async def stop_receiving(app: BotApplication) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
