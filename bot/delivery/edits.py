"""Alerts edited in place: an old Telegram alert never misleads once its procurement moves on.

When a later notice of an alerted procurement arrives (the tender out after its planned
notice, a moved deadline, a cancellation), the subscriber gets a follow-up message
(:mod:`bot.pipeline.matching`), and the Telegram message that carried the first alert is
rewritten: 📝 what changed above the alert as it now stands, or ❌ withdrawn with the alert
struck through and its buttons gone. Email gets the follow-up only (a sent mail cannot
change).

A message may have carried several alerts (a group, a digest): it is rendered again, all of
its deliveries (the delivery rows whose ``message_ref`` is the message id) in the same shape
(:func:`bot.delivery.alerts.telegram_message`), with the changed ones marked. The edit is a
row of the message outbox (header :data:`bot.delivery.messages.EDIT_TEXT_OF`), queued in the
same transaction as the follow-up, and sent by the one delivery loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.alerts import AlertSettings, alert_view, telegram_message
from bot.delivery.messages import EDIT_TEXT_OF
from bot.render.model import AlertView, TelegramMessage
from storage.messages import NewMessage, queue_message
from storage.notices import load_notices, notice_before
from storage.outbox import sent_in_message
from storage.subscribers import Recipient

__all__ = ["EDIT_PURPOSE", "EditTarget", "queue_edits"]

EDIT_PURPOSE = "alert_edit"


@dataclass(frozen=True, slots=True)
class EditTarget:
    """One sent Telegram message to rewrite because one of its notices changed."""

    recipient: Recipient
    message_ref: str
    notice_id: int
    changes: Mapping[str, Any]
    #: For a withdrawn procurement: the version that withdrew it. The alert is struck
    #: through as it read before (the cancellation notice itself is a stub with no dates).
    withdrawn_at: int | None = None


def _buttons_json(message: TelegramMessage) -> list[list[dict[str, Any]]]:
    rows: list[list[dict[str, Any]]] = []
    for row in message.buttons:
        rows.append(
            [
                {"text": b.text, "url": b.url}
                if b.url
                else {"text": b.text, "callback_data": b.callback_data}
                for b in row
            ]
        )
    return rows


async def queue_edits(
    session: AsyncSession,
    targets: Sequence[EditTarget],
    now: datetime,
    settings: AlertSettings,
) -> int:
    """Queue one in-place edit per message (several changes to one message make one edit);
    returns how many were queued. Messages without a Telegram id, or whose deliveries are
    gone, are skipped: the follow-up message still goes."""
    by_message: dict[tuple[int, str], list[EditTarget]] = {}
    for item in targets:
        if item.message_ref.isdigit() and item.recipient.telegram_chat_id is not None:
            key = (item.recipient.id, item.message_ref)
            by_message.setdefault(key, []).append(item)
    queued = 0
    for (subscriber_id, ref), items in by_message.items():
        recipient = items[0].recipient
        rows = await sent_in_message(session, subscriber_id, "telegram", ref)
        notices = await load_notices(session, list({r.notice_id for r in rows}))
        changed = {t.notice_id: t for t in items}
        views: list[AlertView] = []
        for row in rows:
            notice = notices.get(row.notice_id)
            target = changed.get(row.notice_id)
            if target is not None and target.withdrawn_at is not None:
                notice = await notice_before(session, row.notice_id, target.withdrawn_at) or notice
            if notice is None or row.kind != "alert":
                continue
            view = alert_view(row, notice)
            if target is not None:
                edit = {k: (v[0], v[1]) for k, v in target.changes.items()}
                view = dataclasses.replace(view, edit=edit)
            views.append(view)
        if not any(v.edit is not None for v in views):
            continue
        message = telegram_message(recipient, views, now, settings)
        queue_message(
            session,
            NewMessage(
                channel="telegram",
                purpose=EDIT_PURPOSE,
                recipient="subscriber",
                body=message.text,
                buttons=_buttons_json(message),
                headers={EDIT_TEXT_OF: int(ref)},
                chat_id=recipient.telegram_chat_id,
                subscriber_id=subscriber_id,
                due_at=now,
            ),
        )
        queued += 1
    return queued
