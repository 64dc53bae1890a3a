"""Subscribers' self-service by chat: onboarding, settings, email linking, data rights.

:func:`install` registers this package's Telegram handlers; it is called by
:func:`bot.handlers.install_handlers` before the catch-all handlers, which hand free text,
group text and non-text messages to :func:`on_text`, :func:`on_group_text` and
:func:`on_non_text`.

Modules: ``core`` (the Turn, registries, admin check, edit-in-place), ``onboarding``
(/start and deep-link payloads: ``register_start_payload``, /help, free text), ``settings``
(/settings and the individual settings), ``keywords`` (/add /remove /keywords /exclude /cpv),
``regions_menu``, ``email_link`` (/email /verify, ``manage_link``), ``privacy`` (/privacy
/mydata /forget), ``throttle`` (flood protection), ``text`` (parsing what people type).

Submodules import :mod:`bot.handlers`, which imports this package: so nothing is imported
here at module level.
"""

from __future__ import annotations

from typing import Any


def install(app: Any, state: Any) -> None:
    """Register the chat-settings handlers on ``app``."""
    from bot.chat.router import install as install_router

    install_router(app, state)


async def on_text(update: Any, context: Any) -> None:
    from bot.chat.onboarding import on_text as handle

    await handle(update, context)


async def on_group_text(update: Any, context: Any) -> None:
    from bot.chat.onboarding import on_group_text as handle

    await handle(update, context)


async def on_non_text(update: Any, context: Any) -> None:
    from bot.chat.onboarding import on_non_text as handle

    await handle(update, context)
