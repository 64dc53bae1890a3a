"""Updates handled concurrently across chats, in order within one chat.

PTB handles updates one at a time by default, so one person's flood of 60 commands made
everybody else wait (a ``/forget`` sent 15 s later got no answer for over 30 s). This
processor runs updates of different chats side by side, up to ``max_concurrent_updates``,
while each chat's (or, without a chat, each user's) updates still run strictly in arrival
order — a conversation step never overtakes the message before it.

The chat's lock is taken *before* a concurrency slot: a flooding chat holds at most one
slot at a time, however many of its updates are waiting, so it can never starve others.
(PTB's own semaphore, taken before :meth:`do_process_update`, is therefore set far above
the real bound, which lives here.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["PerChatUpdateProcessor", "chat_key"]


def chat_key(update: object) -> int | None:
    """The chat (else the user) an update belongs to; None for updates of neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


#: PTB's semaphore: high enough never to be the limit (each waiting update holds one).
_UNBOUNDED = 100_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(_UNBOUNDED)
        self.limit = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._chats: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        #: Updates handled so far (tests wait on it to know the bot is idle).
        self.finished = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            try:
                async with self._slots:
                    await coroutine
            finally:
                self.finished += 1
            return
        lock = self._chats.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self.finished += 1
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # nobody else queued for this chat: forget it
                del self._waiting[key]
                self._chats.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
