"""The inline keyboards of the enquiry conversation, signed for the chat they are shown in.

An adviser's enquiry message starts with ✅ Accept / ↪️ Pass on / ☑️ Resolve. Pass on and
Resolve open a second step in place (whom to pass to, then an optional note; "resolve? yes /
not yet"), and ↩️ goes back. A plain message from someone with several open enquiries is
kept as a draft and answered with one button per enquiry. Each button's data is signed
(:func:`bot.callbacks.sign`) and each press is checked again against the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import pack, sign
from bot.enquiries import texts
from bot.enquiries.model import (
    ACCEPT,
    BACK,
    DROP,
    ENQUIRY_ACTION,
    PASS,
    PASS_NOW,
    PASS_TO,
    RESOLVE,
    RESOLVE_YES,
    SEND_TO,
)
from storage import enquiries as store
from storage.models import AdviserRow, EnquiryRow

__all__ = [
    "BEST",
    "brief_keyboard",
    "draft_label",
    "pass_note_keyboard",
    "pass_picker",
    "resolve_confirm",
    "which_keyboard",
]

BEST = 0
"""``pto:0``: no adviser chosen, the router picks whoever fits best."""
MAX_CHOICES = 6
Rows = Sequence[Sequence[tuple[str, str]]]


def _markup(key: bytes, chat_id: int, rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text, callback_data=sign(key, chat_id, data))
                for text, data in row
            ]
            for row in rows
        ]
    )


def _e(enquiry_id: int, verb: str, *args: str | int) -> str:
    return pack(ENQUIRY_ACTION, enquiry_id, verb, *args)


def brief_keyboard(key: bytes, chat_id: int, enquiry: EnquiryRow) -> InlineKeyboardMarkup | None:
    """An enquiry message's own buttons as they stand: Accept only while not accepted."""
    assert enquiry.id is not None
    if enquiry.status == store.RESOLVED:
        return None
    row = [("↪️ Pass on", _e(enquiry.id, PASS)), ("☑️ Resolve", _e(enquiry.id, RESOLVE))]
    if enquiry.status == store.OPEN:
        row.insert(0, ("✅ Accept", _e(enquiry.id, ACCEPT)))
    return _markup(key, chat_id, [row])


def resolve_confirm(key: bytes, chat_id: int, enquiry_id: int) -> InlineKeyboardMarkup:
    ref = store.reference(enquiry_id)
    return _markup(
        key,
        chat_id,
        [
            [(f"✅ Yes, resolve {ref}", _e(enquiry_id, RESOLVE_YES))],
            [("↩️ Not yet", _e(enquiry_id, BACK))],
        ],
    )


def _who(adviser: AdviserRow) -> str:
    topics = ", ".join(texts.topic_name(t).lower() for t in adviser.topics[:2])
    name = texts.one_line(adviser.name, 30)
    return f"👤 {name} — {topics}" if topics else f"👤 {name}"


def pass_picker(
    key: bytes, chat_id: int, enquiry_id: int, choices: Sequence[AdviserRow]
) -> InlineKeyboardMarkup:
    """Whom to pass to: the best few by name, whoever fits best, or back."""
    rows: list[list[tuple[str, str]]] = [
        [(_who(a), _e(enquiry_id, PASS_TO, a.id or 0))] for a in choices[:MAX_CHOICES]
    ]
    rows.append([("🔀 Whoever fits best", _e(enquiry_id, PASS_TO, BEST))])
    rows.append([("↩️ Back", _e(enquiry_id, BACK))])
    return _markup(key, chat_id, rows)


def pass_note_keyboard(key: bytes, chat_id: int, enquiry_id: int, to: int) -> InlineKeyboardMarkup:
    return _markup(
        key,
        chat_id,
        [
            [("📨 Pass on without a note", _e(enquiry_id, PASS_NOW, to))],
            [("↩️ Back", _e(enquiry_id, BACK))],
        ],
    )


def draft_label(enquiry: EnquiryRow, for_adviser: bool) -> str:
    """A picker button: the reference and what tells the enquiries apart for this person —
    the enterprise's name for an adviser, the question's first words for the enterprise."""
    ref = store.reference(enquiry.id or 0)
    what = enquiry.sender_name if for_adviser else enquiry.text
    words = texts.one_line(what or texts.topic_name(enquiry.topic), 200)
    if len(words) > 40:
        words = words[:39].rstrip() + "…"
    return f"{ref} · {words}"


def which_keyboard(
    key: bytes, chat_id: int, draft_id: int, live: Sequence[EnquiryRow], for_adviser: bool
) -> InlineKeyboardMarkup:
    rows: list[list[tuple[str, str]]] = [
        [(draft_label(e, for_adviser), _e(e.id or 0, SEND_TO, draft_id))] for e in live[:8]
    ]
    rows.append([("✖️ Don't send it", _e(0, DROP, draft_id))])
    return _markup(key, chat_id, rows)
