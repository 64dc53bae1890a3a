"""The one delivery loop: claim → keep → send → mark, for every outbox.

Alerts (:mod:`bot.delivery.alerts`) and every other message (:mod:`bot.delivery.messages`:
enquiry messages, nudges, codes, reports) are :class:`Outbox` implementations; the
:class:`Courier` runs them all the same way, so the rules hold everywhere:

* **Claimed before sending.** An outbox claims due rows with a lease in its own short
  transaction and turns them into :class:`Parcel` values (one message each).
* **Kept right before sending, and while sending.** The claim is extended just before each
  send and a parcel whose claim another worker has taken over is dropped — a row is never
  sent by two workers; then it is renewed every third of the lease until the channel
  answers, so neither a slow SMTP server nor a wait on the fleet's Telegram budget can
  outlast it.
* **Marked promptly.** Each parcel's outcome is written in its own transaction straight
  after the channel answered, so a ``kill -9`` repeats at most the messages in flight
  (at most ``concurrency``).
* **Every failure has one meaning** (:mod:`bot.delivery.errors`): retry with back-off and
  fail after the policy's last attempt; fail at once; or stop writing to that recipient.
  Nothing a channel raises escapes the loop: the batch goes on and the service keeps
  running, with one log line per failure and no traceback.
* **Suppressed addresses** are never mailed: checked before every email send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol, TypeVar

from bot.delivery.errors import RecipientGone, RetryLater, SendError, Undeliverable
from bot.delivery.retry import RetryPolicy
from bot.render.model import TelegramMessage
from storage.db import Database
from storage.suppression import suppress, suppressed

log = logging.getLogger(__name__)

__all__ = [
    "Courier",
    "DeliveryReport",
    "EmailFactory",
    "EmailPort",
    "Outbox",
    "Parcel",
    "TelegramPort",
]


class TelegramPort(Protocol):
    async def send(self, chat_id: int, message: TelegramMessage) -> int: ...


class EmailPort(Protocol):
    async def send(self, message: EmailMessage) -> str: ...


EmailFactory = Callable[[], AbstractAsyncContextManager[EmailPort]]


@dataclass
class Parcel:
    """One message to one recipient, standing for one or more outbox rows."""

    row_ids: tuple[int, ...]
    channel: str  # "telegram" | "email"
    attempts: int
    chat_id: int | None = None
    address: str | None = None
    telegram: TelegramMessage | None = None
    email: EmailMessage | None = None
    #: Rows claimed with this parcel but not in it (what did not fit in one message): the
    #: outbox puts them back, due at once, instead of marking them sent.
    leftover: tuple[int, ...] = ()
    #: Set once the courier has recorded an outcome (or dropped the parcel).
    done: bool = False


P = TypeVar("P", bound=Parcel)


class Outbox(Protocol[P]):
    """What the courier needs from one outbox table."""

    name: str

    async def claim(self, channel: str, limit: int, lease: timedelta) -> list[P]: ...

    async def keep(self, parcel: P, until: datetime) -> bool: ...

    async def sent(self, parcel: P, ref: str) -> None: ...

    async def retry(self, parcel: P, error: RetryLater, at: datetime, count: bool) -> bool: ...

    async def failed(self, parcel: P, reason: str, *, cancelled: bool = False) -> None: ...

    async def gone(self, parcel: P, reason: str) -> None: ...


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    messages: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in ("claimed", "sent", "messages", "retried", "failed", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors[: max(0, 20 - len(self.errors))])


@dataclass(frozen=True)
class CourierSettings:
    concurrency: int = 8
    batch_size: int = 200
    #: Must outlast one send (the SMTP/Bot API timeout) with room to spare.
    lease: timedelta = timedelta(minutes=2)


class Courier:
    """Sends what any outbox says is due, through whichever channels this process has."""

    def __init__(
        self,
        db: Database,
        *,
        worker_id: str,
        telegram: TelegramPort | None,
        email: EmailFactory | None,
        policy: RetryPolicy,
        clock: Callable[[], datetime],
        settings: CourierSettings | None = None,
    ) -> None:
        self.db = db
        self.worker_id = worker_id
        self.telegram = telegram
        self.email = email
        self.policy = policy
        self.clock = clock
        self.settings = settings or CourierSettings()

    @property
    def channels(self) -> list[str]:
        return [c for c, on in (("telegram", self.telegram), ("email", self.email)) if on]

    async def run_once(self, outbox: Outbox[P]) -> DeliveryReport:
        """Claim one batch per channel and deliver it."""
        report = DeliveryReport()
        for channel in self.channels:
            parcels = await outbox.claim(channel, self.settings.batch_size, self.settings.lease)
            report.claimed += sum(len(p.row_ids) + len(p.leftover) for p in parcels)
            if channel == "telegram":
                await self._telegram(outbox, parcels, report)
            else:
                await self._email(outbox, parcels, report)
        return report

    async def drain(self, outbox: Outbox[P], max_passes: int = 1000) -> DeliveryReport:
        """Deliver until nothing is due now (``poll``, the service loop and tests use it)."""
        total = DeliveryReport()
        for _ in range(max_passes):
            report = await self.run_once(outbox)
            total.add(report)
            if report.claimed == 0:
                break
        return total

    # ------------------------------------------------------------------ channels

    async def _telegram(
        self, outbox: Outbox[P], parcels: Sequence[P], report: DeliveryReport
    ) -> None:
        assert self.telegram is not None
        telegram = self.telegram
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def one(parcel: P) -> None:
            async with limit:
                assert parcel.chat_id is not None and parcel.telegram is not None
                chat_id, message = parcel.chat_id, parcel.telegram

                async def send() -> str:
                    return str(await telegram.send(chat_id, message))

                await self._deliver(outbox, parcel, send, report)

        await asyncio.gather(*(one(p) for p in parcels))

    async def _email(self, outbox: Outbox[P], parcels: Sequence[P], report: DeliveryReport) -> None:
        assert self.email is not None
        if not parcels:
            return
        parcels = await self._drop_suppressed(outbox, parcels, report)
        try:
            async with self.email() as sender:
                for parcel in parcels:
                    assert parcel.email is not None
                    message = parcel.email

                    async def send(message: EmailMessage = message) -> str:
                        return await sender.send(message)

                    await self._deliver(outbox, parcel, send, report)
        except SendError as exc:
            # The session itself failed (server down, login refused): what is still
            # claimed is retried later with the reason; nothing is lost.
            for parcel in parcels:
                if not parcel.done:
                    await self._record(outbox, parcel, _as_retry(exc), report)

    async def _drop_suppressed(
        self, outbox: Outbox[P], parcels: Sequence[P], report: DeliveryReport
    ) -> list[P]:
        async with self.db.session() as session:
            blocked = await suppressed(session, [p.address or "" for p in parcels])
        keep: list[P] = []
        for parcel in parcels:
            if parcel.address and parcel.address.strip().lower() in blocked:
                await outbox.failed(parcel, "address is on the suppression list", cancelled=True)
                parcel.done = True
                report.cancelled += len(parcel.row_ids)
            else:
                keep.append(parcel)
        return keep

    # ------------------------------------------------------------------ one parcel

    async def _deliver(
        self,
        outbox: Outbox[P],
        parcel: P,
        send: Callable[[], Awaitable[str]],
        report: DeliveryReport,
    ) -> None:
        if not await outbox.keep(parcel, self.clock() + self.settings.lease):
            log.info("%s: rows %s were taken over by another worker", outbox.name, parcel.row_ids)
            parcel.done = True
            return
        try:
            async with self._renewing(outbox, parcel):
                ref = await send()
        except SendError as exc:
            await self._record(outbox, parcel, exc, report)
            return
        except Exception as exc:  # a bug or a library surprise: retry, never crash the batch
            await self._record(outbox, parcel, RetryLater(f"{type(exc).__name__}: {exc}"), report)
            return
        await outbox.sent(parcel, str(ref))
        parcel.done = True
        report.sent += len(parcel.row_ids)
        report.messages += 1

    @contextlib.asynccontextmanager
    async def _renewing(self, outbox: Outbox[P], parcel: P) -> AsyncIterator[None]:
        """Keep renewing the parcel's claim while its send runs (a third of the lease at a
        time): a send that waits on the fleet's budget, or on a 429's pause, must not see
        its rows taken over and sent again by another worker."""
        lease = self.settings.lease

        async def beat() -> None:
            while True:
                await asyncio.sleep(lease.total_seconds() / 3)
                try:
                    if not await outbox.keep(parcel, self.clock() + lease):
                        log.warning(
                            "%s: rows %s lost their claim mid-send", outbox.name, parcel.row_ids
                        )
                        return
                except Exception as exc:  # the next beat tries again, well within the lease
                    log.warning("%s: could not renew a claim (%s)", outbox.name, type(exc).__name__)

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _record(
        self, outbox: Outbox[P], parcel: P, exc: SendError, report: DeliveryReport
    ) -> None:
        parcel.done = True
        reason = str(exc)[:500]
        report.errors.append(reason)
        if isinstance(exc, RecipientGone):
            log.info("%s: recipient gone (%s); not sending to it again", outbox.name, reason)
            if parcel.channel == "email" and parcel.address:
                async with self.db.write_session() as session:
                    await suppress(session, parcel.address, "gone", reason)
            await outbox.gone(parcel, reason)
            report.failed += len(parcel.row_ids)
            return
        if isinstance(exc, Undeliverable) or not isinstance(exc, RetryLater):
            log.warning("%s: message failed: %s", outbox.name, reason)
            await outbox.failed(parcel, reason)
            report.failed += len(parcel.row_ids)
            return
        wait = self.policy.wait(parcel.attempts, exc)
        count = self.policy.counts(exc)
        now_failed = await outbox.retry(parcel, exc, self.clock() + wait, count)
        if now_failed:
            log.warning(
                "%s: gave up after %d attempts: %s", outbox.name, parcel.attempts + 1, reason
            )
            report.failed += len(parcel.row_ids)
        else:
            log.warning("%s: retry in %ds: %s", outbox.name, int(wait.total_seconds()), reason)
            report.retried += len(parcel.row_ids)


def _as_retry(exc: SendError) -> SendError:
    return (
        exc if isinstance(exc, RetryLater | Undeliverable | RecipientGone) else RetryLater(str(exc))
    )
