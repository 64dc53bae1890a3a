"""Telegram side of enquiries: ``/ask``, the ❓ alert button, adviser buttons and replies,
``/queue``, ``/away``, ``/back``, the adviser invite and admins' ``/stats``.

Handlers keep nothing in memory: who may do what is looked up in the database on every
update (callback data and replies can be forged or replayed). The text handler runs in an
earlier handler group (:data:`TEXT_GROUP`), so it sees messages before the catch-alls of
other packages and stops them only when a message is for an enquiry.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.callbacks import unpack, verify
from bot.chat.core import turn_for
from bot.enquiries import conversation, menus, texts
from bot.enquiries.model import (
    ACCEPT,
    BACK,
    DROP,
    ENQUIRY_ACTION,
    PASS,
    PASS_NOTE_STEP,
    PASS_NOTE_WAIT,
    PASS_NOW,
    PASS_TO,
    RATE_DOWN,
    RATE_UP,
    RESOLVE,
    RESOLVE_YES,
    SEND_TO,
    IncomingMessage,
)
from bot.enquiries.service import EnquiryService
from bot.links import from_start_payload
from bot.render.telegram import ACTION_ASK, feedback_lines
from bot.reports.stats import headline_lines
from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.wording import GARBLED, NOT_ADMIN, NOT_YOURS
from storage import enquiries as store
from storage.chat import set_state, take_state
from storage.feedback import delivery_for_chat, feedback_totals
from storage.suppression import REASONS, suppression_counts

log = logging.getLogger(__name__)

Context = BotContext

ASK_HOW = "Send your question in one message (send any command to cancel)."
ASK_PROMPT = f"What would you like to ask a SEEM adviser? {ASK_HOW}"
TOO_SHORT = "Please write a few words so the right adviser can help."
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _service(context: Context) -> EnquiryService:
    return context.services.enquiries


async def _reply(update: Update, text_html: str) -> None:
    chat, message = update.effective_chat, update.effective_message
    if chat is not None and message is not None:
        await replies.send_html(message.get_bot(), chat.id, text_html)


async def _unknown(update: Update, context: Context) -> None:
    from bot.chat.onboarding import on_unknown_command

    await on_unknown_command(update, context)


# --- intake ----------------------------------------------------------------------------------


async def on_ask(update: Update, context: Context) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    text = (message.text or "").partition(" ")[2].strip()
    service = _service(context)
    if not text:
        await service.await_question(chat.id)
        await _reply(update, html.escape(ASK_PROMPT, quote=False))
        return
    await _ask(service, update, text, None)


async def _ask(service: EnquiryService, update: Update, text: str, notice_id: int | None) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    if len(text.split()) < 2:
        await service.await_question(chat.id, notice_id)
        await _reply(update, html.escape(TOO_SHORT, quote=False))
        return
    name = None
    if chat.type == ChatType.PRIVATE and user is not None:
        name = user.full_name
    elif chat.title:
        name = chat.title
    # The acknowledgement (with the reference) goes out through the enquiry outbox.
    await service.receive(
        IncomingMessage(
            channel="telegram",
            text=text,
            sender_name=name,
            telegram_chat_id=chat.id,
            notice_id=notice_id,
        )
    )


async def on_ask_button(update: Update, context: Context) -> None:
    """❓ Ask an adviser under an alert: the next message is a question about that notice."""
    query = update.callback_query
    if query is None:
        return
    parsed = unpack(query.data)
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else query.from_user.id
    service = _service(context)
    delivery_id = parsed.id(0) if parsed is not None else None
    if parsed is None or parsed.action != ACTION_ASK or delivery_id is None:
        await replies.answer(query, GARBLED)
        return
    turn = turn_for(update, context, with_args=False)
    if turn is not None and not await turn.is_admin():
        await replies.answer(query, NOT_ADMIN)
        return
    async with service.db.session() as session:
        owned = await delivery_for_chat(session, delivery_id, chat_id)
        notice = await store.notice_brief(session, owned.delivery.notice_id) if owned else None
    if owned is None:
        log.warning("refused an ask press for delivery %s: not this chat's", delivery_id)
        await replies.answer(query, NOT_YOURS)
        return
    notice_id = owned.delivery.notice_id
    await service.await_question(chat_id, notice_id)
    # several notices may share the pressed message (a group, a digest): name the one asked about
    title = " ".join((notice.title if notice is not None else "").split())
    await replies.answer(query, f"Ask about: {title[:150]}" if title else "Send your question")
    about = f"this opportunity, “{title[:120]}”" if title else "this opportunity"
    await replies.send_html(
        context.bot,
        chat_id,
        html.escape(f"What would you like to ask about {about}? {ASK_HOW}", quote=False),
    )


async def on_text(update: Update, context: Context) -> None:
    """Runs before every other text handler: an awaited question, or a reply to one of our
    enquiry messages, is consumed here; anything else passes on untouched."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or message.text is None:
        return
    service = _service(context)
    text = message.text
    if text.startswith("/"):
        if not text.startswith("/ask"):
            await service.take_question_state(chat.id)  # any other command cancels /ask
        return
    reply_to = message.reply_to_message
    if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.is_bot:
        async with service.db.session() as session:
            found = await store.enquiry_for_message(session, chat.id, reply_to.message_id)
        actor = await service.actor_for(user.id) if user is not None else None
        if found is not None:
            enquiry, row = found
            assert enquiry.id is not None
            if row.recipient == "adviser":
                if actor is None:
                    log.warning("refused a reply on enquiry %s from a non-adviser", enquiry.id)
                    outcome_text = "Only the adviser handling this enquiry can answer it."
                else:
                    outcome = await service.relay_from_adviser(enquiry.id, actor, text)
                    outcome_text = outcome.message
            else:
                outcome = await service.relay_from_enterprise(enquiry.id, chat.id, text)
                outcome_text = outcome.message
            await _reply(update, f"<i>{html.escape(outcome_text, quote=False)}</i>")
            raise ApplicationHandlerStop
    awaiting, notice_id = await service.take_question_state(chat.id)
    if awaiting:
        await _ask(service, update, text.strip(), notice_id)
        raise ApplicationHandlerStop
    if await conversation.take_pass_note(update, context, text):
        raise ApplicationHandlerStop
    if await conversation.on_plain_text(update, context, text):
        raise ApplicationHandlerStop


