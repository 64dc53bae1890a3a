"""Telegram by webhook: updates received by the web server, stored, handled by any worker.

* **Receiving** (``web`` role): ``POST [telegram] webhook_path`` checks
  ``X-Telegram-Bot-Api-Secret-Token`` against the configured secret in constant time —
  wrong or missing: 403 and nothing stored — then writes the update to the inbox keyed by
  its ``update_id`` (a repeated delivery is stored once) and answers 200 at once. Telegram
  retries anything else, so a database hiccup answers 503 and loses nothing.
* **Handling** (``worker`` role): :class:`InboxWorker` claims updates — per chat the oldest,
  and only for chats with nothing in flight (:mod:`storage.inbox`) — and runs them through
  the same PTB application and handlers as long polling does; different chats side by side.
  It renews its claims while handling (``[database] claim_lease``, a beat every third of
  it), so only a dead worker's updates are ever handled again.
* **Registering**: one worker (under a lease) calls ``setWebhook`` with the secret,
  ``allowed_updates`` and ``max_connections`` on start.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import Update

from bot.config import Config
from bot.services import Services
from bot.telegram.context import BotApplication
from bot.telegram.updates import chat_key
from storage.cursors import acquire_lease
from storage.inbox import (
    claim_updates,
    finish_update,
    keep_updates,
    prune_updates,
    store_update,
)

log = logging.getLogger(__name__)

__all__ = ["InboxWorker", "add_webhook_route", "register_webhook"]

_SERVICES = web.AppKey("webhook_services", Services)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def add_webhook_route(app: web.Application, services: Services) -> None:
    config = services.config.telegram
    if not config.webhook or not config.webhook_secret:
        return
    app[_SERVICES] = services
    app.router.add_post(config.webhook_path, _receive)


async def _receive(request: web.Request) -> web.Response:
    services = request.app[_SERVICES]
    expected = str(services.config.telegram.webhook_secret or "")
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("webhook: refused a request without the right secret token")
        return web.json_response({"ok": False}, status=403)
    try:
        payload = json.loads(await request.read())
        update_id = int(payload["update_id"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
    if not isinstance(payload, dict) or update_id < 0:
        return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
    key = chat_key(Update.de_json(payload, None)) or 0
    try:
        async with services.db.session() as session:
            await store_update(session, update_id, key, payload, services.clock())
    except Exception as exc:  # Telegram retries a non-200: nothing is lost
        log.warning("webhook: could not store update %s (%s)", update_id, type(exc).__name__)
        return web.json_response({"ok": False}, status=503)
    return web.json_response({"ok": True})


async def register_webhook(bot_app: BotApplication, services: Services) -> bool:
    """``setWebhook`` once per start across the fleet (a lease); True if this worker did."""
    config: Config = services.config
    tg = config.telegram
    async with services.db.session() as session:
        mine = await acquire_lease(
            session, "telegram:set-webhook", services.worker_id, timedelta(minutes=1)
        )
    if not mine:
        return False
    await bot_app.bot.set_webhook(
        url=str(tg.webhook_url),
        secret_token=str(tg.webhook_secret),
        allowed_updates=ALLOWED_UPDATES,
        max_connections=tg.webhook_max_connections,
        drop_pending_updates=False,
    )
    log.info("telegram: webhook set to %s", tg.webhook_url)
    return True


class InboxWorker:
    """Handles stored updates with the PTB application, until stopped."""

    def __init__(
        self,
        bot_app: BotApplication,
        services: Services,
        *,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=2),
        idle_pause: float = 0.2,
    ) -> None:
        self.bot_app = bot_app
        self.services = services
        self.concurrency = concurrency
        self.lease = lease
        self.idle_pause = idle_pause
        self.handled = 0

    async def run_once(self) -> int:
        """Claim a batch and handle it; returns how many updates were handled."""
        services = self.services
        async with services.db.claim_session() as session:
            rows = await claim_updates(
                session,
                services.worker_id,
                now=services.clock(),
                lease=self.lease,
                limit=self.concurrency,
            )
        if not rows:
            return 0
        held = {row.update_id for row in rows}
        keeper = asyncio.create_task(self._keep(held))
        try:
            await asyncio.gather(*(self._handle(row.update_id, row.payload, held) for row in rows))
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return len(rows)

    async def _keep(self, held: set[int]) -> None:
        """Renew the claims on the updates still being handled, every third of the lease:
        a reply waiting on the fleet's send budget must not outlive its claim (another
        worker would handle the update again and the person get two answers)."""
        services = self.services
        pause = self.lease.total_seconds() / 3
        while held:
            await asyncio.sleep(pause)
            try:
                async with services.db.session() as session:
                    await keep_updates(
                        session, sorted(held), services.worker_id, services.clock() + self.lease
                    )
            except Exception as exc:  # the next beat tries again, well within the lease
                log.warning("inbox: could not renew claims (%s)", type(exc).__name__)

    async def _handle(self, update_id: int, payload: dict[str, Any], held: set[int]) -> None:
        error = None
        try:
            update = Update.de_json(payload, self.bot_app.bot)
            await self.bot_app.process_update(update)
        except Exception as exc:  # the error handler has told the person; keep the row
            error = f"{type(exc).__name__}: {exc}"
            log.warning("inbox: update %s failed: %s", update_id, error)
        held.discard(update_id)  # a failed one keeps the retry time _finish gives it
        await self._finish(update_id, error)
        self.handled += 1

    async def _finish(self, update_id: int, error: str | None) -> None:
        """Mark the update handled. A write transaction from the start (on SQLite a read that
        upgrades to a write fails at once when another writer got in between), retried a few
        times: a row left claimed would hold its chat up until the lease ran out."""
        services = self.services
        for attempt in range(5):
            try:
                async with services.db.claim_session() as session:
                    await finish_update(
                        session, update_id, services.worker_id, now=services.clock(), error=error
                    )
                return
            except Exception as exc:
                log.warning("inbox: could not mark update %s (%s)", update_id, type(exc).__name__)
                await asyncio.sleep(0.05 * (attempt + 1))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception as exc:
                log.warning(
                    "inbox: claiming failed (%s: %.200s); retrying", type(exc).__name__, exc
                )
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.idle_pause)

    async def prune(self) -> int:
        async with self.services.db.session() as session:
            return await prune_updates(session, self.services.clock() - timedelta(days=1))
