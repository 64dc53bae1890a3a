"""One send budget for a fleet of workers: a PTB rate limiter backed by PostgreSQL.

``AIORateLimiter`` paces one process; N workers would send at N × 29 msg/s and Telegram
would throttle them all. This limiter reserves, for every request that names a chat, a slot
on the fleet-wide ``global`` key (29 msg/s) and, for a group, on the group's own key (20 a
minute), in the database (:mod:`storage.send_budget`), and waits for the later of the two.

A private chat is paced like ``AIORateLimiter`` paces it: not in advance (Telegram allows
short bursts to one person, and replies in a conversation must not wait a second each) but
by Telegram's answer — a 429 pushes the ``global`` slot past ``retry_after``, so every worker
pauses, then the request is tried again (up to ``max_retries``). Used when the database is
PostgreSQL (a fleet is possible); one process on SQLite keeps ``AIORateLimiter``.

While the database is unavailable the budget can't be shared, so each process paces itself
at the same rate (said once per outage): a reply such as "something went wrong, try again"
still reaches the person instead of failing with the database.

A request goes at its slot, counted from the middle of the reservation's round trip (a slow
database answer must not make every send late). A process that wakes more than a slot late
(busy, or paused by the machine) gives the slot up and takes a new one, rather than sending
a backlog of late requests at once on top of everyone's next slots.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from storage.db import Database, unavailable_reason
from storage.send_budget import pause, reserve

log = logging.getLogger(__name__)

__all__ = ["SharedRateLimiter"]

JSONDict = dict[str, Any]


class SharedRateLimiter(BaseRateLimiter[int]):
    def __init__(
        self,
        database_url: str,
        *,
        overall_rate: float = 29.0,
        group_per_minute: int = 20,
        max_retries: int = 3,
    ) -> None:
        self.database_url = database_url
        self.global_step = 1.0 / overall_rate
        self.group_step = 60.0 / group_per_minute
        self.group_burst = (group_per_minute - 1) * self.group_step  # as AIORateLimiter allows
        self.max_retries = max_retries
        #: A request sent more than this after its slot is sent in a new slot instead,
        #: up to ``max_late`` slots; then it goes (nothing waits for ever).
        self.slack = self.global_step
        self.max_late = 3
        self.given_up = 0  # slots woken too late for (a busy process), re-taken
        self._db: Database | None = None
        self._local = asyncio.Lock()
        self._local_next = 0.0
        self._outage = False

    async def initialize(self) -> None:
        self._db = Database(self.database_url)

    async def shutdown(self) -> None:
        if self._db is not None:
            await self._db.dispose()
            self._db = None

    async def _wait_for_slot(self, chat_id: int) -> None:
        """Wait for this request's slot; a slot this process woke too late for is given up
        and a new one taken, so no request goes out far from its slot (a busy process would
        otherwise send a late request together with the next ones, above the rate)."""
        loop = asyncio.get_running_loop()
        for _ in range(self.max_late):
            asked = loop.time()
            wait = await self._reserve(chat_id)
            # The database measured the wait somewhere during the round trip: count from
            # its middle, not from the answer (a slow answer would make every send late).
            due = (asked + loop.time()) / 2 + wait
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if wait <= 0 or loop.time() - due <= self.slack:
                return
            self.given_up += 1

    async def _reserve(self, chat_id: int) -> float:
        assert self._db is not None
        try:
            async with self._db.session() as session:
                wait = await reserve(session, "global", self.global_step)
                if chat_id < 0:  # a group or channel: 20 a minute, all 20 at once if need be
                    key = f"chat:{chat_id}"
                    own = await reserve(session, key, self.group_step, self.group_burst)
                    wait = max(wait, own)
        except Exception as exc:
            reason = unavailable_reason(exc)
            if reason is None:
                raise
            if not self._outage:
                log.warning("telegram: send budget unavailable (%s); pacing this process", reason)
                self._outage = True
            return await self._local_slot()
        if self._outage:
            log.info("telegram: send budget shared again")
            self._outage = False
        return wait

    async def _local_slot(self) -> float:
        """This process's own pacing at the fleet's rate, for while the database is away."""
        loop = asyncio.get_running_loop()
        async with self._local:
            now = loop.time()
            start = max(now, self._local_next)
            self._local_next = start + self.global_step
            return start - now

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat = data.get("chat_id")
        try:
            chat_id = int(chat) if chat is not None else None
        except (TypeError, ValueError):
            chat_id = None
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        for attempt in range(retries + 1):
            if chat_id is not None:
                await self._wait_for_slot(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                assert self._db is not None
                async with self._db.session() as session:
                    await pause(session, "global", wait + 0.1)
                if attempt == retries:
                    raise
                log.info("telegram: 429, every worker pauses %.1f s", wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