async def on_non_text(update: Update, context: Context) -> None:
    """Runs before the other non-text handlers: a photo or file for an open enquiry gets a
    clear answer (its caption is passed on); anything else passes on untouched."""
    if await conversation.on_non_text(update, context):
        raise ApplicationHandlerStop


# --- adviser buttons ---------------------------------------------------------------------------


async def on_enquiry_button(update: Update, context: Context) -> None:
    """Every enquiry button. The data must be signed for this chat (a button copied from
    elsewhere or typed by hand is refused and audited), and whoever presses must be the
    enquiry's adviser, an admin, or — for ratings and drafts — its enterprise."""
    query = update.callback_query
    if query is None:
        return
    service = _service(context)
    chat = update.effective_chat
    user_id = query.from_user.id
    chat_id = chat.id if chat is not None else user_id
    parsed = verify(context.services.signer.button_key(), chat_id, query.data)
    enquiry_id = parsed.id(0) if parsed is not None else None
    if parsed is None or enquiry_id is None:
        await _refuse_unsigned(service, query, user_id)
        return
    verb = parsed.arg(1)
    if verb in (RATE_UP, RATE_DOWN):
        outcome = await service.rate(enquiry_id, verb == RATE_UP, chat_id=chat_id)
        await replies.answer(query, outcome.message)
        if outcome.ok:
            await _mark(
                query,
                "Thanks for your feedback! 👍" if verb == RATE_UP else "Thanks for your feedback.",
            )
        return
    actor = await service.actor_for(user_id)
    if verb in (SEND_TO, DROP):
        await _on_draft(query, service, chat_id, enquiry_id, verb, parsed.id(2), actor)
        return
    if verb not in ADVISER_VERBS:
        await replies.answer(query, GARBLED)
        return
    if actor is None:
        log.warning("refused enquiry button %r on %s: not an adviser", verb, enquiry_id)
        await replies.answer(query, NOT_YOURS)
        return
    await ADVISER_VERBS[verb](query, context, enquiry_id, actor, parsed)


async def _refuse_unsigned(service: EnquiryService, query: Any, user_id: int) -> None:
    raw = unpack(query.data)
    enquiry_id = raw.id(0) if raw is not None and raw.action == ENQUIRY_ACTION else None
    if raw is None or enquiry_id is None:
        log.warning("unreadable enquiry callback refused")
        await replies.answer(query, GARBLED)
        return
    actor = await service.actor_for(user_id)
    label = actor.label if actor is not None else f"telegram:{user_id}"
    log.warning("refused an unsigned enquiry button on %s by %s", enquiry_id, label)
    await service.refused_press(enquiry_id, label, raw.arg(1))
    await replies.answer(query, NOT_YOURS)


