"""When a handler or the update receiver fails.

* A handler that raises: the failure is logged (secrets masked by :mod:`bot.logs`, no
  message content), and the person gets "something went wrong" instead of silence or a
  spinning button.
* Receiving updates fails: PTB retries with a growing pause (up to 30 s) by itself; we say
  so in one warning line — and a ``Conflict`` (a second process polling the same token)
  gets one clear explanation, repeated at most every few minutes, instead of an ERROR with
  a traceback on every cycle.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback

from telegram import Update
from telegram.error import Conflict, TelegramError

from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.wording import FAILED

log = logging.getLogger(__name__)

CONFLICT = (
    "another process is receiving updates for this bot: run one receiver (one `bestbot "
    "run`; use `bestbot poll` or `--role worker` for the others), or use webhook mode"
)


class ReceiveErrors:
    """The ``error_callback`` of ``start_polling`` (synchronous, as PTB requires)."""

    def __init__(self, every: float = 300.0) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self.seen = 0

    def __call__(self, exc: TelegramError) -> None:
        self.seen += 1
        kind = "conflict" if isinstance(exc, Conflict) else type(exc).__name__
        now = time.monotonic()
        if now - self._last.get(kind, -self.every) < self.every:
            return
        self._last[kind] = now
        if kind == "conflict":
            log.warning("telegram: %s; backing off", CONFLICT)
        else:
            log.warning("telegram: receiving updates failed (%s: %s); retrying", kind, exc.message)


async def on_error(update: object, context: BotContext) -> None:
    """Log a failed update without message content, and tell the person."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if error is not None:
        detail = "".join(traceback.format_exception(error))
        log.error("update %s failed: %s", update_id, detail)
    if not isinstance(update, Update):
        return
    with contextlib.suppress(Exception):
        if update.callback_query is not None:
            await replies.answer(update.callback_query, FAILED)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await replies.send_html(context.bot, update.effective_chat.id, FAILED)
