"""Routing: the roster as triage sees it, picking an adviser, assigning, briefing them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.enquiries import texts
from bot.enquiries.model import ACCEPT, PASS, RESOLVE, Actor, Desk
from bot.enquiries.outbox import button, to_adviser, unbutton
from bot.render.phrases import region_names
from matchers import triage
from storage import enquiries as store
from storage.models import AdviserRow, EnquiryRow

Roster = list[tuple[triage.Adviser, AdviserRow]]


async def roster(session: AsyncSession, now: datetime) -> Roster:
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


def reachable(row: AdviserRow, now: datetime) -> bool:
    """Whether an adviser can be given an enquiry now: a way to reach them, not away."""
    return (row.telegram_id is not None or bool(row.email)) and not store.is_away(row, now)


async def candidates(session: AsyncSession, enquiry: EnquiryRow, now: datetime) -> list[AdviserRow]:
    """Whom an adviser may pass an enquiry to, best first: reachable, active, not its
    current adviser nor one who passed it; those who cover its topic first, then the least
    loaded."""
    people = await roster(session, now)
    skip = {enquiry.adviser_id, *enquiry.excluded}
    fit = [
        (view, row)
        for view, row in people
        if row.id not in skip and not view.away and view.open < max(view.capacity, 1)
    ]
    fit.sort(
        key=lambda p: (
            enquiry.topic not in p[0].topics,
            triage.GENERAL not in p[0].topics,
            p[0].open / max(p[0].capacity, 1),
            p[1].name,
        )
    )
    return [row for _, row in fit]


def pick(
    people: Sequence[tuple[triage.Adviser, AdviserRow]], code: str | None
) -> AdviserRow | None:
    if code is None:
        return None
    return next((row for view, row in people if view.id == code), None)


async def reroute(session: AsyncSession, enquiry: EnquiryRow, now: datetime) -> AdviserRow | None:
    """The next best adviser, never one in ``enquiry.excluded``."""
    people = await roster(session, now)
    by_id = {row.id: row.code for _, row in people}
    excluded = [by_id[i] for i in enquiry.excluded if i in by_id]
    chosen, _candidates, _why = triage.route_topic(
        str(enquiry.id), enquiry.topic, enquiry.region, [a for a, _ in people], excluded
    )
    return pick(people, chosen)


async def assign(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    adviser: AdviserRow,
    now: datetime,
    event: str,
    actor: Actor,
    note: str | None = None,
) -> None:
    assert enquiry.id is not None and adviser.id is not None
    previous = enquiry.adviser_id
    if previous is not None and previous != adviser.id:
        await unbutton(desk, session, enquiry.id, previous)
    enquiry.adviser_id, enquiry.status = adviser.id, store.OPEN
    enquiry.assigned_at, enquiry.accepted_at = now, None
    enquiry.ack_due_at = desk.hours.add(now, desk.settings.routing.ack_within)
    store.save(session, enquiry)
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
    await brief_adviser(desk, session, enquiry, adviser, note)


async def brief_adviser(
    desk: Desk, session: AsyncSession, enquiry: EnquiryRow, adviser: AdviserRow, note: str | None
) -> None:
    brief = await make_brief(desk, session, enquiry, note)
    assert enquiry.id is not None
    subject, body = texts.adviser_email(brief)
    to_adviser(
        desk,
        session,
        enquiry,
        adviser,
        "brief",
        telegram_html=texts.adviser_telegram(brief),
        email_subject=subject,
        email_body=body,
        buttons=[
            [
                button("✅ Accept", enquiry.id, ACCEPT),
                button("↪️ Pass on", enquiry.id, PASS),
                button("☑️ Resolve", enquiry.id, RESOLVE),
            ]
        ],
    )


async def make_brief(
    desk: Desk, session: AsyncSession, enquiry: EnquiryRow, note: str | None
) -> texts.Brief:
    assert enquiry.id is not None
    who = (
        await store.enterprise(session, subscriber_id=enquiry.subscriber_id)
        if (enquiry.subscriber_id)
        else None
    )
    profile_lines: list[str] = []
    if who is not None:
        if who.keywords:
            profile_lines.append("Keywords: " + ", ".join(who.keywords[:12]))
        if who.regions:
            profile_lines.append("Regions: " + region_names(who.regions, 8))
        if who.vcse_only:
            profile_lines.append("VCSE opportunities only")
        profile_lines.append(f"Alerts: {who.frequency}" + (" (paused)" if who.paused else ""))
    else:
        profile_lines.append("Not an alerts subscriber")
    contact = (
        enquiry.email
        if enquiry.channel == "email" and enquiry.email
        else "via Telegram (reply here to answer)"
    )
    notice = await store.notice_brief(session, enquiry.notice_id)
    said = [
        m.text for m in await store.messages_of(session, enquiry.id) if m.author == "enterprise"
    ]
    facts: list[str] = []
    if notice is not None:
        if notice.buyer:
            facts.append(f"Buyer: {notice.buyer}")
        if notice.deadline is not None:
            local = notice.deadline.astimezone(desk.settings.timezone)
            facts.append("Closes: " + local.strftime("%a %d %b %Y %H:%M"))
    return texts.Brief(
        reference=store.reference(enquiry.id),
        topic=enquiry.topic,
        confidence=enquiry.confidence,
        region=enquiry.region,
        enterprise=enquiry.sender_name or (who.name if who and who.name else "An enterprise"),
        contact=contact,
        profile=profile_lines,
        notice_title=notice.title if notice is not None else None,
        notice_url=notice.url if notice is not None else None,
        notice_facts=facts,
        subject=enquiry.subject,
        text=enquiry.text,
        reasons=enquiry.reasons,
        note=note,
        follow_ups=said[1:],
    )
