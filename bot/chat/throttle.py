"""Per-user flood protection, shared by every worker through the database (and forwarded
messages refused before any handler sees them).

A fixed 10-second window per Telegram user, counted with one atomic upsert per update
(``storage.chat.throttle_hit``), so several workers behind a webhook share one count. Over
the limit, the first extra update gets one polite reply; the rest are dropped (buttons are
still answered, or they would spin). Other users are unaffected: each has their own row.
Runs before every other handler (group -1) and stops the update when throttled. If the
database is unavailable the update goes through: protection must never lock people out.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.chat.core import Context, esc, turn_for
from storage.chat import throttle_hit
from storage.types import utcnow

log = logging.getLogger(__name__)

SLOW_DOWN = (
    "You're sending messages faster than I can read them, so I'll pause for a few seconds. "
    "Then carry on — nothing you set up is lost."
)


async def check_flood(update: Update, context: Context) -> None:
    user = update.effective_user
    if user is None or (update.message is None and update.callback_query is None):
        return
    turn = turn_for(update, context, with_args=False)
    if turn is None:
        return
    options = turn.options
    try:
        async with turn.services.db.session() as session:
            hit = await throttle_hit(
                session, user.id, utcnow(), options.flood_window, options.flood_limit
            )
    except Exception as exc:
        log.warning("flood counter unavailable: %s", type(exc).__name__)
        return
    if hit.count <= options.flood_limit:
        await _refuse_forwards(update, context)
        return
    log.info("throttled an update (count %s in the window)", hit.count)
    if turn.query is not None:
        await turn.answer("Slow down a little, please — try again in a few seconds.")
    elif hit.warn:
        await turn.reply(SLOW_DOWN)
    raise ApplicationHandlerStop


async def _refuse_forwards(update: Update, context: Context) -> None:
    """A forwarded message in a private chat is never acted on, even if it holds a command:
    whatever it says was written by someone else."""
    message = update.message
    if message is None or message.forward_origin is None or message.chat.type != "private":
        return
    from bot.chat.onboarding import FORWARDED

    turn = turn_for(update, context, with_args=False)
    if turn is not None:
        await turn.reply(esc(FORWARDED))
    raise ApplicationHandlerStop