async def _on_draft(
    query: Any,
    service: EnquiryService,
    chat_id: int,
    enquiry_id: int,
    verb: str,
    draft_id: int | None,
    actor: Any,
) -> None:
    """A pick for a kept plain message: send it to that enquiry, or don't send it."""
    if draft_id is None:
        await replies.answer(query, GARBLED)
        return
    if verb == DROP:
        await service.drop_draft(draft_id, chat_id)
        await replies.answer(query, "Not sent")
        await _mark(query, "Not sent.")
        return
    outcome = await service.send_draft(draft_id, chat_id, enquiry_id, actor)
    await replies.answer(query, outcome.message)
    if outcome.ok:
        await _mark(query, outcome.message)


async def _accept(query: Any, context: Context, enquiry_id: int, actor: Any, _: Any) -> None:
    outcome = await _service(context).act(enquiry_id, ACCEPT, actor)
    await replies.answer(query, outcome.message)
    if outcome.ok:
        await _mark(
            query,
            "Accepted — send your answer here.",
            await _brief_keys(query, context, enquiry_id),
        )


async def _resolve_ask(query: Any, context: Context, enquiry_id: int, actor: Any, _: Any) -> None:
    """☑️ Resolve asks first: a slip of the thumb must not close someone's question."""
    refused = await _service(context).check(enquiry_id, actor, RESOLVE)
    if refused is not None:
        await replies.answer(query, refused.message)
        return
    ref = store.reference(enquiry_id)
    await replies.answer(query, f"Resolve {ref}? Confirm below.")
    key = context.services.signer.button_key()
    await replies.edit_in_place(query, None, menus.resolve_confirm(key, _chat(query), enquiry_id))


async def _resolve(query: Any, context: Context, enquiry_id: int, actor: Any, _: Any) -> None:
    outcome = await _service(context).act(enquiry_id, RESOLVE, actor)
    await replies.answer(query, outcome.message)
    if outcome.ok:
        await _mark(query, "Resolved.")


async def _back(query: Any, context: Context, enquiry_id: int, actor: Any, _: Any) -> None:
    """↩️: the enquiry's own buttons again (and no note is awaited any more)."""
    service = _service(context)
    refused = await service.check(enquiry_id, actor, BACK)
    if refused is not None:
        await replies.answer(query, refused.message)
        return
    async with service.db.session() as session:
        await take_state(session, _chat(query), PASS_NOTE_STEP, service.clock())
    await replies.answer(query, f"{store.reference(enquiry_id)}: choose again")
    message = query.message
    status = replies.with_status(message, "Choose again below.") if _has_text(query) else None
    await replies.edit_in_place(query, status, await _brief_keys(query, context, enquiry_id))


async def _pass_menu(query: Any, context: Context, enquiry_id: int, actor: Any, _: Any) -> None:
    """↪️ Pass on: whom to? The best few colleagues by name, or whoever fits best."""
    service = _service(context)
    refused = await service.check(enquiry_id, actor, PASS)
    if refused is not None:
        await replies.answer(query, refused.message)
        return
    choices = await service.pass_choices(enquiry_id)
    await replies.answer(query, f"Pass {store.reference(enquiry_id)} to whom?")
    key = context.services.signer.button_key()
    await replies.edit_in_place(
        query, None, menus.pass_picker(key, _chat(query), enquiry_id, choices)
    )


async def _pass_choose(
    query: Any, context: Context, enquiry_id: int, actor: Any, parsed: Any
) -> None:
    """A colleague (or "whoever fits best") chosen: ask for an optional note."""
    service = _service(context)
    to = parsed.id(2)
    refused = await service.check(enquiry_id, actor, PASS)
    if refused is not None or to is None:
        await replies.answer(query, refused.message if refused is not None else GARBLED)
        return
    name = "whoever fits best"
    if to != menus.BEST:
        async with service.db.session() as session:
            chosen = await store.get_adviser(session, to)
        if chosen is None:
            await replies.answer(query, "That adviser isn't on the roster any more.")
            return
        name = texts.one_line(chosen.name, 60)
    message_id = query.message.message_id if query.message is not None else None
    async with service.db.session() as session:
        await set_state(
            session,
            _chat(query),
            PASS_NOTE_STEP,
            {"enquiry": enquiry_id, "to": to, "message": message_id},
            expires_at=service.clock() + PASS_NOTE_WAIT,
        )
    await replies.answer(query, f"Passing to {name}")
    status = f"Passing {store.reference(enquiry_id)} to {name}. Send a note for them now, or:"
    key = context.services.signer.button_key()
    keyboard = menus.pass_note_keyboard(key, _chat(query), enquiry_id, to)
    text = replies.with_status(query.message, status) if _has_text(query) else None
    await replies.edit_in_place(query, text, keyboard)


