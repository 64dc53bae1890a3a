"""What advisers and enterprises do to an enquiry: accept, pass on, resolve, rate, answer,
follow up. Each step checks who is acting first (refusals are audited) and writes the change
with the messages that report it in the caller's transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.enquiries import texts
from bot.enquiries.model import (
    ACCEPT,
    PASS,
    RATE_DOWN,
    RATE_UP,
    RESOLVE,
    ROUTE_RETRY,
    SYSTEM,
    Actor,
    Desk,
    IncomingMessage,
    Outcome,
)
from bot.enquiries.outbox import button, notify_adviser, to_adviser, to_enterprise, unbutton
from bot.enquiries.routing import assign, reachable, reroute
from matchers import triage
from storage import enquiries as store
from storage.models import AdviserRow, EnquiryRow

log = logging.getLogger(__name__)

_EMAIL_VERBS = {
    "accept": ACCEPT,
    "accepted": ACCEPT,
    "pass": PASS,
    "pass on": PASS,
    "resolve": RESOLVE,
    "resolved": RESOLVE,
    "done": RESOLVE,
}


async def refuse(
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


async def accept(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    actor: Actor,
    now: datetime,
    *,
    tell: bool = True,
) -> Outcome:
    """Take the enquiry on. The enterprise hears who has it and by when to expect an answer
    (``tell=False`` when the answer itself is on its way: the answer says it all)."""
    assert enquiry.id is not None
    ref = store.reference(enquiry.id)
    if enquiry.status == store.ACCEPTED:
        return Outcome(True, f"You have already accepted {ref}.", enquiry.id)
    adviser = actor.adviser
    if adviser is None or adviser.id != enquiry.adviser_id:
        adviser = await store.get_adviser(session, enquiry.adviser_id)
    if adviser is None:
        return Outcome(False, f"{ref} has no adviser to accept it.")
    enquiry.status, enquiry.accepted_at = store.ACCEPTED, now
    enquiry.reply_due_at = desk.hours.add(now, desk.settings.routing.reply_within)
    store.save(session, enquiry)
    await store.cancel_timers(session, enquiry.id, ("ack", "route"))
    await store.add_timer(session, enquiry.id, "reply", adviser.id, enquiry.reply_due_at)
    await store.add_event(session, enquiry.id, "accepted", actor.label, now, adviser=adviser.code)
    if tell:
        by = texts.when(enquiry.reply_due_at, desk.settings.timezone, now)
        to_enterprise(
            desk, session, enquiry, "accepted", texts.accepted_text(adviser.name, ref, by)
        )
    return Outcome(True, f"Accepted {ref}. Reply to the enquiry message to answer.", enquiry.id)


async def pass_on(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    actor: Actor,
    now: datetime,
    to: AdviserRow | None = None,
    note: str | None = None,
) -> Outcome:
    """Pass the enquiry on: to ``to`` (the adviser's choice) or to the next best adviser,
    never back to one who passed it; ``note`` is shown to the new adviser. The enterprise
    hears who has it now."""
    assert enquiry.id is not None
    ref = store.reference(enquiry.id)
    previous = enquiry.adviser_id
    if to is not None and (to.id == previous or not to.active or not reachable(to, now)):
        return Outcome(False, f"{texts.one_line(to.name, 60)} can't take {ref} just now.")
    if previous is not None and previous not in enquiry.excluded:
        enquiry.excluded = [*enquiry.excluded, previous]
    nxt = to if to is not None else await reroute(session, enquiry, now)
    await store.add_event(
        session, enquiry.id, "passed", actor.label, now, to=nxt.code if nxt else None
    )
    if nxt is None:
        enquiry.adviser_id, enquiry.status = None, store.OPEN
        store.save(session, enquiry)
        await unbutton(desk, session, enquiry.id, previous)
        await store.cancel_timers(session, enquiry.id, ("ack", "reply", "route"))
        await store.add_timer(session, enquiry.id, "route", None, now + ROUTE_RETRY)
        await store.add_event(session, enquiry.id, "unrouted", "system", now)
        return Outcome(True, f"Passed on {ref}. Nobody else is free yet; it will be retried.")
    by = texts.one_line(actor.adviser.name, 80) if actor.adviser is not None else "SEEM"
    lead = f"Passed on to you by {by}"
    lead += f": “{texts.clean(note, texts.NOTE_MAX)}”" if note else "."
    await assign(desk, session, enquiry, nxt, now, "routed", SYSTEM, note=lead)
    to_enterprise(desk, session, enquiry, "holder", texts.now_with_text(ref, nxt.name))
    name = texts.one_line(nxt.name, 60)
    return Outcome(
        True,
        f"Passed on {ref} to {name}" + (" with your note." if note else ". Thanks."),
        enquiry.id,
    )


async def resolve(
    desk: Desk, session: AsyncSession, enquiry: EnquiryRow, actor: Actor, now: datetime
) -> Outcome:
    assert enquiry.id is not None
    ref = store.reference(enquiry.id)
    if enquiry.status == store.RESOLVED:
        return Outcome(True, f"{ref} is already resolved.", enquiry.id)
    enquiry.status, enquiry.resolved_at = store.RESOLVED, now
    store.save(session, enquiry)
    await store.cancel_timers(session, enquiry.id, ("ack", "reply", "route"))
    await store.add_event(session, enquiry.id, "resolved", actor.label, now)
    await unbutton(desk, session, enquiry.id, enquiry.adviser_id)
    question = f"Your question {ref} has been marked as resolved. Did we help?"
    if enquiry.channel == "telegram":
        to_enterprise(
            desk,
            session,
            enquiry,
            "rate",
            question,
            buttons=[
                [
                    button("👍 Yes, thanks", enquiry.id, RATE_UP),
                    button("👎 Not really", enquiry.id, RATE_DOWN),
                ]
            ],
        )
    else:
        up = desk.links.rating_url(enquiry.id, True, now)
        down = desk.links.rating_url(enquiry.id, False, now)
        to_enterprise(
            desk,
            session,
            enquiry,
            "rate",
            f"{question}\n\n👍 Yes, thanks: {up}\n👎 Not really: {down}\n\n"
            "If you still need help, just reply to this email.",
        )
    return Outcome(True, f"Resolved {ref}; the enterprise is asked for a rating.", enquiry.id)


async def rate(
    desk: Desk,
    session: AsyncSession,
    enquiry_id: int,
    up: bool,
    now: datetime,
    chat_id: int | None,
) -> Outcome:
    """The enterprise's 👍/👎 on a resolved enquiry (from its chat, or a signed link when
    ``chat_id`` is None). Pressing again changes the rating; the adviser sees each new one."""
    enquiry = await store.get_enquiry(session, enquiry_id)
    if enquiry is None or (chat_id is not None and enquiry.telegram_chat_id != chat_id):
        log.warning("refused a rating for enquiry %s", enquiry_id)
        if enquiry is not None:
            await store.add_event(
                session, enquiry_id, "refused", f"telegram:{chat_id}", now, action="rate"
            )
        return Outcome(False, "That button isn't yours.")
    if enquiry.status != store.RESOLVED:
        return Outcome(False, "This question is still open.")
    rating = 1 if up else -1
    changed = enquiry.rating != rating
    enquiry.rating, enquiry.rated_at = rating, now
    store.save(session, enquiry)
    await store.add_event(
        session, enquiry_id, "rated", "enterprise", now, rating="up" if up else "down"
    )
    adviser = await store.get_adviser(session, enquiry.adviser_id)
    if changed and adviser is not None:
        who = texts.one_line(enquiry.sender_name or "The enterprise", 80)
        notify_adviser(
            desk, session, enquiry, adviser, texts.rated_text(who, store.reference(enquiry_id), up)
        )
    return Outcome(True, "Thanks for your feedback!", enquiry_id)


async def answer(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    actor: Actor,
    text: str,
    channel: str,
    now: datetime,
    message_id: str | None,
) -> None:
    """An adviser's (or admin's) answer, passed on to the enterprise."""
    assert enquiry.id is not None
    if enquiry.status == store.OPEN:
        await accept(desk, session, enquiry, actor, now, tell=False)
    adviser = actor.adviser
    name = texts.one_line(adviser.name, 80) if adviser is not None else "SEEM"
    body = texts.clean(text, 20_000)
    store.add_message(
        session,
        enquiry.id,
        "adviser",
        channel,
        body,
        now,
        email_message_id=message_id,
        adviser_id=adviser.id if adviser else None,
    )
    if enquiry.first_response_at is None:
        enquiry.first_response_at = now
    store.save(session, enquiry)
    await store.cancel_timers(session, enquiry.id, ("reply",))
    await store.add_event(session, enquiry.id, "replied", actor.label, now)
    to_enterprise(desk, session, enquiry, "relay", body, author=name)


async def from_enterprise(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    text: str,
    channel: str,
    now: datetime,
    message_id: str | None,
) -> None:
    """A follow-up from the enterprise, passed on to the adviser (a resolved enquiry
    reopens)."""
    assert enquiry.id is not None
    body = texts.clean(text, 20_000)
    store.add_message(
        session, enquiry.id, "enterprise", channel, body, now, email_message_id=message_id
    )
    await store.add_event(session, enquiry.id, "message", "enterprise", now)
    if enquiry.status == store.RESOLVED:
        enquiry.status, enquiry.resolved_at = store.ACCEPTED, None
        store.save(session, enquiry)
        await store.add_event(session, enquiry.id, "reopened", "enterprise", now)
    adviser = await store.get_adviser(session, enquiry.adviser_id)
    if adviser is None:
        return
    if enquiry.status == store.ACCEPTED:
        enquiry.reply_due_at = desk.hours.add(now, desk.settings.routing.reply_within)
        store.save(session, enquiry)
        await store.cancel_timers(session, enquiry.id, ("reply",))
        await store.add_timer(session, enquiry.id, "reply", adviser.id, enquiry.reply_due_at)
    ref = store.reference(enquiry.id)
    who = texts.one_line(enquiry.sender_name or "The enterprise", 80)
    to_adviser(
        desk,
        session,
        enquiry,
        adviser,
        "relay",
        telegram_html=texts.relay_to_adviser(who, ref, body),
        email_subject=f"Re: [{ref}] {texts.topic_name(enquiry.topic)}",
        email_body=f"{who} wrote about {ref}:\n\n{body}\n\nReply to this email to answer.",
    )


async def adviser_email(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    adviser: AdviserRow,
    msg: IncomingMessage,
    now: datetime,
) -> None:
    """An adviser's email on the enquiry's thread: a one-word command, or an answer."""
    actor = Actor.of_adviser(adviser)
    assert enquiry.id is not None
    if await refuse(session, enquiry, actor, "email", now, allow_resolved=True):
        return
    reply = triage.strip_quoted(msg.text)
    first = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    verb = _EMAIL_VERBS.get(first.lower().rstrip(".!"))
    rest = "\n".join(reply.splitlines()[1:]).strip() if verb else reply
    if verb == ACCEPT:
        await accept(desk, session, enquiry, actor, now)
    elif verb == PASS:
        await pass_on(desk, session, enquiry, actor, now)
    elif verb == RESOLVE and not rest:
        await resolve(desk, session, enquiry, actor, now)
    elif reply.strip():
        await answer(desk, session, enquiry, actor, reply, "email", now, msg.message_id)
        if verb == RESOLVE:
            await resolve(desk, session, enquiry, actor, now)
        return
    if msg.message_id:
        store.add_message(
            session,
            enquiry.id,
            "adviser",
            "email",
            first[:100],
            now,
            email_message_id=msg.message_id,
            adviser_id=adviser.id,
        )
