"""Intake: a new enquiry, or a message joined to an existing one (idempotent by Message-ID).

Who a mail is from is decided carefully, because a From header proves nothing:

* A mail continues an enquiry only if it quotes one of the enquiry's mails (In-Reply-To /
  References) or its reference in the subject, *and* its sender is the enquiry's
  enterprise or an adviser; a stranger quoting a reference opens a new enquiry instead.
* A mail acts **as an adviser** (answer, accept, pass on, resolve) only if the receiving
  server vouches for the sender's domain (``Authentication-Results``: DKIM, or SPF with
  DMARC, pass for the adviser's domain) *and* it quotes a Message-ID bestbot sent to that
  adviser about that enquiry — a random id a spoofer cannot know. Without both the mail is
  **held**: stored, not passed on, and the assigned adviser is told in Telegram (or by
  email) so they can answer there.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.enquiries import texts
from bot.enquiries.actions import adviser_email, from_enterprise
from bot.enquiries.model import ROUTE_RETRY, SYSTEM, Desk, IncomingMessage, Received
from bot.enquiries.outbox import notify_adviser, to_enterprise
from bot.enquiries.routing import assign, pick, roster
from matchers import triage
from storage import enquiries as store
from storage.models import AdviserRow, EnquiryRow
from storage.notices import load_notices

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"\bENQ-(\d{1,12})\b", re.IGNORECASE)


async def existing(session: AsyncSession, enquiry_id: int) -> Received:
    enquiry = await store.get_enquiry(session, enquiry_id)
    assert enquiry is not None
    adviser = await store.get_adviser(session, enquiry.adviser_id)
    return Received(
        enquiry_id, store.reference(enquiry_id), False, adviser.code if adviser else None
    )


async def receive(
    desk: Desk, session: AsyncSession, msg: IncomingMessage, now: datetime
) -> Received:
    if msg.message_id:
        seen = await store.message_by_email_id(session, msg.message_id)
        if seen is not None:
            return await existing(session, seen.enquiry_id)
    if msg.channel == "email":
        found = await _thread(session, msg)
        if found is not None:
            enquiry, role, adviser = found
            assert enquiry.id is not None
            if role == "enterprise":
                await from_enterprise(
                    desk, session, enquiry, msg.text, "email", now, msg.message_id
                )
            elif role == "adviser" and adviser is not None:
                await adviser_email(desk, session, enquiry, adviser, msg, now)
            else:
                await _hold(desk, session, enquiry, msg, now)
            return await existing(session, enquiry.id)
    return await open_enquiry(desk, session, msg, now)


async def _thread(
    session: AsyncSession, msg: IncomingMessage
) -> tuple[EnquiryRow, str, AdviserRow | None] | None:
    """The enquiry a mail continues and who it is from: ("enterprise", None),
    ("adviser", the adviser) when the mail is proven to be theirs, ("held", None) when it
    claims an adviser but can't prove it; None when it continues nothing."""
    quoted = [msg.in_reply_to or "", *msg.references]
    enquiry = await store.enquiry_by_email_ids(session, quoted)
    if enquiry is None and msg.subject:
        found = _REFERENCE.search(msg.subject)
        if found:
            enquiry = await store.get_enquiry(session, int(found.group(1)))
    sender = (msg.sender_email or "").strip().lower()
    if enquiry is None or not sender:
        return None
    if enquiry.email and enquiry.email.lower() == sender:
        return enquiry, "enterprise", None
    adviser = await store.adviser_by_email(session, sender)
    if adviser is None:
        log.warning("mail from a stranger quoting %s: opened as a new enquiry", enquiry.id)
        return None
    assert enquiry.id is not None and adviser.id is not None
    quotes_ours = await store.quotes_mail_to(session, enquiry.id, adviser.id, quoted)
    if msg.authenticated and quotes_ours:
        return enquiry, "adviser", adviser
    log.warning(
        "mail claiming to be adviser %s on %s held (authenticated=%s, quotes our mail=%s)",
        adviser.code,
        enquiry.id,
        bool(msg.authenticated),
        quotes_ours,
    )
    return enquiry, "held", None


