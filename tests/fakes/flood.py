"""Flood limits of the fake Bot API: token buckets per private chat, per group and global.

Telegram documents "about one message per second" in a chat, "no more than 20 messages per
minute" in a group and "about 30 messages per second" in total. Each is modelled as a token
bucket (``burst`` tokens, refilled at ``rate`` per second); a request that finds any bucket
empty is answered 429 with the time until a token is back.

``time_scale`` speeds the limits up for fast tests: with ``time_scale=10`` every rate is ten
times higher, so a test sees the same *number* of 429s in a tenth of the time. ``retry_after``
is an integer number of seconds at ``time_scale == 1`` (as Telegram sends it) and a float with
millisecond precision otherwise (python-telegram-bot accepts both).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class FloodLimits:
    """Configurable flood limits; the defaults are Telegram's published ones."""

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0
    group_burst: int = 20
    global_per_second: float = 30.0
    global_burst: int = 30
    time_scale: float = 1.0
    enabled: bool = True
    count_edits: bool = False  # edits count against the same buckets when True

    @classmethod
    def off(cls) -> FloodLimits:
        return cls(enabled=False)

    def scaled(self, factor: float) -> FloodLimits:
        """The same limits running ``factor`` times faster."""
        return replace(self, time_scale=self.time_scale * factor)

    def retry_after_value(self, seconds: float) -> int | float:
        if self.time_scale == 1.0:
            return max(1, math.ceil(seconds))
        return max(0.001, math.ceil(seconds * 1000) / 1000)


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float
    last: float

    def refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


@dataclass
class FloodControl:
    """Admits or refuses one counted request at a time."""

    limits: FloodLimits
    clock: Callable[[], float]
    _global: _Bucket | None = None
    _chats: dict[int, _Bucket] = field(default_factory=dict)

    def _bucket(self, capacity: float, per_second: float) -> _Bucket:
        return _Bucket(capacity, per_second * self.limits.time_scale, capacity, self.clock())

    def check(self, chat_id: int, is_group: bool) -> float:
        """Take a token for ``chat_id``; return 0.0, or the seconds to wait if refused."""
        if not self.limits.enabled:
            return 0.0
        lim = self.limits
        now = self.clock()
        if self._global is None:
            self._global = self._bucket(lim.global_burst, lim.global_per_second)
        chat = self._chats.get(chat_id)
        if chat is None:
            if is_group:
                chat = self._bucket(lim.group_burst, lim.group_per_minute / 60.0)
            else:
                chat = self._bucket(lim.private_burst, lim.private_per_second)
            self._chats[chat_id] = chat
        self._global.refill(now)
        chat.refill(now)
        wait = max(self._global.wait_time(), chat.wait_time())
        if wait > 0:
            return wait
        self._global.tokens -= 1.0
        chat.tokens -= 1.0
        return 0.0
