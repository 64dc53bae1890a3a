"""The enquiry workflow: intake, routing, relay, accept / pass on / resolve, SLA timers.

Why it is shaped like this:

* Every change and the messages that report it are written in one transaction (outgoing
  messages go to ``enquiry_outbox`` first), then the outbox is flushed. A crash between the
  two loses nothing: the scheduler's :meth:`EnquiryService.tick` sends what is left.
* No state lives in memory: the Telegram handlers, the mailbox reader and the scheduler may
  run in different processes (or after a restart) and all see the same enquiry.
* Authorisation is checked on every action against the database: only the assigned adviser
  (or an admin) may act on an enquiry; anything else is refused and written to the audit
  trail.
* Timers (``ack``, ``reply``, ``route``) are rows with a due time computed in working hours.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Config, RoutingConfig
from bot.dispatcher import EmailFactory, TelegramPort
from bot.enquiries import texts
from bot.render import Button, TelegramMessage, callback
from bot.tokens import sign
from matchers import triage
from storage import enquiries as store
from storage.db import Database
from storage.models import (
    AdviserRow,
    EnquiryMessageRow,
    EnquiryOutboxRow,
    EnquiryRow,
    EnquiryTimerRow,
    NoticeRow,
    ProfileRow,
    SubscriberRow,
)
from storage.settings import get_or_create
from storage.types import utcnow

log = logging.getLogger(__name__)

ENQUIRY_ACTION = "e"
"""Callback prefix of enquiry buttons: ``e:<enquiry id>:<verb>``."""
ACCEPT, PASS, RESOLVE, RATE_UP, RATE_DOWN = "acc", "pass", "res", "up", "dn"
RATE_PURPOSE = "rate"
INVITE_PURPOSE = "adv"
ROUTE_RETRY = timedelta(minutes=30)
ASK_WAIT = timedelta(minutes=30)
_REFERENCE = re.compile(r"\bENQ-(\d{1,12})\b", re.IGNORECASE)
_EMAIL_VERBS = {
    "accept": ACCEPT,
    "accepted": ACCEPT,
    "pass": PASS,
    "pass on": PASS,
    "resolve": RESOLVE,
    "resolved": RESOLVE,
    "done": RESOLVE,
}


# --------------------------------------------------------------------------- interface


@dataclass(frozen=True)
class IncomingMessage:
    """A message from an enterprise (or, on an enquiry's email thread, from its adviser)."""

    channel: Literal["telegram", "email"]
    text: str
    subject: str | None = None
    sender_email: str | None = None
    sender_name: str | None = None
    telegram_chat_id: int | None = None
    message_id: str | None = None  # email Message-ID (for threading replies)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    notice_id: int | None = None  # an alert the question is about


@dataclass(frozen=True)
class Received:
    enquiry_id: int
    reference: str
    created: bool
    adviser_id: str | None


@dataclass(frozen=True)
class Outcome:
    """What an action did, in words for the person who asked for it."""

    ok: bool
    message: str
    enquiry_id: int | None = None


@dataclass(frozen=True)
class EnquirySettings:
    """What the workflow needs from the config, as plain values."""

    routing: RoutingConfig = field(default_factory=RoutingConfig)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    admin_ids: frozenset[int] = frozenset()
    from_address: str = "SEEM enquiries <enquiries@bestbot.invalid>"
    reply_to: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    bot_username: str | None = None
    secret_key: str = ""
    secret_key_generated: bool = False
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=2)

    @classmethod
    def from_config(cls, config: Config) -> EnquirySettings:
        inbound = config.email.inbound
        return cls(
            routing=config.routing,
            timezone=ZoneInfo(config.alerts.timezone),
            admin_ids=frozenset(config.telegram.admin_ids),
            from_address=config.email.from_address or "SEEM enquiries <enquiries@bestbot.invalid>",
            reply_to=config.email.reply_to or (inbound.address if inbound else None),
            public_url=config.web.base_url,
            bot_username=config.telegram.bot_username,
            secret_key=config.secret_key,
            secret_key_generated=config.secret_key_generated,
            max_attempts=config.alerts.max_attempts,
        )


class Actor:
    """Who is acting: an adviser, an admin (by Telegram id), the enterprise or the system."""

    def __init__(self, label: str, adviser: AdviserRow | None = None, admin: bool = False) -> None:
        self.label, self.adviser, self.admin = label, adviser, admin

    @classmethod
    def of_adviser(cls, adviser: AdviserRow) -> Actor:
        return cls(f"adviser:{adviser.code}", adviser)


SYSTEM = Actor("system")


# --------------------------------------------------------------------------- the service