async def _hold(
    desk: Desk, session: AsyncSession, enquiry: EnquiryRow, msg: IncomingMessage, now: datetime
) -> None:
    """Keep an unproven "adviser" mail without acting on it, and tell the real adviser."""
    assert enquiry.id is not None
    store.add_message(
        session,
        enquiry.id,
        "held",
        "email",
        texts.clean(msg.text, 20_000),
        now,
        email_message_id=msg.message_id,
    )
    await store.add_event(
        session, enquiry.id, "held", "system", now, sender=(msg.sender_email or "")[:320]
    )
    adviser = await store.get_adviser(session, enquiry.adviser_id)
    if adviser is None:
        return
    ref = store.reference(enquiry.id)
    notify_adviser(
        desk,
        session,
        enquiry,
        adviser,
        f"⚠️ An email about {ref} claiming to come from your address could not be verified, "
        "so it was NOT passed on to the enterprise. If it was yours, please answer here in "
        "Telegram (reply to the enquiry message), or reply to the enquiry email we sent you.",
    )


async def open_enquiry(
    desk: Desk, session: AsyncSession, msg: IncomingMessage, now: datetime
) -> Received:
    sender_email = (msg.sender_email or "").strip().lower() or None
    who = await store.enterprise(session, chat_id=msg.telegram_chat_id, email=sender_email)
    notice = await store.notice_brief(session, msg.notice_id)
    text = texts.clean(msg.text, 50_000)
    enquiry = await store.new_enquiry(
        session,
        subscriber_id=who.subscriber_id if who is not None else None,
        channel=msg.channel,
        telegram_chat_id=msg.telegram_chat_id,
        email=sender_email,
        # the enterprise's name (asked at onboarding) says more to an adviser than a person's
        sender_name=(who.name if who is not None and who.name else None)
        or texts.one_line(msg.sender_name, 200)
        or None,
        subject=texts.one_line(msg.subject, 300) or None,
        text=text,
        notice_id=notice.id if notice is not None else None,
        thread_id=msg.message_id,
        created_at=now,
    )
    assert enquiry.id is not None
    store.add_message(
        session, enquiry.id, "enterprise", msg.channel, text, now, email_message_id=msg.message_id
    )
    await store.add_event(session, enquiry.id, "received", "enterprise", now, channel=msg.channel)
    about = (await load_notices(session, [notice.id])).get(notice.id) if notice else None
    people = await roster(session, now)
    # Triage reads the region from the text, else from the enterprise's profile, and a
    # question asked under an alert (❓) from the notice's text too.
    routed = triage.route(
        triage.Enquiry(
            str(enquiry.id),
            text,
            msg.subject,
            notice_text=triage.notice_text_of(about) if about is not None else None,
            profile_regions=who.regions if who is not None else (),
        ),
        [a for a, _ in people],
        extra_words=desk.settings.routing.topic_words,
    )
    enquiry.topic, enquiry.region = routed.topic, routed.region
    enquiry.confidence, enquiry.reasons = round(routed.confidence, 3), list(routed.reasons)
    due = desk.hours.add(now, desk.settings.routing.ack_within)
    adviser = pick(people, routed.adviser_id)
    if adviser is not None:
        await assign(desk, session, enquiry, adviser, now, "routed", SYSTEM)
    else:
        enquiry.ack_due_at = due
        await store.add_event(session, enquiry.id, "unrouted", "system", now)
        await store.add_timer(session, enquiry.id, "route", None, now + ROUTE_RETRY)
    store.save(session, enquiry)
    ref = store.reference(enquiry.id)
    to_enterprise(
        desk,
        session,
        enquiry,
        "ack",
        texts.ack_text(ref, enquiry.topic, texts.when(due, desk.settings.timezone, now)),
    )
    return Received(enquiry.id, ref, True, adviser.code if adviser else None)