async def _pass_now(query: Any, context: Context, enquiry_id: int, actor: Any, parsed: Any) -> None:
    service = _service(context)
    to = parsed.id(2)
    if to is None:
        await replies.answer(query, GARBLED)
        return
    async with service.db.session() as session:
        await take_state(session, _chat(query), PASS_NOTE_STEP, service.clock())
    outcome = await service.pass_to(enquiry_id, actor, to or None)
    await replies.answer(query, outcome.message)
    if outcome.ok:
        await _mark(query, outcome.message)


def _chat(query: Any) -> int:
    message = query.message
    return int(message.chat.id) if message is not None else int(query.from_user.id)


def _has_text(query: Any) -> bool:
    return query.message is not None and bool(getattr(query.message, "text_html", None))


async def _brief_keys(query: Any, context: Context, enquiry_id: int) -> Any:
    service = _service(context)
    async with service.db.session() as session:
        enquiry = await store.get_enquiry(session, enquiry_id)
    if enquiry is None:
        return None
    return menus.brief_keyboard(context.services.signer.button_key(), _chat(query), enquiry)


ADVISER_VERBS = {
    ACCEPT: _accept,
    PASS: _pass_menu,
    PASS_TO: _pass_choose,
    PASS_NOW: _pass_now,
    RESOLVE: _resolve_ask,
    RESOLVE_YES: _resolve,
    BACK: _back,
}


async def _mark(query: Any, status: str, markup: Any = None) -> None:
    """Show the outcome under the message, with ``markup`` as its buttons (None: none left)."""
    message = query.message
    if message is None or not getattr(message, "text_html", None):
        return
    await replies.edit_in_place(query, replies.with_status(message, status), markup)


# --- adviser commands ----------------------------------------------------------------------------


async def _adviser(update: Update, context: Context) -> Any:
    """The adviser sending this command in a private chat, else None (after answering as for
    an unknown command: non-advisers get no adviser commands)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        await _unknown(update, context)
        return None
    async with _service(context).db.session() as session:
        adviser = await store.adviser_by_telegram(session, user.id)
    if adviser is None:
        await _unknown(update, context)
    return adviser


async def on_queue(update: Update, context: Context) -> None:
    adviser = await _adviser(update, context)
    if adviser is None:
        return
    service = _service(context)
    now = service.clock()
    async with service.db.session() as session:
        live = await store.live_for_adviser(session, adviser.id)
    if not live:
        await _reply(update, "Your queue is empty. 🎉")
        return
    lines = [f"<b>Your open enquiries ({len(live)})</b>"]
    for enquiry in live[:40]:
        assert enquiry.id is not None
        flag = " ⚠️ overdue" if store.is_overdue(enquiry, now) else ""
        state = "waiting for you to accept" if enquiry.status == store.OPEN else "accepted"
        lines.append(
            f"• {store.reference(enquiry.id)} — {texts.esc(texts.topic_name(enquiry.topic))}, "
            f"{texts.esc(texts.one_line(enquiry.sender_name or 'enterprise', 40))}, "
            f"{texts.age(now - enquiry.created_at)} old, {state}{flag}"
        )
    if store.is_away(adviser, now):
        lines.append("\n<i>You are marked away: send /back when you return.</i>")
    await _reply(update, "\n".join(lines))


def parse_day(text: str, today: date) -> date | None:
    """``2026-12-01``, ``1/12/2026``, ``1 Dec [2026]``, ``Monday``, ``tomorrow``."""
    word = text.strip().lower().removeprefix("until").strip()
    if not word:
        return None
    if word == "tomorrow":
        return today + timedelta(days=1)
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for i, name in enumerate(days):
        if word in (name, name[:3]):
            return today + timedelta(days=(i - today.weekday() - 1) % 7 + 1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        pass
    found = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", word)
    if found:
        day, month, year = int(found[1]), int(found[2]), found[3]
    else:
        found = re.fullmatch(
            r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\.?(?:\s+(\d{4}))?", word
        )
        if not found or found[2] not in MONTHS:
            return None
        day, month, year = int(found[1]), MONTHS.index(found[2]) + 1, found[3]
    full_year = int(year) + (2000 if year and len(year) == 2 else 0) if year else today.year
    try:
        result = date(full_year, month, day)
    except ValueError:
        return None
    if year is None and result < today:
        result = result.replace(year=today.year + 1)
    return result


async def on_away(update: Update, context: Context) -> None:
    adviser = await _adviser(update, context)
    if adviser is None:
        return
    service = _service(context)
    tz = service.settings.timezone
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    arg = (message.text or "").partition(" ")[2].strip()
    until: datetime | None = None
    if arg:
        day = parse_day(arg, service.clock().astimezone(tz).date())
        if day is None:
            await _reply(
                update,
                "Sorry, I couldn't read that date. Try <code>/away until 2026-12-01</code>, "
                "<code>/away until 1 Dec</code> or just <code>/away</code>.",
            )
            return
        until = datetime.combine(day, time(0, 0), tzinfo=tz)
    await service.set_away(update.effective_user.id, until)
    back = (
        f" until {until.strftime('%a')} {until.day} {until.strftime('%b')}"
        if until is not None
        else ""
    )
    await _reply(
        update,
        f"You're marked away{back}. New enquiries go to other advisers, and your open ones "
        "are passed on if they become overdue. Send /back when you return.",
    )


async def on_back(update: Update, context: Context) -> None:
    adviser = await _adviser(update, context)
    if adviser is None:
        return
    assert update.effective_user is not None
    await _service(context).set_back(update.effective_user.id)
    await _reply(update, "Welcome back! You'll receive new enquiries again. /queue shows yours.")


async def on_invite(update: Update, context: Context, payload: str) -> None:
    """``/start adv-<token>``: link this Telegram account to the invited adviser."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    services = context.services
    token = services.signer.verify("adv", from_start_payload(payload.strip()))
    adviser_pk = int(token.subject) if token is not None and token.subject.isdigit() else None
    service = services.enquiries
    adviser = await service.link_adviser(adviser_pk, user.id) if adviser_pk is not None else None
    if adviser is None:
        log.warning("refused an adviser invite (bad, used or clashing)")
        await _reply(
            update,
            "Sorry, this adviser invite link is not valid or has already been used. "
            "Please ask a SEEM admin for a new one.",
        )
        return
    await _reply(
        update,
        f"Welcome, {texts.esc(texts.one_line(adviser.name, 80))}! You're set up as a SEEM "
        "adviser: enquiries for you will arrive here with Accept / Pass on / Resolve buttons, "
        "and replying to an enquiry message answers the enterprise.\n"
        "/queue — your open enquiries\n/away [until DATE] — pause new enquiries\n"
        "/back — receive them again\n/partners — enterprises open to bidding together\n"
        "/report — the latest market report",
    )