class EnquiryService:
    """Enquiries end to end. One per process is enough; any number may share a database."""

    def __init__(
        self,
        db: Database,
        settings: EnquirySettings,
        *,
        telegram: TelegramPort | None = None,
        email: EmailFactory | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str = "enquiries",
    ) -> None:
        self.db = db
        self.settings = settings
        self.telegram = telegram
        self.email = email
        self.clock = clock
        self.worker_id = worker_id
        self._secret: str | None = None if settings.secret_key_generated else settings.secret_key
        self._flush_lock = asyncio.Lock()

    @classmethod
    def from_config(
        cls,
        config: Config,
        db: Database,
        *,
        telegram: TelegramPort | None = None,
        email: EmailFactory | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str = "enquiries",
    ) -> EnquiryService:
        return cls(
            db,
            EnquirySettings.from_config(config),
            telegram=telegram,
            email=email,
            clock=clock,
            worker_id=worker_id,
        )

    async def secret(self) -> str:
        """The HMAC key; a generated one is shared through the database like the Service's."""
        if self._secret is None:
            async with self.db.session() as session:
                self._secret = await get_or_create(session, "secret_key", self.settings.secret_key)
        return self._secret

    @property
    def hours(self) -> Any:
        return self.settings.routing.working_hours

    # ------------------------------------------------------------------ intake

    async def receive(self, msg: IncomingMessage) -> Received:
        """A new enquiry, or a message joined to an existing one; idempotent by Message-ID."""
        now = self.clock()
        try:
            async with self.db.session() as session:
                result = await self._receive(session, msg, now)
        except IntegrityError:
            # The same Message-ID stored concurrently by another worker: that one wins.
            async with self.db.session() as session:
                found = await store.message_by_email_id(session, msg.message_id or "")
                if found is None:
                    raise
                result = await self._existing(session, found.enquiry_id)
        await self.flush()
        return result

    async def _existing(self, session: AsyncSession, enquiry_id: int) -> Received:
        enquiry = await session.get(EnquiryRow, enquiry_id)
        assert enquiry is not None
        code = await self._code(session, enquiry.adviser_id)
        return Received(enquiry_id, store.reference(enquiry_id), False, code)

    async def _receive(
        self, session: AsyncSession, msg: IncomingMessage, now: datetime
    ) -> Received:
        if msg.message_id:
            seen = await store.message_by_email_id(session, msg.message_id)
            if seen is not None:
                return await self._existing(session, seen.enquiry_id)
        if msg.channel == "email":
            thread = await self._thread(session, msg)
            if thread is not None:
                enquiry, role = thread
                assert enquiry.id is not None
                if role == "enterprise":
                    await self._from_enterprise(
                        session, enquiry, msg.text, "email", now, msg.message_id
                    )
                else:
                    adviser = await store.adviser_by_email(session, msg.sender_email or "")
                    assert adviser is not None
                    await self._adviser_email(session, enquiry, adviser, msg, now)
                return await self._existing(session, enquiry.id)
        return await self._open(session, msg, now)

    async def _thread(
        self, session: AsyncSession, msg: IncomingMessage
    ) -> tuple[EnquiryRow, str] | None:
        """The enquiry an email continues, and whether it is from its enterprise or adviser.

        A reference or a reply header alone is not enough: the sender must be the enquiry's
        enterprise or one of the advisers, so nobody can join someone else's conversation.
        """
        enquiry = await store.enquiry_by_email_ids(
            session, [msg.in_reply_to or "", *msg.references]
        )
        if enquiry is None and msg.subject:
            found = _REFERENCE.search(msg.subject)
            if found:
                enquiry = await session.get(EnquiryRow, int(found.group(1)))
        sender = (msg.sender_email or "").strip().lower()
        if enquiry is None or not sender:
            return None
        if enquiry.email and enquiry.email.lower() == sender:
            return enquiry, "enterprise"
        if await store.adviser_by_email(session, sender) is not None:
            return enquiry, "adviser"
        log.warning("mail from a stranger quoting %s: opened as a new enquiry", enquiry.id)
        return None

    async def _open(self, session: AsyncSession, msg: IncomingMessage, now: datetime) -> Received:
        sender_email = (msg.sender_email or "").strip().lower() or None
        sub = await store.subscriber_for(session, msg.telegram_chat_id, sender_email)
        profile = None
        if sub is not None and sub.id is not None:
            profile = (
                await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub.id))
            ).first()
        notice_id = msg.notice_id
        if notice_id is not None and await session.get(NoticeRow, notice_id) is None:
            notice_id = None
        text = texts.clean(msg.text, 50_000)
        enquiry = EnquiryRow(
            subscriber_id=sub.id if sub is not None else None,
            channel=msg.channel,
            telegram_chat_id=msg.telegram_chat_id,
            email=sender_email,
            sender_name=texts.one_line(msg.sender_name, 200) or (sub.name if sub else None),
            subject=texts.one_line(msg.subject, 300) or None,
            text=text,
            notice_id=notice_id,
            thread_id=msg.message_id,
            created_at=now,
        )
        session.add(enquiry)
        await session.flush()
        assert enquiry.id is not None
        session.add(
            EnquiryMessageRow(
                enquiry_id=enquiry.id,
                author="enterprise",
                channel=msg.channel,
                text=text,
                email_message_id=msg.message_id,
                created_at=now,
            )
        )
        await store.add_event(
            session, enquiry.id, "received", "enterprise", now, channel=msg.channel
        )
        region = triage.detect_region(f"{text}\n{msg.subject or ''}")
        if region is None and profile is not None:
            region = _profile_region(profile.regions)
        roster = await self._roster(session, now)
        routed = triage.route(
            triage.Enquiry(str(enquiry.id), text, msg.subject, region),
            [a for a, _ in roster],
            extra_words=self.settings.routing.topic_words,
        )
        enquiry.topic, enquiry.region = routed.topic, routed.region
        enquiry.confidence, enquiry.reasons = round(routed.confidence, 3), list(routed.reasons)
        due = self.hours.add(now, self.settings.routing.ack_within)
        adviser = _pick(roster, routed.adviser_id)
        if adviser is not None:
            await self._assign(session, enquiry, adviser, now, "routed", SYSTEM)
        else:
            enquiry.ack_due_at = due
            await store.add_event(session, enquiry.id, "unrouted", "system", now)
            await store.add_timer(session, enquiry.id, "route", None, now + ROUTE_RETRY)
        session.add(enquiry)
        await self._to_enterprise(
            session,
            enquiry,
            "ack",
            _ack_text(enquiry, texts.when(due, self.settings.timezone, now)),
        )
        return Received(
            enquiry.id, store.reference(enquiry.id), True, adviser.code if adviser else None
        )

    # ------------------------------------------------------------------ routing

    async def _roster(
        self, session: AsyncSession, now: datetime
    ) -> list[tuple[triage.Adviser, AdviserRow]]:
        """Active advisers as triage sees them: load from live enquiries, away from the flag
        and return date; an adviser with no way to reach them counts as away."""
        loads = await store.open_loads(session)
        out = []
        for row in await store.list_advisers(session):
            assert row.id is not None
            reachable = row.telegram_id is not None or bool(row.email)
            out.append(
                (
                    triage.Adviser(
                        id=row.code,
                        name=row.name,
                        topics=tuple(row.topics),
                        capacity=row.capacity,
                        regions=tuple(row.regions),
                        away=store.is_away(row, now) or not reachable,
                        open=loads.get(row.id, 0),
                        email=row.email,
                        telegram_id=row.telegram_id,
                    ),
                    row,
                )
            )
        return out

    async def _reroute(
        self, session: AsyncSession, enquiry: EnquiryRow, now: datetime
    ) -> AdviserRow | None:
        """The next best adviser, never one in ``enquiry.excluded``."""
        roster = await self._roster(session, now)
        by_id = {row.id: row.code for _, row in roster}
        excluded = [by_id[i] for i in enquiry.excluded if i in by_id]
        chosen, _cands, _why = triage.route_topic(
            str(enquiry.id), enquiry.topic, enquiry.region, [a for a, _ in roster], excluded
        )
        return _pick(roster, chosen)

    async def _assign(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        adviser: AdviserRow,
        now: datetime,
        event: str,
        actor: Actor,
        note: str | None = None,
    ) -> None:
        assert enquiry.id is not None and adviser.id is not None
        enquiry.adviser_id, enquiry.status = adviser.id, store.OPEN
        enquiry.assigned_at, enquiry.accepted_at = now, None
        enquiry.ack_due_at = self.hours.add(now, self.settings.routing.ack_within)
        session.add(enquiry)
        await store.cancel_timers(session, enquiry.id, ("ack", "reply", "route"))
        await store.add_timer(session, enquiry.id, "ack", adviser.id, enquiry.ack_due_at)
        await store.add_event(
            session,
            enquiry.id,
            event,
            actor.label,
            now,
            adviser=adviser.code,
            topic=enquiry.topic,
            confidence=enquiry.confidence,
        )
        await self._brief_adviser(session, enquiry, adviser, note)

    async def _brief_adviser(
        self, session: AsyncSession, enquiry: EnquiryRow, adviser: AdviserRow, note: str | None
    ) -> None:
        brief = await self._brief(session, enquiry, note)
        assert enquiry.id is not None
        if adviser.telegram_id is not None:
            buttons = [
                [
                    _button("✅ Accept", enquiry.id, ACCEPT),
                    _button("↪️ Pass on", enquiry.id, PASS),
                    _button("☑️ Resolve", enquiry.id, RESOLVE),
                ]
            ]
            await self._queue(
                session,
                enquiry,
                "adviser",
                "brief",
                channel="telegram",
                chat_id=adviser.telegram_id,
                body=texts.adviser_telegram(brief),
                buttons=buttons,
                adviser_id=adviser.id,
            )
        elif adviser.email:
            subject, body = texts.adviser_email(brief)
            await self._queue(
                session,
                enquiry,
                "adviser",
                "brief",
                channel="email",
                email_to=adviser.email,
                subject=subject,
                body=body,
                adviser_id=adviser.id,
            )

    async def _brief(
        self, session: AsyncSession, enquiry: EnquiryRow, note: str | None
    ) -> texts.Brief:
        assert enquiry.id is not None
        sub = (
            await session.get(SubscriberRow, enquiry.subscriber_id)
            if enquiry.subscriber_id
            else None
        )
        profile_lines: list[str] = []
        if sub is not None and sub.id is not None:
            prof = (
                await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub.id))
            ).first()
            if prof is not None:
                if prof.keywords:
                    profile_lines.append("Keywords: " + ", ".join(map(str, prof.keywords[:12])))
                if prof.regions:
                    profile_lines.append("Regions: " + ", ".join(map(str, prof.regions[:8])))
                if prof.vcse_only:
                    profile_lines.append("VCSE opportunities only")
            profile_lines.append(f"Alerts: {sub.frequency}" + (" (paused)" if sub.paused else ""))
        else:
            profile_lines.append("Not an alerts subscriber")
        contact = (
            enquiry.email
            if enquiry.channel == "email" and enquiry.email
            else "via Telegram (reply here to answer)"
        )
        notice = await session.get(NoticeRow, enquiry.notice_id) if enquiry.notice_id else None
        facts: list[str] = []
        if notice is not None:
            data = notice.data or {}
            if data.get("buyer"):
                facts.append(f"Buyer: {data['buyer']}")
            if notice.deadline is not None:
                facts.append(
                    "Closes: "
                    + notice.deadline.astimezone(self.settings.timezone).strftime(
                        "%a %d %b %Y %H:%M"
                    )
                )
        return texts.Brief(
            reference=store.reference(enquiry.id),
            topic=enquiry.topic,
            confidence=enquiry.confidence,
            region=enquiry.region,
            enterprise=enquiry.sender_name or (sub.name if sub and sub.name else "An enterprise"),
            contact=contact,
            profile=profile_lines,
            notice_title=notice.title if notice is not None else None,
            notice_url=(notice.data or {}).get("url") if notice is not None else None,
            notice_facts=facts,
            subject=enquiry.subject,
            text=enquiry.text,
            reasons=enquiry.reasons,
            note=note,
        )

    # ------------------------------------------------------------------ adviser actions

    async def actor_for(self, session: AsyncSession, telegram_user_id: int) -> Actor | None:
        """The adviser (or admin) behind a Telegram user, else None."""
        adviser = await store.adviser_by_telegram(session, telegram_user_id)
        admin = telegram_user_id in self.settings.admin_ids
        if adviser is None and not admin:
            return None
        label = f"adviser:{adviser.code}" if adviser else f"admin:{telegram_user_id}"
        return Actor(label, adviser, admin)

    async def act(self, enquiry_id: int, verb: str, actor: Actor) -> Outcome:
        """Accept, pass on or resolve, by the assigned adviser or an admin."""
        now = self.clock()
        async with self.db.session() as session:
            enquiry = await session.get(EnquiryRow, enquiry_id)
            refused = await self._refuse(session, enquiry, actor, verb, now)
            if refused is not None:
                return refused
            assert enquiry is not None
            if verb == ACCEPT:
                outcome = await self._accept(session, enquiry, actor, now)
            elif verb == PASS:
                outcome = await self._pass(session, enquiry, actor, now)
            elif verb == RESOLVE:
                outcome = await self._resolve(session, enquiry, actor, now)
            else:
                outcome = Outcome(False, "Sorry, I didn't understand that button.")
        await self.flush()
        return outcome

    async def _refuse(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow | None,
        actor: Actor,
        verb: str,
        now: datetime,
        allow_resolved: bool = False,
    ) -> Outcome | None:
        """None when ``actor`` may act on ``enquiry``; else the refusal (logged, audited)."""
        if enquiry is None:
            log.warning("refused %s by %s: no such enquiry", verb, actor.label)
            return Outcome(False, "That enquiry isn't yours.")
        assigned = (
            actor.adviser is not None
            and enquiry.adviser_id is not None
            and actor.adviser.id == enquiry.adviser_id
        )
        if not assigned and not actor.admin:
            log.warning("refused %s on enquiry %s by %s", verb, enquiry.id, actor.label)
            assert enquiry.id is not None
            await store.add_event(session, enquiry.id, "refused", actor.label, now, action=verb)
            return Outcome(False, "That enquiry isn't yours (any more).")
        if enquiry.status == store.RESOLVED and verb != RESOLVE and not allow_resolved:
            return Outcome(False, f"{store.reference(enquiry.id or 0)} is already resolved.")
        return None

    async def _accept(
        self, session: AsyncSession, enquiry: EnquiryRow, actor: Actor, now: datetime
    ) -> Outcome:
        assert enquiry.id is not None
        ref = store.reference(enquiry.id)
        if enquiry.status == store.ACCEPTED:
            return Outcome(True, f"You have already accepted {ref}.", enquiry.id)
        adviser = actor.adviser
        if adviser is None or adviser.id != enquiry.adviser_id:
            adviser = (
                await session.get(AdviserRow, enquiry.adviser_id) if enquiry.adviser_id else None
            )
        if adviser is None:
            return Outcome(False, f"{ref} has no adviser to accept it.")
        enquiry.status, enquiry.accepted_at = store.ACCEPTED, now
        enquiry.reply_due_at = self.hours.add(now, self.settings.routing.reply_within)
        session.add(enquiry)
        await store.cancel_timers(session, enquiry.id, ("ack", "route"))
        await store.add_timer(session, enquiry.id, "reply", adviser.id, enquiry.reply_due_at)
        await store.add_event(
            session, enquiry.id, "accepted", actor.label, now, adviser=adviser.code
        )
        await self._to_enterprise(
            session,
            enquiry,
            "accepted",
            f"Good news: {texts.one_line(adviser.name, 80)}, a SEEM adviser, is looking at your "
            f"question {ref} and will reply here.",
        )
        return Outcome(True, f"Accepted {ref}. Reply to the enquiry message to answer.", enquiry.id)

    async def _pass(
        self, session: AsyncSession, enquiry: EnquiryRow, actor: Actor, now: datetime
    ) -> Outcome:
        assert enquiry.id is not None
        ref = store.reference(enquiry.id)
        previous = enquiry.adviser_id
        if previous is not None and previous not in enquiry.excluded:
            enquiry.excluded = [*enquiry.excluded, previous]
        await store.add_event(session, enquiry.id, "passed", actor.label, now)
        nxt = await self._reroute(session, enquiry, now)
        if nxt is None:
            enquiry.adviser_id, enquiry.status = None, store.OPEN
            session.add(enquiry)
            await store.cancel_timers(session, enquiry.id, ("ack", "reply", "route"))
            await store.add_timer(session, enquiry.id, "route", None, now + ROUTE_RETRY)
            await store.add_event(session, enquiry.id, "unrouted", "system", now)
            return Outcome(True, f"Passed on {ref}. Nobody else is free yet; it will be retried.")
        await self._assign(session, enquiry, nxt, now, "routed", SYSTEM, note="Passed on to you.")
        return Outcome(True, f"Passed on {ref} to another adviser. Thanks.", enquiry.id)

    async def _resolve(
        self, session: AsyncSession, enquiry: EnquiryRow, actor: Actor, now: datetime
    ) -> Outcome:
        assert enquiry.id is not None
        ref = store.reference(enquiry.id)
        if enquiry.status == store.RESOLVED:
            return Outcome(True, f"{ref} is already resolved.", enquiry.id)
        enquiry.status, enquiry.resolved_at = store.RESOLVED, now
        session.add(enquiry)
        await store.cancel_timers(session, enquiry.id, ("ack", "reply", "route"))
        await store.add_event(session, enquiry.id, "resolved", actor.label, now)
        question = f"Your question {ref} has been marked as resolved. Did we help?"
        if enquiry.channel == "telegram":
            await self._to_enterprise(
                session,
                enquiry,
                "rate",
                question,
                buttons=[
                    [
                        _button("👍 Yes, thanks", enquiry.id, RATE_UP),
                        _button("👎 Not really", enquiry.id, RATE_DOWN),
                    ]
                ],
            )
        else:
            secret = await self.secret()
            base = self.settings.public_url.rstrip("/")
            up = f"{base}/enquiry/rate/{sign(secret, RATE_PURPOSE, enquiry.id * 2 + 1)}"
            down = f"{base}/enquiry/rate/{sign(secret, RATE_PURPOSE, enquiry.id * 2)}"
            await self._to_enterprise(
                session,
                enquiry,
                "rate",
                f"{question}\n\n👍 Yes, thanks: {up}\n👎 Not really: {down}\n\n"
                "If you still need help, just reply to this email.",
            )
        return Outcome(True, f"Resolved {ref}; the enterprise is asked for a rating.", enquiry.id)

    async def rate(self, enquiry_id: int, up: bool, *, chat_id: int | None = None) -> Outcome:
        """The enterprise's 👍/👎 on a resolved enquiry (from its chat, or a signed link when
        ``chat_id`` is None). Pressing again changes the rating."""
        now = self.clock()
        async with self.db.session() as session:
            enquiry = await session.get(EnquiryRow, enquiry_id)
            if enquiry is None or (chat_id is not None and enquiry.telegram_chat_id != chat_id):
                log.warning("refused a rating for enquiry %s", enquiry_id)
                if enquiry is not None:
                    await store.add_event(
                        session, enquiry_id, "refused", f"telegram:{chat_id}", now, action="rate"
                    )
                return Outcome(False, "That button isn't yours.")
            if enquiry.status != store.RESOLVED:
                return Outcome(False, "This question is still open.")
            enquiry.rating, enquiry.rated_at = (1 if up else -1), now
            session.add(enquiry)
            await store.add_event(
                session, enquiry_id, "rated", "enterprise", now, rating="up" if up else "down"
            )
        return Outcome(True, "Thanks for your feedback!", enquiry_id)

    # ------------------------------------------------------------------ relay

    async def relay_from_adviser(self, enquiry_id: int, actor: Actor, text: str) -> Outcome:
        """An adviser's (or admin's) answer, passed on to the enterprise."""
        now = self.clock()
        async with self.db.session() as session:
            enquiry = await session.get(EnquiryRow, enquiry_id)
            refused = await self._refuse(session, enquiry, actor, "reply", now, allow_resolved=True)
            if refused is not None:
                return refused
            assert enquiry is not None
            await self._answer(session, enquiry, actor, text, "telegram", now, None)
        await self.flush()
        return Outcome(True, "Sent to the enterprise.", enquiry_id)

    async def _answer(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        actor: Actor,
        text: str,
        channel: str,
        now: datetime,
        message_id: str | None,
    ) -> None:
        assert enquiry.id is not None
        if enquiry.status == store.OPEN:
            await self._accept(session, enquiry, actor, now)
        adviser = actor.adviser
        name = texts.one_line(adviser.name, 80) if adviser is not None else "SEEM"
        body = texts.clean(text, 20_000)
        session.add(
            EnquiryMessageRow(
                enquiry_id=enquiry.id,
                author="adviser",
                adviser_id=adviser.id if adviser else None,
                channel=channel,
                text=body,
                email_message_id=message_id,
                created_at=now,
            )
        )
        if enquiry.first_response_at is None:
            enquiry.first_response_at = now
        session.add(enquiry)
        await store.cancel_timers(session, enquiry.id, ("reply",))
        await store.add_event(session, enquiry.id, "replied", actor.label, now)
        await self._to_enterprise(session, enquiry, "relay", body, author=name)

    async def relay_from_enterprise(self, enquiry_id: int, chat_id: int, text: str) -> Outcome:
        """A follow-up from the enterprise's chat, passed on to the adviser."""
        now = self.clock()
        async with self.db.session() as session:
            enquiry = await session.get(EnquiryRow, enquiry_id)
            if enquiry is None or enquiry.telegram_chat_id != chat_id:
                log.warning("refused a follow-up for enquiry %s from another chat", enquiry_id)
                return Outcome(False, "That message isn't about one of your questions.")
            await self._from_enterprise(session, enquiry, text, "telegram", now, None)
        await self.flush()
        return Outcome(True, "Passed on to your adviser.", enquiry_id)

    async def _from_enterprise(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        text: str,
        channel: str,
        now: datetime,
        message_id: str | None,
    ) -> None:
        assert enquiry.id is not None
        body = texts.clean(text, 20_000)
        session.add(
            EnquiryMessageRow(
                enquiry_id=enquiry.id,
                author="enterprise",
                channel=channel,
                text=body,
                email_message_id=message_id,
                created_at=now,
            )
        )
        await store.add_event(session, enquiry.id, "message", "enterprise", now)
        if enquiry.status == store.RESOLVED:
            enquiry.status, enquiry.resolved_at = store.ACCEPTED, None
            session.add(enquiry)
            await store.add_event(session, enquiry.id, "reopened", "enterprise", now)
        adviser = await session.get(AdviserRow, enquiry.adviser_id) if enquiry.adviser_id else None
        if adviser is None:
            return
        if enquiry.status == store.ACCEPTED:
            enquiry.reply_due_at = self.hours.add(now, self.settings.routing.reply_within)
            session.add(enquiry)
            await store.cancel_timers(session, enquiry.id, ("reply",))
            await store.add_timer(session, enquiry.id, "reply", adviser.id, enquiry.reply_due_at)
        ref = store.reference(enquiry.id)
        who = texts.one_line(enquiry.sender_name or "The enterprise", 80)
        if adviser.telegram_id is not None:
            await self._queue(
                session,
                enquiry,
                "adviser",
                "relay",
                channel="telegram",
                chat_id=adviser.telegram_id,
                body=texts.fit(
                    f"💬 <b>{texts.esc(who)}</b> wrote about {ref}:\n"
                    f"<blockquote>{texts.esc(body, texts.QUESTION_MAX)}</blockquote>\n"
                    "Reply to this message to answer."
                ),
                adviser_id=adviser.id,
            )
        elif adviser.email:
            await self._queue(
                session,
                enquiry,
                "adviser",
                "relay",
                channel="email",
                email_to=adviser.email,
                subject=f"Re: [{ref}] {texts.topic_name(enquiry.topic)}",
                body=f"{who} wrote about {ref}:\n\n{body}\n\nReply to this email to answer.",
                adviser_id=adviser.id,
            )

    async def _adviser_email(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        adviser: AdviserRow,
        msg: IncomingMessage,
        now: datetime,
    ) -> None:
        """An adviser's email on the enquiry's thread: a one-word command, or an answer."""
        actor = Actor.of_adviser(adviser)
        assert enquiry.id is not None
        if await self._refuse(session, enquiry, actor, "email", now, allow_resolved=True):
            return
        answer = triage.strip_quoted(msg.text)
        first = next((ln.strip() for ln in answer.splitlines() if ln.strip()), "")
        verb = _EMAIL_VERBS.get(first.lower().rstrip(".!"))
        rest = "\n".join(answer.splitlines()[1:]).strip() if verb else answer
        if verb == ACCEPT:
            await self._accept(session, enquiry, actor, now)
        elif verb == PASS:
            await self._pass(session, enquiry, actor, now)
        elif verb == RESOLVE and not rest:
            await self._resolve(session, enquiry, actor, now)
        elif answer.strip():
            await self._answer(session, enquiry, actor, answer, "email", now, msg.message_id)
            if verb == RESOLVE:
                await self._resolve(session, enquiry, actor, now)
            return
        if msg.message_id:
            session.add(
                EnquiryMessageRow(
                    enquiry_id=enquiry.id,
                    author="adviser",
                    adviser_id=adviser.id,
                    channel="email",
                    text=first[:100],
                    email_message_id=msg.message_id,
                    created_at=now,
                )
            )

    # ------------------------------------------------------------------ timers

    async def tick(self) -> int:
        """Fire due timers, reroute away advisers' overdue enquiries, send the outbox.
        Returns how many timers fired. Called by the scheduler; safe on several workers."""
        now = self.clock()
        fired = 0
        while True:
            async with self.db.session() as session:
                timers = await store.claim_timers(session, self.worker_id, now, self.settings.lease)
            if not timers:
                break
            for timer in timers:
                try:
                    async with self.db.session() as session:
                        await self._fire(session, timer, now)
                        row = await session.get(EnquiryTimerRow, timer.id)
                        if row is not None and row.claimed_by == self.worker_id:
                            row.status, row.claimed_until = store.DONE, None
                            session.add(row)
                    fired += 1
                except Exception:
                    log.exception("enquiry timer %s failed; retried after its lease", timer.id)
        try:
            await self._sweep_away(now)
        except Exception:
            log.exception("rerouting away advisers' enquiries failed")
        await self.flush()
        return fired

    async def _fire(self, session: AsyncSession, timer: EnquiryTimerRow, now: datetime) -> None:
        enquiry = await session.get(EnquiryRow, timer.enquiry_id)
        if enquiry is None or enquiry.status == store.RESOLVED:
            return
        if timer.kind == "route":
            if enquiry.adviser_id is None:
                nxt = await self._reroute(session, enquiry, now)
                if nxt is not None:
                    await self._assign(session, enquiry, nxt, now, "routed", SYSTEM)
                else:
                    await store.add_timer(
                        session, enquiry.id or 0, "route", None, now + ROUTE_RETRY
                    )
            return
        if enquiry.adviser_id != timer.adviser_id:
            return  # reassigned since: a newer timer watches the new adviser
        adviser = await session.get(AdviserRow, enquiry.adviser_id) if enquiry.adviser_id else None
        if adviser is None:
            return
        if timer.kind == "ack" and enquiry.status == store.OPEN:
            await self._escalate(session, enquiry, adviser, now, "escalated")
        elif timer.kind == "reply" and enquiry.status == store.ACCEPTED:
            if store.is_away(adviser, now):
                await self._escalate(session, enquiry, adviser, now, "rerouted")
            elif await self._unanswered(session, enquiry):
                await self._remind(session, enquiry, adviser, now)

    async def _unanswered(self, session: AsyncSession, enquiry: EnquiryRow) -> bool:
        query = (
            select(EnquiryMessageRow.author)
            .where(EnquiryMessageRow.enquiry_id == enquiry.id)
            .order_by(col(EnquiryMessageRow.id).desc())
            .limit(1)
        )
        return (await session.exec(query)).first() == "enterprise"

    async def _escalate(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        adviser: AdviserRow,
        now: datetime,
        kind: str,
        rearm: bool = True,
    ) -> None:
        """Not acknowledged in time (or its adviser is away): the next best adviser gets it,
        the duty advisers are told, and so is the first adviser."""
        assert enquiry.id is not None and adviser.id is not None
        ref = store.reference(enquiry.id)
        if adviser.id not in enquiry.excluded:
            enquiry.excluded = [*enquiry.excluded, adviser.id]
        nxt = await self._reroute(session, enquiry, now)
        if nxt is None:
            if not rearm:
                return
            # Nobody else: keep it where it is and look again after another SLA period.
            due = self.hours.add(now, self.settings.routing.ack_within)
            kind_ = "ack" if enquiry.status == store.OPEN else "reply"
            await store.add_timer(session, enquiry.id, kind_, adviser.id, due)
            await store.add_event(
                session, enquiry.id, "overdue", "system", now, adviser=adviser.code
            )
            return
        why = (
            "was not accepted in time"
            if kind == "escalated"
            else "is overdue and its adviser is away"
        )
        await self._assign(
            session, enquiry, nxt, now, kind, SYSTEM, note=f"Escalated: {ref} {why}."
        )
        await self._notify_adviser(
            session,
            enquiry,
            adviser,
            f"⏱ {ref} {why}, so it has been passed to another adviser. No action needed.",
        )
        roster = await self._roster(session, now)
        for view, row in roster:
            if (
                triage.GENERAL in view.topics
                and not view.away
                and row.id not in (adviser.id, nxt.id)
            ):
                await self._notify_adviser(
                    session,
                    enquiry,
                    row,
                    f"⏱ Duty: {ref} ({texts.topic_name(enquiry.topic)}) {why}; "
                    f"now with {texts.one_line(nxt.name, 80)}.",
                )

    async def _remind(
        self, session: AsyncSession, enquiry: EnquiryRow, adviser: AdviserRow, now: datetime
    ) -> None:
        assert enquiry.id is not None
        ref = store.reference(enquiry.id)
        await store.add_event(session, enquiry.id, "reminded", "system", now, adviser=adviser.code)
        await self._notify_adviser(
            session,
            enquiry,
            adviser,
            f"⏰ Reminder: {ref} is waiting for your reply. Reply to the enquiry message to "
            "answer, or use its buttons to pass it on or resolve it.",
        )

    async def _notify_adviser(
        self, session: AsyncSession, enquiry: EnquiryRow, adviser: AdviserRow, text: str
    ) -> None:
        if adviser.telegram_id is not None:
            await self._queue(
                session,
                enquiry,
                "adviser",
                "notice",
                channel="telegram",
                chat_id=adviser.telegram_id,
                body=texts.esc(text),
                adviser_id=adviser.id,
            )
        elif adviser.email:
            ref = store.reference(enquiry.id or 0)
            await self._queue(
                session,
                enquiry,
                "adviser",
                "notice",
                channel="email",
                email_to=adviser.email,
                subject=f"[{ref}] {texts.one_line(text, 100)}",
                body=texts.clean(text),
                adviser_id=adviser.id,
            )

    async def _sweep_away(self, now: datetime) -> None:
        """Live enquiries of advisers who are away, past their SLA: reroute them."""
        async with self.db.session() as session:
            away = {a.id: a for a in await store.list_advisers(session) if store.is_away(a, now)}
            if not away:
                return
            query = select(EnquiryRow).where(
                col(EnquiryRow.status).in_(store.LIVE),
                col(EnquiryRow.adviser_id).in_(list(away)),
            )
            for enquiry in (await session.exec(query)).all():
                if store.is_overdue(enquiry, now) and enquiry.adviser_id is not None:
                    await self._escalate(
                        session, enquiry, away[enquiry.adviser_id], now, "rerouted", rearm=False
                    )

    # ------------------------------------------------------------------ advisers

    async def set_away(self, telegram_id: int, until: datetime | None) -> AdviserRow | None:
        async with self.db.session() as session:
            adviser = await store.adviser_by_telegram(session, telegram_id)
            if adviser is not None:
                adviser.away, adviser.away_until = True, until
                session.add(adviser)
        return adviser

    async def set_back(self, telegram_id: int) -> AdviserRow | None:
        async with self.db.session() as session:
            adviser = await store.adviser_by_telegram(session, telegram_id)
            if adviser is not None:
                adviser.away, adviser.away_until = False, None
                session.add(adviser)
        return adviser

    async def link_adviser(self, adviser_pk: int, telegram_id: int) -> AdviserRow | None:
        """Link an invite's adviser to a Telegram user; None when the invite is used up
        (linked to someone else) or that user is already another adviser."""
        async with self.db.session() as session:
            adviser = await session.get(AdviserRow, adviser_pk)
            if adviser is None or not adviser.active:
                return None
            if adviser.telegram_id == telegram_id:
                return adviser
            other = await store.adviser_by_telegram(session, telegram_id)
            if adviser.telegram_id is not None or other is not None:
                log.warning("refused an adviser invite for %s: already linked", adviser.code)
                return None
            adviser.telegram_id = telegram_id
            session.add(adviser)
        return adviser

    async def _code(self, session: AsyncSession, adviser_id: int | None) -> str | None:
        if adviser_id is None:
            return None
        adviser = await session.get(AdviserRow, adviser_id)
        return adviser.code if adviser is not None else None

    # ------------------------------------------------------------------ outbox

    async def _to_enterprise(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        purpose: str,
        text: str,
        *,
        author: str | None = None,
        buttons: list[list[dict[str, Any]]] | None = None,
    ) -> None:
        """A message to the enterprise on the channel it used (email threaded on its mail)."""
        assert enquiry.id is not None
        ref = store.reference(enquiry.id)
        if enquiry.channel == "telegram" and enquiry.telegram_chat_id is not None:
            if author is not None:
                body = (
                    f"💬 <b>{texts.esc(author)}</b> (SEEM adviser) about {ref}:\n"
                    f"<blockquote>{texts.esc(text, texts.QUESTION_MAX)}</blockquote>\n"
                    "Reply to this message to answer."
                )
            else:
                body = texts.esc(text)
            await self._queue(
                session,
                enquiry,
                "enterprise",
                purpose,
                channel="telegram",
                chat_id=enquiry.telegram_chat_id,
                body=texts.fit(body),
                buttons=buttons or [],
            )
        elif enquiry.email:
            body = f"{author} (SEEM adviser) wrote:\n\n{text}" if author is not None else text
            await self._queue(
                session,
                enquiry,
                "enterprise",
                purpose,
                channel="email",
                email_to=enquiry.email,
                subject=texts.subject_for(ref, enquiry.subject),
                body=body + f"\n\n-- \nSEEM enquiries, reference {ref}",
                in_reply_to=enquiry.thread_id,
            )

    async def _queue(
        self,
        session: AsyncSession,
        enquiry: EnquiryRow,
        recipient: str,
        purpose: str,
        *,
        channel: str,
        body: str,
        chat_id: int | None = None,
        email_to: str | None = None,
        subject: str | None = None,
        buttons: list[list[dict[str, Any]]] | None = None,
        adviser_id: int | None = None,
        in_reply_to: str | None = None,
    ) -> None:
        assert enquiry.id is not None
        message_id = None
        if channel == "email":
            domain = email.utils.parseaddr(self.settings.from_address)[1].rpartition("@")[2]
            message_id = email.utils.make_msgid(idstring="enq", domain=domain or "bestbot.invalid")
        session.add(
            EnquiryOutboxRow(
                enquiry_id=enquiry.id,
                recipient=recipient,
                adviser_id=adviser_id,
                purpose=purpose,
                channel=channel,
                chat_id=chat_id,
                email_to=email_to,
                subject=subject,
                body=body,
                body_html=texts.email_html(body) if channel == "email" else None,
                buttons=buttons or [],
                email_message_id=message_id,
                in_reply_to=in_reply_to,
                due_at=self.clock(),
            )
        )

    async def flush(self) -> int:
        """Send every due enquiry message this process has a channel for; returns how many."""
        channels = [c for c, on in (("telegram", self.telegram), ("email", self.email)) if on]
        if not channels:
            return 0
        sent = 0
        async with self._flush_lock:
            for _ in range(100):
                async with self.db.session() as session:
                    rows = await store.claim_outbox(
                        session, self.worker_id, self.clock(), self.settings.lease, channels
                    )
                if not rows:
                    break
                for row in rows:
                    sent += await self._send(row)
        return sent

    async def _send(self, row: EnquiryOutboxRow) -> int:
        from bot.email_channel import EmailPermanentError
        from bot.telegram_channel import PermanentError, RecipientGone, TemporaryError

        assert row.id is not None
        status, ref, error, retry = store.SENT, None, None, None
        try:
            if row.channel == "telegram":
                assert self.telegram is not None and row.chat_id is not None
                message = TelegramMessage(row.body, _buttons(row.buttons))
                ref = str(await self.telegram.send(row.chat_id, message))
            else:
                assert self.email is not None
                async with self.email() as sender:
                    ref = await sender.send(self._email(row))
        except (PermanentError, RecipientGone, EmailPermanentError) as exc:
            status, error = store.FAILED, str(exc)
        except TemporaryError as exc:
            wait = exc.retry_after or 30 * 2 ** min(row.attempts, 7)
            status, error = store.PENDING, str(exc)
            retry = self.clock() + timedelta(seconds=wait * random.uniform(1.0, 1.2))
        except Exception as exc:  # email trouble, network: try again later
            status, error = store.PENDING, f"{type(exc).__name__}: {exc}"
            retry = self.clock() + timedelta(seconds=30 * 2 ** min(row.attempts, 7))
        if error:
            log.warning("enquiry message %s not sent: %s", row.id, error)
        async with self.db.session() as session:
            await store.finish_outbox(
                session,
                row.id,
                self.worker_id,
                status,
                message_ref=ref,
                error=error,
                retry_at=retry,
                max_attempts=self.settings.max_attempts,
            )
        return 1 if status == store.SENT else 0

    def _email(self, row: EnquiryOutboxRow) -> EmailMessage:
        from bot.email_channel import POLICY

        msg = EmailMessage(policy=POLICY)
        msg["From"] = self.settings.from_address
        msg["To"] = row.email_to or ""
        if self.settings.reply_to:
            msg["Reply-To"] = self.settings.reply_to
        msg["Subject"] = texts.one_line(row.subject, 200) or "SEEM enquiry"
        msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = row.email_message_id or email.utils.make_msgid(idstring="enq")
        if row.in_reply_to:
            reply = texts.one_line(row.in_reply_to, 300)
            msg["In-Reply-To"] = reply
            msg["References"] = reply
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(row.body)
        if row.body_html:
            msg.add_alternative(row.body_html, subtype="html")
        return msg

    # ------------------------------------------------------------------ Telegram intake

    async def await_question(self, chat_id: int, notice_id: int | None = None) -> None:
        """``/ask`` with no text (or the alert button): the chat's next message is the question."""
        async with self.db.session() as session:
            await store.set_chat_state(session, chat_id, "ask", self.clock() + ASK_WAIT, notice_id)

    async def take_question_state(self, chat_id: int) -> tuple[bool, int | None]:
        """Whether the chat was asked for a question (the state is consumed), and its notice."""
        async with self.db.session() as session:
            state = await store.pop_chat_state(session, chat_id, self.clock())
        return (state is not None, state.notice_id if state is not None else None)

    async def invite_link(self, adviser: AdviserRow) -> str:
        assert adviser.id is not None
        # Telegram allows only A-Z a-z 0-9 _ - in a start parameter: the dot becomes "-".
        token = sign(await self.secret(), INVITE_PURPOSE, adviser.id).replace(".", "-", 1)
        return f"https://t.me/{self.settings.bot_username or 'bestbot'}?start=adv-{token}"


