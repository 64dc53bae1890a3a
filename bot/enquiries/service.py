"""The enquiry workflow's front door: one :class:`EnquiryService` per process, built by the
composition root, used by the Telegram handlers, the mailbox reader, the web pages and the
scheduler. It opens the transaction and hands the work to the module that owns it —
:mod:`~bot.enquiries.intake`, :mod:`~bot.enquiries.routing`,
:mod:`~bot.enquiries.actions`, :mod:`~bot.enquiries.timers` — then sends what they queued
(:mod:`~bot.enquiries.outbox`). See :mod:`bot.enquiries.model` for why it is shaped so.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.enquiries import actions, intake, outbox, routing, texts, timers
from bot.enquiries.model import (
    ACCEPT,
    ASK_STEP,
    ASK_WAIT,
    PASS,
    RESOLVE,
    Actor,
    Desk,
    IncomingMessage,
    Outcome,
    Received,
)
from storage import enquiries as store
from storage.chat import set_state, take_state
from storage.db import Database
from storage.models import AdviserRow, EnquiryRow

log = logging.getLogger(__name__)

__all__ = ["EnquiryService"]

Step = Callable[[Desk, AsyncSession, EnquiryRow, Actor, datetime], Awaitable[Outcome]]


class EnquiryService:
    """Enquiries end to end. One per process; any number may share a database."""

    def __init__(
        self,
        db: Database,
        desk: Desk,
        *,
        send: Callable[[], Awaitable[object]],
        worker_id: str,
    ) -> None:
        self.db = db
        self.desk = desk
        self._send = send
        self.worker_id = worker_id

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.desk.clock

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.desk.settings

    async def flush(self) -> None:
        """Send what the workflow queued (the message outbox, under the courier's rules)."""
        await self._send()

    # ------------------------------------------------------------------ intake

    async def receive(self, msg: IncomingMessage) -> Received:
        """A new enquiry, or a message joined to an existing one; idempotent by Message-ID."""
        now = self.clock()
        try:
            async with self.db.write_session() as session:
                result = await intake.receive(self.desk, session, msg, now)
        except IntegrityError:
            # The same Message-ID stored concurrently by another worker: that one wins.
            async with self.db.session() as session:
                found = await store.message_by_email_id(session, msg.message_id or "")
                if found is None:
                    raise
                result = await intake.existing(session, found.enquiry_id)
        await self.flush()
        return result

    # ------------------------------------------------------------------ adviser actions

    async def actor_for(self, telegram_user_id: int) -> Actor | None:
        """The adviser (or admin) behind a Telegram user, else None."""
        async with self.db.session() as session:
            adviser = await store.adviser_by_telegram(session, telegram_user_id)
        admin = telegram_user_id in self.desk.settings.admin_ids
        if adviser is None and not admin:
            return None
        label = f"adviser:{adviser.code}" if adviser else f"admin:{telegram_user_id}"
        return Actor(label, adviser, admin)

    async def act(self, enquiry_id: int, verb: str, actor: Actor) -> Outcome:
        """Accept, pass on or resolve, by the assigned adviser or an admin."""
        now = self.clock()
        steps: dict[str, Step] = {
            ACCEPT: actions.accept,
            PASS: actions.pass_on,
            RESOLVE: actions.resolve,
        }
        async with self.db.write_session() as session:
            enquiry = await store.get_enquiry(session, enquiry_id)
            refused = await actions.refuse(session, enquiry, actor, verb, now)
            if refused is not None:
                return refused
            assert enquiry is not None
            step = steps.get(verb)
            if step is None:
                return Outcome(False, "Sorry, I didn't understand that button.")
            outcome = await step(self.desk, session, enquiry, actor, now)
        await self.flush()
        return outcome

    async def rate(self, enquiry_id: int, up: bool, *, chat_id: int | None = None) -> Outcome:
        async with self.db.write_session() as session:
            outcome = await actions.rate(self.desk, session, enquiry_id, up, self.clock(), chat_id)
        await self.flush()
        return outcome

    async def check(self, enquiry_id: int, actor: Actor, verb: str) -> Outcome | None:
        """None when ``actor`` may act on the enquiry now; else the refusal (audited). For
        the buttons that only open a menu (pass on, resolve): nothing changes yet, but a
        press that isn't theirs is refused before the menu is shown."""
        async with self.db.session() as session:
            enquiry = await store.get_enquiry(session, enquiry_id)
            return await actions.refuse(session, enquiry, actor, verb, self.clock())

    async def refused_press(self, enquiry_id: int, label: str, verb: str) -> None:
        """Audit a press whose data was not signed for the chat it came from."""
        async with self.db.session() as session:
            if await store.get_enquiry(session, enquiry_id) is not None:
                await store.add_event(
                    session, enquiry_id, "refused", label, self.clock(), action=verb, forged=True
                )

    async def pass_choices(self, enquiry_id: int) -> list[AdviserRow]:
        """Whom the enquiry could be passed to, best first."""
        async with self.db.session() as session:
            enquiry = await store.get_enquiry(session, enquiry_id)
            if enquiry is None:
                return []
            return await routing.candidates(session, enquiry, self.clock())

    async def pass_to(
        self, enquiry_id: int, actor: Actor, to: int | None, note: str | None = None
    ) -> Outcome:
        """Pass on to the adviser ``to`` (an adviser row id; None: whoever is best), with a
        note for them."""
        now = self.clock()
        async with self.db.write_session() as session:
            enquiry = await store.get_enquiry(session, enquiry_id)
            refused = await actions.refuse(session, enquiry, actor, PASS, now)
            if refused is not None:
                return refused
            assert enquiry is not None
            chosen = await store.get_adviser(session, to) if to is not None else None
            if to is not None and chosen is None:
                return Outcome(False, "That adviser isn't on the roster any more.")
            outcome = await actions.pass_on(self.desk, session, enquiry, actor, now, chosen, note)
        await self.flush()
        return outcome

    async def relay_from_adviser(self, enquiry_id: int, actor: Actor, text: str) -> Outcome:
        """An adviser's (or admin's) answer, passed on to the enterprise."""
        async with self.db.write_session() as session:
            outcome = await self._from_adviser(session, enquiry_id, actor, text)
        await self.flush()
        return outcome

    async def relay_from_enterprise(self, enquiry_id: int, chat_id: int, text: str) -> Outcome:
        """A follow-up from the enterprise's chat, passed on to the adviser."""
        async with self.db.write_session() as session:
            outcome = await self._from_enterprise(session, enquiry_id, chat_id, text)
        await self.flush()
        return outcome

    async def _from_adviser(
        self, session: AsyncSession, enquiry_id: int, actor: Actor, text: str
    ) -> Outcome:
        now = self.clock()
        enquiry = await store.get_enquiry(session, enquiry_id)
        refused = await actions.refuse(session, enquiry, actor, "reply", now, allow_resolved=True)
        if refused is not None:
            return refused
        assert enquiry is not None
        await actions.answer(self.desk, session, enquiry, actor, text, "telegram", now, None)
        who = texts.one_line(enquiry.sender_name, 60)
        whom = f"the enterprise ({who})" if who else "the enterprise"
        return Outcome(True, f"Sent to {whom} about {store.reference(enquiry_id)}.", enquiry_id)

    async def _from_enterprise(
        self, session: AsyncSession, enquiry_id: int, chat_id: int, text: str
    ) -> Outcome:
        enquiry = await store.get_enquiry(session, enquiry_id)
        if enquiry is None or enquiry.telegram_chat_id != chat_id:
            log.warning("refused a follow-up for enquiry %s from another chat", enquiry_id)
            return Outcome(False, "That message isn't about one of your questions.")
        await actions.from_enterprise(
            self.desk, session, enquiry, text, "telegram", self.clock(), None
        )
        ref = store.reference(enquiry_id)
        if enquiry.adviser_id is None:
            return Outcome(
                True,
                f"Added to your question {ref}; an adviser will see it as soon as one picks it up.",
                enquiry_id,
            )
        return Outcome(True, f"Sent to your adviser about {ref}.", enquiry_id)

    # ------------------------------------------------------------------ plain messages

    async def open_for_chat(self, chat_id: int) -> list[EnquiryRow]:
        """An enterprise chat's open enquiries, oldest first."""
        async with self.db.session() as session:
            return await store.live_for_chat(session, chat_id)

    async def open_for_adviser(self, adviser_id: int) -> list[EnquiryRow]:
        async with self.db.session() as session:
            return await store.live_for_adviser(session, adviser_id)

    async def keep_draft(self, chat_id: int, user_id: int, text: str) -> int:
        """Keep a plain message until its sender picks the enquiry it is about."""
        async with self.db.session() as session:
            return await store.add_draft(
                session, chat_id, user_id, texts.clean(text, 20_000), self.clock()
            )

    async def drop_draft(self, draft_id: int, chat_id: int) -> None:
        async with self.db.session() as session:
            await store.drop_draft(session, draft_id, chat_id)

    async def send_draft(
        self, draft_id: int, chat_id: int, enquiry_id: int, actor: Actor | None
    ) -> Outcome:
        """Send a kept message to the enquiry its sender picked: as the enterprise when the
        enquiry is this chat's, else as the adviser ``actor`` (refused, and audited, when it
        is not theirs). The draft goes once sent; a refused one stays for another pick."""
        async with self.db.write_session() as session:
            draft = await store.get_draft(session, draft_id, chat_id, self.clock())
            if draft is None:
                return Outcome(False, "I no longer have that message. Please send it again.")
            enquiry = await store.get_enquiry(session, enquiry_id)
            if enquiry is not None and enquiry.telegram_chat_id == chat_id:
                outcome = await self._from_enterprise(session, enquiry_id, chat_id, draft.text)
            elif actor is not None:
                outcome = await self._from_adviser(session, enquiry_id, actor, draft.text)
            else:
                log.warning("refused a draft for enquiry %s from another chat", enquiry_id)
                outcome = Outcome(False, "That message isn't about one of your questions.")
            if outcome.ok:
                await store.drop_draft(session, draft_id, chat_id)
        await self.flush()
        return outcome

    # ------------------------------------------------------------------ /forget

    async def open_before_forget(self, chat_id: int, subscriber_id: int | None) -> list[str]:
        """The references of the open enquiries ``/forget`` would end."""
        async with self.db.session() as session:
            live = await store.live_for_chat_or_subscriber(session, chat_id, subscriber_id)
        return [store.reference(e.id or 0) for e in live]

    async def asked_from(self, chat_id: int) -> bool:
        """Whether any enquiry (open or not) was asked from this chat."""
        async with self.db.session() as session:
            return bool(await store.enquiries_of_chat(session, chat_id))

    async def withdraw(
        self, session: AsyncSession, chat_id: int, subscriber_id: int | None
    ) -> list[str]:
        """In the caller's transaction, just before a chat's data is deleted: tell each
        open enquiry's adviser it is withdrawn and take the buttons off their messages
        (rows that outlive the enquiry); drop the chat's drafts. The references."""
        refs = []
        for enquiry in await store.live_for_chat_or_subscriber(session, chat_id, subscriber_id):
            assert enquiry.id is not None
            ref = store.reference(enquiry.id)
            refs.append(ref)
            adviser = await store.get_adviser(session, enquiry.adviser_id)
            if adviser is not None:
                outbox.notify_adviser(
                    self.desk,
                    session,
                    enquiry,
                    adviser,
                    texts.withdrawn_text(ref),
                    survive_delete=True,
                )
                await outbox.unbutton(
                    self.desk, session, enquiry.id, adviser.id, survive_delete=True
                )
            log.info("enquiry %s withdrawn by /forget", enquiry.id)
        await store.forget_drafts(session, chat_id)
        await store.forget_enquirer(session, chat_id=chat_id)
        return refs

    # ------------------------------------------------------------------ timers

    async def tick(self) -> int:
        """Fire due timers, reroute away advisers' overdue enquiries, send what that queued.
        Returns how many timers fired. Called by the scheduler; safe on several workers."""
        now = self.clock()
        fired = 0
        while True:
            async with self.db.claim_session() as session:
                due = await store.claim_timers(
                    session, self.worker_id, now, self.desk.settings.lease
                )
            if not due:
                break
            for timer in due:
                try:
                    async with self.db.write_session() as session:
                        await timers.fire(self.desk, session, timer, now)
                        await store.finish_timer(session, timer.id, self.worker_id)
                    fired += 1
                except Exception as exc:
                    log.warning(
                        "enquiry timer %s failed (%s); retried after its lease", timer.id, exc
                    )
        try:
            async with self.db.write_session() as session:
                await timers.sweep_away(self.desk, session, now)
        except Exception as exc:
            log.warning("rerouting away advisers' enquiries failed: %s", exc)
        await self.flush()
        return fired

    # ------------------------------------------------------------------ advisers

    async def set_away(self, telegram_id: int, until: datetime | None) -> AdviserRow | None:
        async with self.db.write_session() as session:
            return await store.set_adviser_away(session, telegram_id, True, until)

    async def set_back(self, telegram_id: int) -> AdviserRow | None:
        async with self.db.write_session() as session:
            return await store.set_adviser_away(session, telegram_id, False, None)

    async def link_adviser(self, adviser_pk: int, telegram_id: int) -> AdviserRow | None:
        """Link an invite's adviser to a Telegram user; None when the invite is used up
        (linked to someone else) or that user is already another adviser."""
        async with self.db.write_session() as session:
            adviser = await store.get_adviser(session, adviser_pk)
            if adviser is None or not adviser.active:
                return None
            if adviser.telegram_id == telegram_id:
                return adviser
            other = await store.adviser_by_telegram(session, telegram_id)
            if adviser.telegram_id is not None or other is not None:
                log.warning("refused an adviser invite for %s: already linked", adviser.code)
                return None
            adviser.telegram_id = telegram_id
            store.save(session, adviser)
        return adviser

    def invite_link(self, adviser: AdviserRow) -> str:
        assert adviser.id is not None
        return self.desk.links.invite_link(adviser.id, self.clock())

    # ------------------------------------------------------------------ Telegram intake

    async def await_question(self, chat_id: int, notice_id: int | None = None) -> None:
        """``/ask`` with no text (or the ❓ button): the chat's next message is the question."""
        async with self.db.write_session() as session:
            await set_state(
                session,
                chat_id,
                ASK_STEP,
                {"notice_id": notice_id},
                expires_at=self.clock() + ASK_WAIT,
            )

    async def take_question_state(self, chat_id: int) -> tuple[bool, int | None]:
        """Whether the chat was asked for a question (the state is consumed), and its notice."""
        async with self.db.write_session() as session:
            data = await take_state(session, chat_id, ASK_STEP, self.clock())
        if data is None:
            return False, None
        notice = data.get("notice_id")
        return True, int(notice) if isinstance(notice, int) else None
