"""What a bounce or a complaint does: suppress the address, and tell admins of complaints.

Reports arrive on the inbound mailbox the service already polls
(:mod:`bot.enquiries.mailbox` hands each mail here first; what is not a report goes on to
enquiry intake). The rules, from the bulk-sender guidance of Gmail, Yahoo and Microsoft:

* **hard bounce** → the address is suppressed at once and every subscriber at it stops
  getting email (their other channel carries on);
* **soft bounce** → counted; the third within 14 days suppresses the address;
* **complaint** (ARF "abuse"/"fraud"/...; "not-spam" is ignored) → suppressed at once, and
  every admin is told through the message outbox, so it is sent with the same retries as
  everything else;
* **delayed** → only recorded.

A report is acted on only for an address its bounce tag was made for (the MAC in the tag
must match the address): a forged "bounce" sent to the mailbox cannot unsubscribe anybody
else. A report read twice (a crash before the mailbox flag) counts once (``report_id``).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.reports import ComplaintReport, DeliveryReport, Report, parse_report
from bot.links import BounceTag, Signer, read_bounce_tag
from storage.chat import subscriber_by_public_id
from storage.db import Database
from storage.messages import NewMessage, queue_message
from storage.suppression import bounces_since, record_bounce, stop_mailing, suppress

__all__ = ["BounceDesk", "BounceOutcome", "BounceSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BounceSettings:
    soft_limit: int = 3
    soft_window: timedelta = timedelta(days=14)
    admin_ids: frozenset[int] = frozenset()
    brand: str = "SEEM contract alerts"


@dataclass
class BounceOutcome:
    """What one report did (for the mailbox log and the tests)."""

    kind: str  # "dsn" | "complaint"
    suppressed: list[str] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    unverified: int = 0

    def line(self) -> str:
        return (
            f"{self.kind}: {len(self.suppressed)} suppressed, {len(self.counted)} counted, "
            f"{self.unverified} not ours"
        )


class BounceDesk:
    """Reads reports from raw mail and applies the rules above."""

    def __init__(
        self,
        db: Database,
        signer: Signer,
        *,
        clock: Callable[[], datetime],
        settings: BounceSettings | None = None,
        send: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.db = db
        self.signer = signer
        self.clock = clock
        self.settings = settings or BounceSettings()
        self._send = send

    async def handle(self, raw: bytes) -> BounceOutcome | None:
        """Act on ``raw`` if it is a delivery or complaint report; None if it is not one."""
        report = parse_report(raw)
        if report is None:
            return None
        async with self.db.session() as session:
            outcome = await self._apply(session, report)
        if outcome.kind == "complaint" and outcome.suppressed and self._send is not None:
            await self._send()
        log.info("delivery report %s: %s", report.report_id, outcome.line())
        return outcome

    async def _apply(self, session: AsyncSession, report: Report) -> BounceOutcome:
        if isinstance(report, ComplaintReport):
            return await self._complaint(session, report)
        return await self._bounce(session, report)

    # ------------------------------------------------------------------ matching tags

    async def _verified(
        self, session: AsyncSession, tags: Sequence[str], candidates: Iterable[str]
    ) -> list[str]:
        """The addresses among ``candidates`` (and the tagged subscribers' own addresses)
        that one of ``tags`` was made for."""
        parsed = [t for t in (read_bounce_tag(tag) for tag in tags) if t is not None]
        pool = {c.strip().lower() for c in candidates if c}
        for tag in parsed:
            sub = await self._subscriber(session, tag)
            if sub is not None:
                pool.add(sub)
        return sorted(a for a in pool if any(tag.names(self.signer, a) for tag in parsed))

    @staticmethod
    async def _subscriber(session: AsyncSession, tag: BounceTag) -> str | None:
        if not tag.public_id:
            return None
        sub = await subscriber_by_public_id(session, tag.public_id)
        return sub.email.lower() if sub is not None and sub.email else None

    # ------------------------------------------------------------------ bounces

    async def _bounce(self, session: AsyncSession, report: DeliveryReport) -> BounceOutcome:
        outcome = BounceOutcome("dsn")
        now = self.clock()
        statuses = [r for r in report.recipients if r.kind != "ok"]
        candidates = [r.address for r in statuses]
        verified = set(await self._verified(session, report.tags, candidates))
        outcome.unverified = len({c for c in candidates if c not in verified})
        if not report.standard and not statuses:
            for address in sorted(verified):  # a tagged bounce that names nobody: soft
                await self._soft(session, report, address, "", "non-standard bounce", now, outcome)
            return outcome
        for status in statuses:
            if status.address not in verified:
                log.warning("delivery report %s: not about our mail; ignored", report.report_id)
                continue
            detail = f"{status.status} {status.diagnostic}".strip()
            if status.kind in ("hard", "delayed"):
                await record_bounce(
                    session,
                    status.address,
                    status.kind,
                    report_id=report.report_id,
                    status=status.status,
                    detail=detail,
                    at=now,
                )
                if status.kind == "hard":  # a delay is only recorded: the mail may yet arrive
                    await self._suppress(session, status.address, "hard_bounce", detail, now)
                    outcome.suppressed.append(status.address)
            else:
                await self._soft(
                    session, report, status.address, status.status, detail, now, outcome
                )
        return outcome

    async def _soft(
        self,
        session: AsyncSession,
        report: DeliveryReport,
        address: str,
        status: str,
        detail: str,
        now: datetime,
        outcome: BounceOutcome,
    ) -> None:
        await record_bounce(
            session,
            address,
            "soft",
            report_id=report.report_id,
            status=status,
            detail=detail,
            at=now,
        )
        outcome.counted.append(address)
        recent = await bounces_since(session, address, "soft", now - self.settings.soft_window)
        if recent >= self.settings.soft_limit:
            why = f"{recent} soft bounces within {self.settings.soft_window.days} days: {detail}"
            await self._suppress(session, address, "soft_bounce", why, now)
            outcome.suppressed.append(address)

    async def _suppress(
        self, session: AsyncSession, address: str, reason: str, detail: str, now: datetime
    ) -> None:
        await suppress(session, address, reason, detail, at=now)
        changed = await stop_mailing(session, address)
        log.info("suppressed an address (%s); %d subscriber(s) stop email", reason, len(changed))

    # ------------------------------------------------------------------ complaints

    async def _complaint(self, session: AsyncSession, report: ComplaintReport) -> BounceOutcome:
        outcome = BounceOutcome("complaint")
        if report.feedback_type == "not-spam":
            return outcome
        now = self.clock()
        verified = await self._verified(session, report.tags, report.recipients)
        outcome.unverified = len([r for r in report.recipients if r not in verified])
        for address in verified:
            new = await record_bounce(
                session, address, "complaint", report_id=report.report_id, detail="", at=now
            )
            detail = f"ARF {report.feedback_type} report {report.report_id}"
            await self._suppress(session, address, "complaint", detail, now)
            outcome.suppressed.append(address)
            if new:
                self._tell_admins(session, address, report, now)
        return outcome

    def _tell_admins(
        self, session: AsyncSession, address: str, report: ComplaintReport, now: datetime
    ) -> None:
        text = (
            f"⚠️ <b>Spam complaint</b> about {html.escape(self.settings.brand)} mail: "
            f"{html.escape(address)} marked an email as {html.escape(report.feedback_type)}. "
            "The address is suppressed: no more email goes to it. Too many complaints and "
            "mailbox providers start refusing all our mail, so check what they were sent."
        )
        for admin in sorted(self.settings.admin_ids):
            queue_message(
                session,
                NewMessage(
                    channel="telegram",
                    purpose="complaint",
                    recipient="admin",
                    chat_id=admin,
                    body=text,
                    due_at=now,
                ),
            )
