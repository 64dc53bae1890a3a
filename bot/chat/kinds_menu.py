"""``/types``: which kinds of notice reach a subscriber, and the reserved-contracts filter.

One message, edited in place by its buttons: a ✓/✗ button per group of kinds
(:data:`bot.kinds.KIND_GROUPS`: tenders, market engagement, dynamic markets to join,
pipeline and planned, dynamic market changes), then "only contracts reserved for…"
buttons (:data:`feeds.notice.RESERVATIONS`). Reached by ``/types`` or the "📨 Kinds of
notice" row of ``/settings``.

Every button that changes something is **signed** for the chat it was sent to
(:func:`bot.callbacks.sign`): ``s:ty:<group>:<ctx>:<tag>`` and
``s:ty:r.<code>:<ctx>:<tag>``; a button copied into another chat, or typed by hand, is
refused before anything is read. In a group only admins may press them (the router
checks, as for every settings button).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.callbacks import sign, verify
from bot.chat.account import subscribed
from bot.chat.core import Turn, data, esc, kb
from bot.kinds import BY_KEY, KIND_GROUPS, clean_kinds_off, group_on, toggle_group
from bot.telegram.wording import GARBLED
from storage.chat import touch

__all__ = ["RESERVED_CHOICES", "STEP", "on_types", "on_types_button", "types_markup", "types_text"]

STEP = "ty"
MENU = "menu"
#: The reservations a profile can ask for in the chat (the ones enterprises qualify for).
RESERVED_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("supported_employment", "supported employment providers", "supported employment"),
    ("public_service_mutual", "public service mutuals", "mutuals"),
)
_RESERVED_ARG = "r."


def types_text(kinds_off: list[str], reserved: list[str], note: str = "") -> str:
    lines = [
        "📨 <b>Which kinds of notice reach you</b>",
        "Tap a kind to switch it on (✓) or off (✗).",
        "",
    ]
    for group in KIND_GROUPS:
        mark = "✓" if group_on(group, kinds_off) else "✗"
        lines.append(f"{mark} <b>{esc(group.label)}</b> ({group.codes}): {esc(group.what)}")
    lines.append(
        "\nAwards and contract changes are never sent. If a procurement you were alerted "
        "to is cancelled, or its tender comes out, you always hear."
    )
    if reserved:
        names = " or ".join(name for code, name, _ in RESERVED_CHOICES if code in reserved)
        lines.append(f"\n🔒 Only contracts (or lots) reserved for {esc(names)}.")
    else:
        lines.append("\n🔒 Reserved or not: every contract that matches.")
    if note:
        lines.append(f"\n<i>{esc(note)}</i>")
    return "\n".join(lines)


def types_markup(
    key: bytes, chat_id: int, kinds_off: list[str], reserved: list[str], ctx: str
) -> InlineKeyboardMarkup:
    def signed(arg: str) -> str:
        return sign(key, chat_id, data(STEP, arg, ctx))

    rows: list[list[tuple[str, str]]] = []
    for group in KIND_GROUPS:
        mark = "✓" if group_on(group, kinds_off) else "✗"
        rows.append([(f"{mark} {group.label}", signed(group.key))])
    for code, _, short in RESERVED_CHOICES:
        mark = "✓" if code in reserved else "✗"
        rows.append([(f"{mark} 🔒 Only reserved: {short}", signed(_RESERVED_ARG + code[:20]))])
    done = "« Back to settings" if ctx == "s" else "✓ Done"
    rows.append([(done, data("st") if ctx == "s" else data(STEP, "done", ctx))])
    return kb(rows)


def _key(turn: Turn) -> bytes:
    return turn.services.signer.button_key()


async def on_types(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        kinds_off = clean_kinds_off(acc.profile.kinds_off or ())
        reserved = list(acc.profile.reserved or ())
        await turn.reply(
            types_text(kinds_off, reserved),
            types_markup(_key(turn), turn.chat_id, kinds_off, reserved, "t"),
        )


def _toggle_reserved(reserved: list[str], arg: str) -> tuple[list[str], str] | None:
    code = next((c for c, _, _ in RESERVED_CHOICES if arg == _RESERVED_ARG + c[:20]), None)
    if code is None:
        return None
    if code in reserved:
        return [c for c in reserved if c != code], "Reserved or not: every contract that matches"
    name = next(n for c, n, _ in RESERVED_CHOICES if c == code)
    return [*reserved, code], f"Only contracts reserved for {name}"


async def on_types_button(turn: Turn, args: list[str]) -> None:
    """``s:ty:menu:<ctx>`` shows the menu (changes nothing, so unsigned); every other press
    must carry this chat's signature."""
    what, ctx = (args[0], args[1]) if len(args) >= 2 else ("", "")
    if ctx not in ("s", "t"):
        await turn.answer(GARBLED)
        return
    if what in (MENU, "done"):
        await _show(turn, ctx, done=what == "done")
        return
    query = turn.query
    signed = verify(_key(turn), turn.chat_id, query.data if query is not None else None)
    if signed is None or signed.args[1:] != (what, ctx):
        await turn.answer(GARBLED)
        return
    async with subscribed(turn) as acc:
        kinds_off = clean_kinds_off(acc.profile.kinds_off or ())
        reserved = list(acc.profile.reserved or ())
        if what in BY_KEY:
            kinds_off = toggle_group(kinds_off, what)
            group = BY_KEY[what]
            note = f"{group.label}: {'on' if group_on(group, kinds_off) else 'off'}"
            acc.profile.kinds_off = kinds_off
        else:
            toggled = _toggle_reserved(reserved, what)
            if toggled is None:
                await turn.answer(GARBLED)
                return
            reserved, note = toggled
            acc.profile.reserved = reserved
        touch(acc.profile)
        acc.session.add(acc.profile)
        await turn.answer(note)
        await turn.show(
            types_text(kinds_off, reserved, note),
            types_markup(_key(turn), turn.chat_id, kinds_off, reserved, ctx),
        )


async def _show(turn: Turn, ctx: str, *, done: bool) -> None:
    async with subscribed(turn) as acc:
        kinds_off = clean_kinds_off(acc.profile.kinds_off or ())
        reserved = list(acc.profile.reserved or ())
        await turn.answer()
        if done:
            await turn.show(types_text(kinds_off, reserved, "Saved."), None)
            return
        await turn.show(
            types_text(kinds_off, reserved),
            types_markup(_key(turn), turn.chat_id, kinds_off, reserved, ctx),
        )
