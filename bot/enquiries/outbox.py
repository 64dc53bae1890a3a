"""Queueing enquiry messages: to the enterprise on the channel it used, to an adviser on
theirs. Every message is a row in the message outbox, written in the caller's transaction
together with the change it reports; :meth:`EnquiryService.flush` sends them.

Buttons are signed for the chat they are sent to (:func:`bot.callbacks.sign`), and
when an enquiry moves on the buttons of its old adviser's messages are taken away by an
outbox row too (:func:`unbutton`), so nothing is changed behind the outbox's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import pack, sign
from bot.delivery.messages import EDIT_OF
from bot.enquiries import texts
from bot.enquiries.model import ENQUIRY_ACTION, Desk
from storage import enquiries as store
from storage.messages import NewMessage, queue_message
from storage.models import AdviserRow, EnquiryRow

Buttons = Sequence[Sequence[dict[str, Any]]]


def button(text: str, enquiry_id: int, verb: str, *args: str | int) -> dict[str, Any]:
    """An enquiry button (its data is signed when it is queued for a chat)."""
    return {"text": text, "callback_data": pack(ENQUIRY_ACTION, enquiry_id, verb, *args)}


def signed(key: bytes, chat_id: int, buttons: Buttons) -> list[list[dict[str, Any]]]:
    """The rows with every callback button's data signed for ``chat_id``."""
    return [
        [
            {**b, "callback_data": sign(key, chat_id, b["callback_data"])}
            if b.get("callback_data")
            else dict(b)
            for b in row
        ]
        for row in buttons
    ]


def queue(
    desk: Desk,
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
    buttons: Buttons = (),
    adviser_id: int | None = None,
    in_reply_to: str | None = None,
    survive_delete: bool = False,
) -> None:
    """Queue one message about ``enquiry`` (``survive_delete``: not tied to the enquiry
    row, which is about to be deleted and would take the message with it)."""
    assert enquiry.id is not None
    email = channel == "email"
    if chat_id is not None and buttons:
        buttons = signed(desk.button_key, chat_id, buttons)
    queue_message(
        session,
        NewMessage(
            channel=channel,
            purpose=purpose,
            recipient=recipient,
            body=body,
            due_at=desk.clock(),
            chat_id=chat_id,
            email_to=email_to,
            subject=subject,
            body_html=texts.email_html(body) if email else None,
            buttons=buttons,
            headers={"reply_to": desk.settings.reply_to}
            if email and desk.settings.reply_to
            else {},
            email_message_id=desk.new_message_id() if email else None,
            in_reply_to=in_reply_to,
            enquiry_id=None if survive_delete else enquiry.id,
            subscriber_id=enquiry.subscriber_id if recipient == "enterprise" else None,
            adviser_id=adviser_id,
        ),
    )


def to_enterprise(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    purpose: str,
    text: str,
    *,
    author: str | None = None,
    buttons: Buttons = (),
) -> None:
    """A message to the enterprise on the channel it used (email threaded on its mail)."""
    assert enquiry.id is not None
    ref = store.reference(enquiry.id)
    if enquiry.channel == "telegram" and enquiry.telegram_chat_id is not None:
        body = (
            texts.relay_to_enterprise(author, ref, text) if author is not None else texts.esc(text)
        )
        queue(
            desk,
            session,
            enquiry,
            "enterprise",
            purpose,
            channel="telegram",
            chat_id=enquiry.telegram_chat_id,
            body=texts.fit(body),
            buttons=buttons,
        )
    elif enquiry.email:
        body = f"{author} (SEEM adviser) wrote:\n\n{text}" if author is not None else text
        queue(
            desk,
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


def to_adviser(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    adviser: AdviserRow,
    purpose: str,
    *,
    telegram_html: str,
    email_subject: str,
    email_body: str,
    buttons: Buttons = (),
    survive_delete: bool = False,
) -> None:
    """A message to an adviser: Telegram when they use it, else email."""
    if adviser.telegram_id is not None:
        queue(
            desk,
            session,
            enquiry,
            "adviser",
            purpose,
            channel="telegram",
            chat_id=adviser.telegram_id,
            body=texts.fit(telegram_html),
            buttons=buttons,
            adviser_id=adviser.id,
            survive_delete=survive_delete,
        )
    elif adviser.email:
        queue(
            desk,
            session,
            enquiry,
            "adviser",
            purpose,
            channel="email",
            email_to=adviser.email,
            subject=email_subject,
            body=email_body,
            adviser_id=adviser.id,
            survive_delete=survive_delete,
        )


def notify_adviser(
    desk: Desk,
    session: AsyncSession,
    enquiry: EnquiryRow,
    adviser: AdviserRow,
    text: str,
    *,
    survive_delete: bool = False,
) -> None:
    ref = store.reference(enquiry.id or 0)
    to_adviser(
        desk,
        session,
        enquiry,
        adviser,
        "notice",
        telegram_html=texts.esc(text),
        email_subject=f"[{ref}] {texts.one_line(text, 100)}",
        email_body=texts.clean(text),
        survive_delete=survive_delete,
    )


async def unbutton(
    desk: Desk,
    session: AsyncSession,
    enquiry_id: int,
    adviser_id: int | None,
    *,
    survive_delete: bool = False,
) -> int:
    """Queue the removal of the buttons on every message the adviser still has about the
    enquiry (it has moved on: passed, escalated, resolved, withdrawn); how many.

    ``survive_delete``: the rows are not tied to the enquiry, because it is about to be
    deleted (``/forget``) and would take them with it."""
    if adviser_id is None:
        return 0
    rows = await store.buttoned_messages(session, enquiry_id, adviser_id)
    for row in rows:
        assert row.chat_id is not None and row.message_ref is not None
        row.buttons = []
        session.add(row)
        queue_message(
            session,
            NewMessage(
                channel="telegram",
                purpose="unbutton",
                recipient="adviser",
                body="",
                due_at=desk.clock(),
                chat_id=row.chat_id,
                headers={EDIT_OF: int(row.message_ref)},
                enquiry_id=None if survive_delete else enquiry_id,
                adviser_id=adviser_id,
            ),
        )
    return len(rows)
