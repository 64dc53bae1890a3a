"""The one error vocabulary of every channel: what a failed send means for the outbox.

Both senders (Telegram, SMTP) translate their library's exceptions into these three, so
every loop that sends (alerts, enquiry messages, nudges, codes) decides the same way:

* :class:`RetryLater` — the channel or network is in trouble (timeouts, 4xx SMTP replies,
  Telegram 5xx, 429 flood control): try the same message again after a back-off, and fail
  it with the reason after the policy's last attempt. ``retry_after`` is the server's own
  wait when it gave one (a 429 is pacing, not a failure, so it does not count an attempt).
* :class:`Undeliverable` — this message can never be accepted as it is (a 400 from
  Telegram, a 5xx refusing the message's content): fail it at once, keep the reason.
* :class:`RecipientGone` — the recipient can no longer receive anything (the user blocked
  the bot, the chat was deleted, the mailbox does not exist): fail it at once and stop
  sending to that chat or address, so a dead address is not mailed forever.

``str(error)`` is safe to store and log: it never carries credentials.
"""

from __future__ import annotations

__all__ = ["RecipientGone", "RetryLater", "SendError", "Undeliverable"]


class SendError(Exception):
    """A send failed; ``str()`` says why in one line without secrets."""


class RetryLater(SendError):
    """Try again later; ``retry_after`` seconds when the server said so."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after

    @property
    def is_pacing(self) -> bool:
        """A flood-control wait (429): the channel pacing us, not a failed attempt."""
        return self.retry_after is not None


class Undeliverable(SendError):
    """This message can never be delivered as it is; mark it failed."""


class RecipientGone(SendError):
    """The chat or mailbox can no longer receive messages; stop sending to it."""
