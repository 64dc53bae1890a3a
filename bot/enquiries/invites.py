"""``/start <payload>`` deep links handled by feature packages (e.g. ``adv-<token>``).

The chat-settings package owns ``/start``; when it offers
``bot.chat.onboarding.register_start_payload(prefix, handler)`` that is used. Until then this
module registers a ``/start`` handler that only matches the given payload prefix, ahead of
the default ``/start`` (feature packages are installed first), so plain ``/start`` is
untouched.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, filters

PayloadHandler = Callable[[Update, Any, str], Awaitable[None]]


def register_start_payload(app: Any, prefix: str, handler: PayloadHandler) -> None:
    """Route ``/start <prefix><rest>`` to ``handler(update, context, rest)``; the handler
    answers the user itself (also when the link is not valid)."""
    try:
        onboarding = importlib.import_module("bot.chat.onboarding")
    except ImportError:
        onboarding = None
    shared = getattr(onboarding, "register_start_payload", None)
    if callable(shared):

        async def whole_payload(update: Update, context: Any, payload: str) -> bool:
            await handler(update, context, payload.removeprefix(prefix))
            return True

        shared(prefix, whole_payload)
        return

    async def on_start(update: Update, context: Any) -> None:
        message = update.effective_message
        text = message.text if message is not None and message.text else ""
        payload = text.partition(" ")[2].strip()
        await handler(update, context, payload.removeprefix(prefix))

    pattern = re.compile(rf"^/start(@\w+)?\s+{re.escape(prefix)}")
    app.add_handler(CommandHandler("start", on_start, filters=filters.Regex(pattern)))