# --- admins ----------------------------------------------------------------------------------


async def on_stats(update: Update, context: Context) -> None:
    """Admins: enquiry figures and alert feedback totals; anyone else: unknown command."""
    user = update.effective_user
    service = _service(context)
    if user is None or user.id not in service.settings.admin_ids:
        await _unknown(update, context)
        return
    now = service.clock()
    async with service.db.session() as session:
        headline = await headline_lines(session, now)
        stats = await store.enquiry_stats(session, now)
        totals = await feedback_totals(session)
        suppressions = await suppression_counts(session)
    median = texts.age(stats.median_first_response) if stats.median_first_response else "—"
    lines = [*headline, "", *feedback_lines(totals)]
    lines += [
        "\n<b>Enquiries</b>",
        f"Open: {stats.open} (overdue: {stats.overdue}) · resolved: {stats.resolved} · "
        f"total: {stats.total}",
        f"Median time to first response: {median}",
        f"Ratings: {stats.ratings_up} 👍, {stats.ratings_down} 👎",
    ]
    if stats.by_topic:
        lines.append("<b>By topic</b> (open/total)")
        for topic, n in stats.by_topic.most_common(10):
            lines.append(
                f"• {texts.esc(texts.topic_name(topic))}: {stats.open_by_topic[topic]}/{n}"
            )
    if stats.by_adviser:
        lines.append("<b>By adviser</b> (open/total)")
        for name, n in stats.by_adviser.most_common(15):
            lines.append(
                f"• {texts.esc(texts.one_line(name, 60))}: {stats.open_by_adviser[name]}/{n}"
            )
    lines.append("\n<b>Email</b>")
    lines.append(suppression_line(suppressions))
    await _reply(update, "\n".join(lines))


def suppression_line(counts: dict[str, int]) -> str:
    """ "Suppressed addresses: 3 (2 hard bounce, 1 spam complaint)" — never mailed again."""
    total = sum(counts.values())
    if not total:
        return "Suppressed addresses: none"
    parts = [f"{n} {REASONS.get(reason, reason)}" for reason, n in sorted(counts.items())]
    return f"Suppressed addresses: {total} ({texts.esc(', '.join(parts))})"
