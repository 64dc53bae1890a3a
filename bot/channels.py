"""Building the delivery channels (Telegram, email) from the config.

Telegram: a python-telegram-bot ``Application`` started by hand inside our own
event loop (``run_polling`` would take over the loop and the signals), with
``AIORateLimiter`` pacing sends to Telegram's limits and ``base_url`` pointing
at any Bot API server. Only ``bestbot run`` receives updates (getUpdates may be
called by one process per token); ``poll`` and ``demo`` only send.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.config import Config
from bot.dispatcher import EmailFactory, EmailPort
from bot.telegram_channel import TelegramSender

log = logging.getLogger(__name__)

#: Just under Telegram's 30 messages/s: pacing at exactly the limit lets jitter trip 429s,
#: and each 429 stalls every send for a whole second (benchmarks/bench_delivery.py: 92 % of
#: the ceiling at 30/s with 49 429s, 99 % at 29/s with none).
OVERALL_RATE = 29

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


def build_application(config: Config) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application for ``config.telegram`` (not yet initialised)."""
    tg = config.telegram
    assert tg.token, "telegram.token is required"
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(tg.token)
        .rate_limiter(AIORateLimiter(overall_max_rate=OVERALL_RATE, max_retries=3))
    )
    if tg.base_url:
        builder = builder.base_url(tg.base_url)
    if tg.base_file_url:
        builder = builder.base_file_url(tg.base_file_url)
    return builder.build()


@asynccontextmanager
async def telegram_application(
    config: Config, *, receive_updates: bool
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A started application; polls for updates only when ``receive_updates``."""
    app = build_application(config)
    if receive_updates:
        from bot.handlers import install_handlers

        install_handlers(app, config)
    await app.initialize()
    try:
        if receive_updates:
            await app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(drop_pending_updates=False)
        yield app
    finally:
        if receive_updates:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        await app.shutdown()
        if receive_updates:
            from bot.handlers import close_handlers

            await close_handlers(app)


def email_factory(config: Config) -> EmailFactory | None:
    """A factory of SMTP sessions (one connection per batch), or None without SMTP."""
    email = config.email
    if not email.smtp_host or not email.from_address:
        return None
    from bot.email_channel import EmailSender, SmtpSettings

    settings = SmtpSettings(
        host=email.smtp_host,
        port=email.smtp_port,
        username=email.smtp_username,
        password=email.smtp_password,
        starttls=email.starttls,
        tls=email.tls,
        timeout=email.timeout.total_seconds(),
        from_address=email.from_address,
    )

    def session() -> AbstractAsyncContextManager[EmailPort]:
        return EmailSender(settings)

    return session


@asynccontextmanager
async def build_channels(
    config: Config, *, receive_updates: bool = False
) -> AsyncIterator[tuple[TelegramSender | None, EmailFactory | None]]:
    """The channels the config enables: ``(telegram sender or None, email factory or None)``."""
    email = email_factory(config)
    if not config.telegram.token:
        yield None, email
        return
    async with telegram_application(config, receive_updates=receive_updates) as app:
        yield TelegramSender(app.bot), email
