"""The typed context every handler receives: ``context.services`` is the process's
:class:`~bot.services.Services`, built once by the composition root.

PTB builds one context per update from :data:`CONTEXT_TYPES`; ``bot_data`` is a
:class:`BotData` (not a dict), so a handler can't reach anything that was not put there on
purpose by :func:`bot.routes.install`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.services import Services

__all__ = ["CONTEXT_TYPES", "BotApplication", "BotContext", "BotData", "ChatOptions"]


@dataclass
class ChatOptions:
    """Tunables of the chat handlers (tests change them on ``bot_data.options``)."""

    flood_limit: int = 30  # updates per user per window; more are throttled
    flood_window: timedelta = timedelta(seconds=10)
    code_ttl: timedelta = timedelta(minutes=15)
    code_tries: int = 5
    code_resend_after: timedelta = timedelta(seconds=60)


StartPayloadHandler = Callable[[Any, Any, str], Awaitable[bool]]
"""(update, context, payload) -> handled."""


@dataclass
class BotData:
    services: Services | None = None
    options: ChatOptions = field(default_factory=ChatOptions)
    #: The command menu last set for each private chat (:mod:`bot.telegram.menus`), so that
    #: it is set once per process, not on every update; losing it only costs one more call.
    menus: dict[int, str] = field(default_factory=dict)
    #: Caches to fill in the background once the bot starts (:func:`~bot.routes.install`
    #: names them, so the plumbing here needs to know nothing of the features).
    warmups: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    #: ``/start`` deep-link payloads by prefix (``adv-``: an adviser invite), each with its
    #: handler (True: handled), listed by :func:`~bot.routes.install`.
    start_payloads: dict[str, StartPayloadHandler] = field(default_factory=dict)
    #: Updates whose person was already told "something went wrong" (the newest ids).
    failed_updates: OrderedDict[int, None] = field(default_factory=OrderedDict)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:  # pragma: no cover - routes.install always sets it
            raise RuntimeError("handlers installed without services")
        return services

    @property
    def options(self) -> ChatOptions:
        return self.bot_data.options


CONTEXT_TYPES: ContextTypes[BotContext, dict[Any, Any], dict[Any, Any], BotData] = ContextTypes(
    context=BotContext, bot_data=BotData
)
BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
