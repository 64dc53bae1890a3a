"""The SLA timers: route again, escalate what nobody accepted in time, remind about
unanswered ones, and move the overdue enquiries of advisers who are away."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.enquiries import texts
from bot.enquiries.model import ROUTE_RETRY, SYSTEM, Desk
from bot.enquiries.outbox import notify_adviser, to_enterprise
from bot.enquiries.routing import assign, reroute, roster
from matchers import triage
from storage import enquiries as store
from storage.models import AdviserRow, EnquiryRow, EnquiryTimerRow


async def fire(desk: Desk, session: AsyncSession, timer: EnquiryTimerRow, now: datetime) -> None:
    enquiry = await store.get_enquiry(session, timer.enquiry_id)
    if enquiry is None or enquiry.status == store.RESOLVED:
        return
    if timer.kind == "route":
        if enquiry.adviser_id is None:
            promised = enquiry.ack_due_at
            nxt = await reroute(session, enquiry, now)
            if nxt is not None:
                await assign(desk, session, enquiry, nxt, now, "routed", SYSTEM)
            else:
                await store.add_timer(session, enquiry.id or 0, "route", None, now + ROUTE_RETRY)
            if promised is not None and promised <= now:
                await tell_late(desk, session, enquiry, promised, now, nxt, reminded=False)
        return
    if enquiry.adviser_id != timer.adviser_id:
        return  # reassigned since: a newer timer watches the new adviser
    adviser = await store.get_adviser(session, enquiry.adviser_id)
    if adviser is None:
        return
    if timer.kind == "ack" and enquiry.status == store.OPEN:
        await escalate(desk, session, enquiry, adviser, now, "escalated")
    elif timer.kind == "reply" and enquiry.status == store.ACCEPTED:
        if store.is_away(adviser, now):
            await escalate(desk, session, enquiry, adviser, now, "rerouted")
        elif await store.last_author(session, enquiry.id or 0) == "enterprise":
            await remind(desk, session, enquiry, adviser, now)
            if enquiry.first_response_at is None:
                await tell_late(desk, session, enquiry, timer.due_at, now, adviser, reminded=True)


async def tell_late(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    promised: datetime,
    now: datetime,
    adviser: AdviserRow | None,
    *,
    reminded: bool,
) -> None:
    """Tell the enterprise, once per promise, that the time it was given has passed and
    who has its question now."""
    assert enquiry.id is not None
    due = promised.isoformat()
    seen = await store.events(session, enquiry.id)
    if any(e.kind == "late" and e.detail.get("due") == due for e in seen):
        return
    await store.add_event(session, enquiry.id, "late", "system", now, due=due)
    said = texts.when_past(promised, desk.settings.timezone, now)
    name = adviser.name if adviser is not None else None
    ref = store.reference(enquiry.id)
    to_enterprise(desk, session, enquiry, "late", texts.late_text(ref, said, name, reminded))


async def escalate(
    desk: Desk,
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
    promised = enquiry.ack_due_at if enquiry.status == store.OPEN else enquiry.reply_due_at
    if adviser.id not in enquiry.excluded:
        enquiry.excluded = [*enquiry.excluded, adviser.id]
    nxt = await reroute(session, enquiry, now)
    if nxt is None:
        if not rearm:
            return
        # Nobody else: keep it where it is and look again after another SLA period.
        due = desk.hours.add(now, desk.settings.routing.ack_within)
        again = "ack" if enquiry.status == store.OPEN else "reply"
        await store.add_timer(session, enquiry.id, again, adviser.id, due)
        await store.add_event(session, enquiry.id, "overdue", "system", now, adviser=adviser.code)
        notify_adviser(
            desk,
            session,
            enquiry,
            adviser,
            f"⏰ {ref} is past its time and no other adviser is free to take it: please "
            "answer it, or pass it on with its buttons.",
        )
        if promised is not None:
            await tell_late(desk, session, enquiry, promised, now, adviser, reminded=True)
        return
    why = (
        "was not accepted in time" if kind == "escalated" else "is overdue and its adviser is away"
    )
    await assign(desk, session, enquiry, nxt, now, kind, SYSTEM, note=f"Escalated: {ref} {why}.")
    if promised is not None:
        await tell_late(desk, session, enquiry, promised, now, nxt, reminded=False)
    notify_adviser(
        desk,
        session,
        enquiry,
        adviser,
        f"⏱ {ref} {why}, so it has been passed to another adviser. No action needed.",
    )
    for view, row in await roster(session, now):
        if triage.GENERAL in view.topics and not view.away and row.id not in (adviser.id, nxt.id):
            notify_adviser(
                desk,
                session,
                enquiry,
                row,
                f"⏱ Duty: {ref} ({texts.topic_name(enquiry.topic)}) {why}; "
                f"now with {texts.one_line(nxt.name, 80)}.",
            )


async def remind(
    desk: Desk, session: AsyncSession, enquiry: EnquiryRow, adviser: AdviserRow, now: datetime
) -> None:
    assert enquiry.id is not None
    ref = store.reference(enquiry.id)
    await store.add_event(session, enquiry.id, "reminded", "system", now, adviser=adviser.code)
    notify_adviser(
        desk,
        session,
        enquiry,
        adviser,
        f"⏰ Reminder: {ref} is waiting for your reply. Reply to the enquiry message to "
        "answer, or use its buttons to pass it on or resolve it.",
    )


async def sweep_away(desk: Desk, session: AsyncSession, now: datetime) -> None:
    """Live enquiries of advisers who are away, past their SLA: reroute them."""
    away = {a.id: a for a in await store.list_advisers(session) if store.is_away(a, now)}
    if not away:
        return
    for enquiry in await store.live_of_advisers(session, [i for i in away if i is not None]):
        if store.is_overdue(enquiry, now) and enquiry.adviser_id is not None:
            await escalate(
                desk, session, enquiry, away[enquiry.adviser_id], now, "rerouted", rearm=False
            )
