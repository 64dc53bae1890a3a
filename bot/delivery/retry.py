"""The one retry policy: how long to wait after a failed send, and when to give up.

Every outbox uses it, so an alert, an enquiry reply and a verification code fail the same
way: 30 s, 1 min, 2 min… capped at an hour, with jitter so a fleet's retries don't
stampede, and failed with the reason after ``max_attempts``. A 429 (Telegram pacing us)
waits exactly the ``retry_after`` it was given and does not count as an attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from bot.delivery.errors import RetryLater

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_wait: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(hours=1)
    jitter: float = 0.2

    def wait(self, attempts: int, error: RetryLater, rng: random.Random | None = None) -> timedelta:
        """How long to wait before the next try, after ``attempts`` failed ones."""
        if error.retry_after is not None:
            return timedelta(seconds=max(0.0, error.retry_after))
        base = min(
            self.first_wait.total_seconds() * 2 ** max(attempts, 0),
            self.longest_wait.total_seconds(),
        )
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=base * spread)

    def counts(self, error: RetryLater) -> bool:
        """Whether this failure uses up one of the attempts (pacing does not)."""
        return not error.is_pacing
