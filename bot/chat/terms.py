"""The keywords read from "What does your enterprise do?", shown back as ✓/✗ buttons.

:func:`matchers.extract.extract` reads the answer; this message shows the person what was
read — each term a button that drops it (✗) or brings it back (✓), a place named as the
region suggestion, a misspelling read as a known word, a term too long to be found — with
"➕ Add more" and "Next ›". The profile changes with every press, so whatever the person
does next, alerts use what the buttons show. The offered terms live in the chat's
conversation state (``terms`` step), never in process memory.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup

from bot.chat.account import account, profile_problem
from bot.chat.core import Turn, data, esc, kb, label
from bot.chat.keywords import short_hash
from bot.chat.text import keyword_key
from matchers.extract import Extraction
from storage.chat import get_state, set_state, touch

__all__ = ["STEP", "notes_for", "on_term_toggle", "terms_markup", "terms_text"]

STEP = "terms"
FINISHED = "That list is finished: /keywords shows your keywords."


def _quoted(words: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"“{esc(w)}”" for w in words)


def notes_for(found: Extraction, places: list[str]) -> list[str]:
    """What to tell the person about how their answer was read (HTML lines)."""
    notes = []
    if places:
        notes.append(
            f"📍 You mentioned {esc(', '.join(places))}, so I'll look there — you can change "
            "that in a moment."
        )
    if found.corrected:
        fixed = ", ".join(f"“{esc(a)}” as “{esc(b)}”" for a, b in found.corrected[:3])
        notes.append(f"🔤 I read {fixed}.")
    for long, short in found.long[:3]:
        notes.append(
            f"✂️ “{esc(long)}” is long: notices rarely use all those words together. "
            f"Try “{esc(short)}” (/add it, then tap the long one to drop it)."
        )
    own = [w for w in found.dropped if w not in ("interest", "benefit", "owned")]
    if own:
        notes.append(
            f"I left out {_quoted(own[:4])}: that's who you are, not what buyers buy. "
            "(I've kept your description for advisers.)"
        )
    if found.asked:
        notes.append(
            "ℹ️ I'm a free alert service: I send you public contracts that fit, and /ask puts "
            "you in touch with an adviser."
        )
    return notes


def terms_text(terms: list[str], off: list[str], notes: list[str]) -> str:
    kept = [t for t in terms if t not in off]
    head = (
        "Thanks! I'll look for notices about: " + _quoted(kept)
        if kept
        else "You've dropped every word: tap one to keep it, or type others."
    )
    body = "\n".join(notes)
    tail = (
        "Tap a word to drop it (tap again to keep it). ➕ or just type to add more; "
        "Next › when it looks right."
    )
    return "\n\n".join(p for p in (head, body, tail) if p)


def terms_markup(terms: list[str], off: list[str]) -> InlineKeyboardMarkup:
    buttons = [
        (("✗ " if t in off else "✓ ") + label(t, 26), data("tt", i, short_hash(t)))
        for i, t in enumerate(terms)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([("➕ Add more", data("tm")), ("Next ›", data("tn"))])
    return kb(rows)


def _find(terms: list[str], args: list[str]) -> str | None:
    if len(args) < 2 or not args[0].isdigit():
        return None
    index = int(args[0])
    if index < len(terms) and short_hash(terms[index]) == args[1]:
        return terms[index]
    return next((t for t in terms if short_hash(t) == args[1]), None)


async def on_term_toggle(turn: Turn, args: list[str]) -> None:
    """✓/✗ on a term: drop it from the keywords, or bring it back."""
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is None or state.step != STEP:
        await turn.answer(FINISHED)
        return
    saved: dict[str, Any] = dict(state.data or {})
    terms = [str(t) for t in saved.get("terms", [])]
    off = [str(t) for t in saved.get("off", [])]
    term = _find(terms, args)
    if term is None:
        await turn.answer(FINISHED)
        return
    async with account(turn) as acc:
        if acc is None:
            await turn.answer(FINISHED)
            return
        words = list(acc.profile.keywords)
        key = keyword_key(term)
        if term in off:
            off.remove(term)
            if key not in {keyword_key(w) for w in words}:
                words.append(term)
            note = f"Keeping “{label(term, 60)}”"
        else:
            kept = [w for w in words if keyword_key(w) != key]
            old = acc.profile.keywords
            acc.profile.keywords = kept
            if profile_problem(acc.profile) is not None:
                acc.profile.keywords = old
                await turn.answer("Keep at least one word, or type another first.")
                return
            words = kept
            off.append(term)
            note = f"Dropped “{label(term, 60)}”"
        acc.profile.keywords = words
        touch(acc.profile)
        acc.session.add(acc.profile)
        saved["off"] = off
        await set_state(acc.session, turn.chat_id, STEP, saved)
    await turn.answer(note)
    notes = [str(n) for n in saved.get("notes", [])]
    await turn.show(terms_text(terms, off, notes), terms_markup(terms, off))