# --------------------------------------------------------------------------- helpers


def _pick(
    roster: Sequence[tuple[triage.Adviser, AdviserRow]], code: str | None
) -> AdviserRow | None:
    if code is None:
        return None
    return next((row for view, row in roster if view.id == code), None)


def _profile_region(regions: Sequence[str]) -> str | None:
    from matchers import places

    for region in regions:
        name = places.canonical_region(str(region))
        if name:
            return name
    return None


def _button(text: str, enquiry_id: int, verb: str) -> dict[str, Any]:
    return {"text": text, "callback_data": callback(ENQUIRY_ACTION, enquiry_id, verb)}


def _buttons(data: Sequence[Any]) -> tuple[tuple[Button, ...], ...]:
    rows = []
    for row in data or ():
        rows.append(
            tuple(
                Button(str(b["text"]), b.get("callback_data"), b.get("url"))
                for b in row
                if isinstance(b, dict)
            )
        )
    return tuple(rows)


def _ack_text(enquiry: EnquiryRow, by: str) -> str:
    ref = store.reference(enquiry.id or 0)
    return (
        f"Thanks — we've got your question. Your reference is {ref}.\n"
        f"It's about {texts.topic_name(enquiry.topic).lower()}, so it has gone to the right "
        f"SEEM adviser. You can expect an answer by {by}.\n"
        "To add anything, reply to this message (quote the reference if you email us)."
    )
