"""When a handler or the update receiver fails.

* A handler that raises: the failure is logged (secrets masked by :mod:`bot.logs`, no
  message content), and the person gets "something went wrong" instead of silence or a
  spinning button. A database outage is one warning line per update, not a traceback.
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
from collections import OrderedDict

from telegram import Update
from telegram.error import Conflict, TelegramError

from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.wording import FAILED
from storage.db import unavailable_reason

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


def _told_already(told: OrderedDict[int, None], update_id: int, keep: int = 1000) -> bool:
    """True if this update's person was already told it failed: PTB calls the error
    handler once for each handler group that raised, and one "sorry" is enough."""
    if update_id in told:
        return True
    told[update_id] = None
    while len(told) > keep:
        told.popitem(last=False)
    return False


async def on_error(update: object, context: BotContext) -> None:
    """Log a failed update without message content, and tell the person."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    first = update_id is None or not _told_already(context.bot_data.failed_updates, update_id)
    reason = unavailable_reason(error) if error is not None else None
    if reason is not None:  # an outage, not a bug: one line per update, no traceback
        if first:
            log.warning(
                "update %s not handled: the database is unavailable (%s)", update_id, reason
            )
    elif error is not None:
        detail = "".join(traceback.format_exception(error))
        log.error("update %s failed: %s", update_id, detail)
    if not isinstance(update, Update) or not first:
        return
    with contextlib.suppress(Exception):
        if update.callback_query is not None:
            await replies.answer(update.callback_query, FAILED)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await replies.send_html(context.bot, update.effective_chat.id, FAILED)
