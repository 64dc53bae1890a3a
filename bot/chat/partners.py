"""🤝 Open to partners: an enterprise says it would bid for a notice with others.

Enterprises who press it for the same notice are listed to SEEM advisers (``/partners``)
so that an adviser can broker a consortium bid. Being named to advisers needs consent, so
the button only asks: the confirmation says exactly who will see what, and only its "yes"
(callback data signed for this alert and this chat, so it cannot be skipped or replayed
elsewhere) records the consent, with the text that was agreed to. Pressing 🤝 again offers
to withdraw; ``/forget`` deletes it with everything else.

Every press is checked as the other alert buttons are: the alert must be this chat's, and
in a group only its admins may answer for the group.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.chat.core import turn_for
from bot.render.telegram import ACTION_PARTNER
from bot.render.text import clean, esc
from bot.services import Services
from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.wording import GARBLED, NOT_ADMIN, NOT_YOURS
from storage.feedback import Owned, delivery_for_chat
from storage.notices import get_notice
from storage.partners import add_interest, has_interest, withdraw_interest

__all__ = ["CONSENT", "consent_text", "on_callback", "signature"]

log = logging.getLogger(__name__)

YES, NO, WITHDRAW = "y", "n", "w"
CONSENT = (
    "If you say yes, SEEM advisers will see that {name} is open to bidding with partners "
    "for this notice, and how to reach you: this Telegram chat, and your email address if "
    "you linked one. They may introduce you to other enterprises that said the same, to "
    "put a joint bid together. Nothing is shared with other enterprises or the buyer "
    "without asking you first. Press 🤝 again to withdraw at any time; /forget deletes it."
)


def signature(services: Services, delivery_id: int, chat_id: int, verb: str) -> str:
    """A short HMAC binding an answer to this alert, this chat and this verb."""
    key = services.signer.key_for("partner-consent").encode()
    digest = hmac.new(key, f"{delivery_id}:{chat_id}:{verb}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


def consent_text(name: str | None) -> str:
    return CONSENT.format(name=clean(name, 100) or "your enterprise")


def _chat_of(query: CallbackQuery) -> int:
    message = query.message
    if message is not None and message.is_accessible:
        return message.chat.id
    return query.from_user.id


def _markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def on_callback(update: Update, context: BotContext) -> None:
    """``ptn:<delivery>`` asks; ``ptn:<delivery>:y|w:<signature>`` answers; ``:n`` declines."""
    query = update.callback_query
    if query is None:
        return
    parsed = unpack(query.data)
    delivery_id = parsed.id(0) if parsed is not None else None
    verb = parsed.arg(1) if parsed is not None else ""
    if parsed is None or delivery_id is None or verb not in ("", YES, NO, WITHDRAW):
        await replies.answer(query, GARBLED)
        return
    turn = turn_for(update, context, with_args=False)
    if turn is not None and not await turn.is_admin():
        await replies.answer(query, NOT_ADMIN)
        return
    services, chat_id = context.services, _chat_of(query)
    if verb in (YES, WITHDRAW) and not hmac.compare_digest(
        parsed.arg(2), signature(services, delivery_id, chat_id, verb)
    ):
        log.warning("refused a partner answer with a bad signature")
        await replies.answer(query, GARBLED)
        return
    async with services.db.session() as session:
        owned = await delivery_for_chat(session, delivery_id, chat_id)
        if owned is None:
            log.warning("refused a partner press for delivery %s: not this chat's", delivery_id)
            await replies.answer(query, NOT_YOURS)
            return
        if verb == "":
            await _ask(query, services, owned, chat_id, session)
        elif verb == YES:
            await _agree(query, services, owned, session)
        elif verb == WITHDRAW:
            await _withdraw(query, owned, session)
        else:
            await replies.answer(query, "Not listed")
            await _replace(query, "Not listed: nothing was shared.")


async def _title(session: AsyncSession, owned: Owned) -> str:
    notice = await get_notice(session, owned.delivery.notice_id)
    return clean(notice.title if notice is not None else "", 120) or "this notice"


async def _ask(
    query: CallbackQuery, services: Services, owned: Owned, chat_id: int, session: AsyncSession
) -> None:
    delivery = owned.delivery
    assert delivery.id is not None and owned.subscriber.id is not None
    title = esc(await _title(session, owned))
    bot = query.get_bot()
    listed = await has_interest(session, owned.subscriber.id, delivery.notice_id)
    if listed:
        await replies.answer(query, "You are listed — see below")
        withdraw = pack(
            ACTION_PARTNER,
            delivery.id,
            WITHDRAW,
            signature(services, delivery.id, chat_id, WITHDRAW),
        )
        await replies.send_html(
            bot,
            chat_id,
            f"🤝 You are listed to SEEM advisers as open to partners for “{title}”.",
            _markup([[("Withdraw", withdraw), ("Keep it", pack(ACTION_PARTNER, delivery.id, NO))]]),
        )
        return
    await replies.answer(query, "Please confirm below")
    yes = pack(ACTION_PARTNER, delivery.id, YES, signature(services, delivery.id, chat_id, YES))
    await replies.send_html(
        bot,
        chat_id,
        f"🤝 <b>Open to partners for “{title}”?</b>\n\n{esc(consent_text(owned.subscriber.name))}",
        _markup([[("✅ Yes, list us", yes), ("No thanks", pack(ACTION_PARTNER, delivery.id, NO))]]),
    )


async def _agree(
    query: CallbackQuery, services: Services, owned: Owned, session: AsyncSession
) -> None:
    sub_id, notice_id = owned.subscriber.id, owned.delivery.notice_id
    assert sub_id is not None
    consent = consent_text(owned.subscriber.name)
    added = await add_interest(session, sub_id, notice_id, consent, services.clock())
    title = esc(await _title(session, owned))
    log.info("subscriber %s is open to partners for notice %s", sub_id, notice_id)
    await replies.answer(query, "Listed" if added else "Already listed")
    await _replace(
        query,
        f"✅ Listed: SEEM advisers can see you are open to partners for “{title}”. "
        "An adviser will be in touch if others are too. Press 🤝 again to withdraw.",
    )


async def _withdraw(query: CallbackQuery, owned: Owned, session: AsyncSession) -> None:
    sub_id = owned.subscriber.id
    assert sub_id is not None
    removed = await withdraw_interest(session, sub_id, owned.delivery.notice_id)
    await replies.answer(query, "Withdrawn" if removed else "You were not listed")
    await _replace(query, "Withdrawn: advisers no longer see you as open to partners for it.")


async def _replace(query: CallbackQuery, text_html: str) -> None:
    """Turn the confirmation into its outcome, without buttons (they have been answered)."""
    await replies.edit_in_place(query, text_html, None)
