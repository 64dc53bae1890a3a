"""/add, /remove, /keywords, /exclude and /cpv, with ✖ buttons to remove one at a time.

Limits are stated in every reply that hits them: at most 50 keywords (and 50 exclusions) of
at most 60 characters each, at most 30 CPV codes. Whatever can be used is used and the rest is
listed with the reason, so a long paste never loses the good part. A profile is saved only if
the pipeline will accept it (e.g. never without any keyword or CPV code).
"""

from __future__ import annotations

import hashlib

from telegram import InlineKeyboardMarkup

from bot.chat import previews
from bot.chat.account import Account, profile_problem, subscribed
from bot.chat.core import Turn, data, esc, kb, label, plain
from bot.chat.text import (
    MAX_CPV,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    KeywordSplit,
    clean,
    echo,
    keyword_key,
    sort_new_words,
    split_keywords,
)
from matchers import cpv as cpv_codes
from matchers.extract import LONG_WORDS, shorter, word_count
from storage.chat import set_state, touch
from storage.subscribers import profile_data

ADD_HINT = (
    "Type /add followed by keywords, separated by commas or new lines, e.g. "
    "/add school meals, catering. Put a phrase in quotes for an exact match: "
    '/add "meals on wheels".'
)
LIMITS = f"You can have up to {MAX_KEYWORDS} keywords of up to {MAX_KEYWORD_CHARS} characters each."
SKIPPED_SHOWN = 5


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]


def _quoted(words: list[str]) -> str:
    return ", ".join(f"“{echo(w, 30)}”" for w in words)


def skipped_lines(split: KeywordSplit) -> list[str]:
    lines = []
    if split.too_long:
        shown = split.too_long[:SKIPPED_SHOWN]
        more = len(split.too_long) - len(shown)
        lines.append(
            f"Too long (at most {MAX_KEYWORD_CHARS} characters): {_quoted(shown)}"
            + (f" and {more} more" if more else "")
        )
    if split.unsearchable:
        shown = split.unsearchable[:SKIPPED_SHOWN]
        more = len(split.unsearchable) - len(shown)
        lines.append(
            f"No letters or digits to search for: {_quoted(shown)}"
            + (f" and {more} more" if more else "")
        )
    return lines


async def add_words(acc: Account, text: str, *, exclude: bool = False) -> str:
    """Add keywords (or exclusions) from ``text``; the reply (HTML) says what happened."""
    split = split_keywords(text)
    current = list(acc.profile.exclude if exclude else acc.profile.keywords)
    sorted_words = sort_new_words(current, split.good)
    added, already, over = sorted_words.added, sorted_words.already, sorted_words.over
    noun = "exclusions" if exclude else "keywords"
    lines: list[str] = []
    if added:
        new = current + added
        if exclude:
            acc.profile.exclude = new
        else:
            acc.profile.keywords = new
        problem = profile_problem(acc.profile)
        if problem is not None:  # never store what the matcher would refuse
            if exclude:
                acc.profile.exclude = current
            else:
                acc.profile.keywords = current
            return f"Sorry, I couldn't save that: {esc(problem)}. {esc(ADD_HINT)}"
        touch(acc.profile)
        acc.session.add(acc.profile)
        lines.append(
            f"✅ Added {len(added)}: {_quoted(added[:20])}" + (" …" if len(added) > 20 else "")
        )
    if already:
        lines.append(
            f"Already there: {_quoted(already[:SKIPPED_SHOWN])}"
            + (" …" if len(already) > SKIPPED_SHOWN else "")
        )
    if over:
        lines.append(
            f"Not added — you can have at most {MAX_KEYWORDS} {noun}, so {len(over)} "
            f"didn't fit. Remove some first (/keywords shows ✖ buttons)."
        )
    lines.extend(skipped_lines(split))
    if not added and not already and not over and not lines:
        return esc(f"I didn't find any {noun} in that. {ADD_HINT} {LIMITS}")
    if not added and (split.too_long or split.unsearchable):
        lines.append(esc(f"{ADD_HINT} {LIMITS}"))
    total = len(acc.profile.exclude if exclude else acc.profile.keywords)
    lines.append(f"You now have {total} {noun}.")
    return "\n".join(lines)


async def on_add(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        if not clean(turn.args):
            await set_state(acc.session, turn.chat_id, "add")
            await turn.reply(
                esc(
                    "Which keywords shall I add? Send them separated by commas or new lines "
                    f"(or /cancel). {LIMITS}"
                ),
                force_reply=turn.is_group,
            )
            return
        before = {keyword_key(k) for k in acc.profile.keywords}
        lead = await add_words(acc, turn.args)
        added = [k for k in acc.profile.keywords if keyword_key(k) not in before]
        sub_id, profile = acc.id, profile_data(acc.profile)
        lines, rows = long_keyword_advice(acc.profile.keywords, added)
    if not added:
        await turn.reply(lead)
        return
    text = "\n".join([lead, *lines])
    await previews.after_change(turn, sub_id, profile, text, rows)


def long_keyword_advice(
    keywords: list[str], added: list[str]
) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """A gentle warning and a "✂️ Use …" button for each added keyword of more than four
    words: every word must occur together, so such a keyword rarely matches anything."""
    lines: list[str] = []
    rows: list[list[tuple[str, str]]] = []
    for word in added[:3]:
        if word_count(word) <= LONG_WORDS:
            continue
        short = shorter(word)
        if short is None:
            continue
        lines.append(
            f"✂️ “{echo(word, 60)}” is long: notices rarely use all those words together. "
            f"“{esc(short)}” would find more."
        )
        index = keywords.index(word)
        rows.append([(f"✂️ Use “{label(short, 22)}”", data("ks", index, short_hash(word)))])
    return lines, rows


async def on_shorter(turn: Turn, args: list[str]) -> None:
    """✂️ Use …: replace a long keyword by its shorter form."""
    async with subscribed(turn) as acc:
        words = list(acc.profile.keywords)
        index = _find(words, args)
        short = shorter(words[index]) if index is not None else None
        if index is None or short is None:
            await turn.answer("That keyword has changed already: /keywords shows them.")
            return
        long = words[index]
        if keyword_key(short) in {keyword_key(w) for w in words}:
            words.pop(index)
        else:
            words[index] = short
        acc.profile.keywords = words
        touch(acc.profile)
        acc.session.add(acc.profile)
        sub_id, profile = acc.id, profile_data(acc.profile)
    await turn.answer(f"Now “{label(short, 60)}”")
    lead = f"✂️ “{echo(long, 60)}” is now “{esc(short)}”."
    await previews.after_change(turn, sub_id, profile, lead)


async def on_exclude(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        if not clean(turn.args):
            text, markup = exclusions_view(acc)
            await turn.reply(text, markup)
            return
        await turn.reply(await add_words(acc, turn.args, exclude=True))


async def on_remove(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        if not clean(turn.args):
            text, markup = keywords_view(acc, "k")
            await turn.reply(
                "Tap ✖ to remove a keyword, or type /remove followed by it.\n\n" + text, markup
            )
            return
        split = split_keywords(turn.args)
        wanted = split.good + split.too_long + split.unsearchable
        removed: list[str] = []
        missing: list[str] = []
        keywords, exclude = list(acc.profile.keywords), list(acc.profile.exclude)
        for word in wanted:
            key = keyword_key(word)
            hit = [k for k in keywords if keyword_key(k) == key]
            hit_ex = [k for k in exclude if keyword_key(k) == key]
            if not hit and not hit_ex:
                missing.append(word)
                continue
            keywords = [k for k in keywords if keyword_key(k) != key]
            exclude = [k for k in exclude if keyword_key(k) != key]
            removed.extend(hit or hit_ex)
        lines = []
        if removed:
            old = acc.profile.keywords, acc.profile.exclude
            acc.profile.keywords, acc.profile.exclude = keywords, exclude
            if profile_problem(acc.profile) is not None:
                acc.profile.keywords, acc.profile.exclude = old
                await turn.reply(
                    "You need at least one keyword (or a CPV code), so I kept them. "
                    "Add another first with /add, or pause alerts with /pause."
                )
                return
            touch(acc.profile)
            acc.session.add(acc.profile)
            lines.append(f"🗑 Removed: {_quoted(removed[:20])}")
        if missing:
            lines.append(
                f"Not in your keywords: {_quoted(missing[:SKIPPED_SHOWN])}. /keywords lists them."
            )
        if not lines:
            lines.append(esc("Type /remove followed by a keyword, e.g. /remove catering."))
        sub_id, profile = acc.id, profile_data(acc.profile)
    if removed:
        await previews.after_change(turn, sub_id, profile, "\n".join(lines))
    else:
        await turn.reply("\n".join(lines))


# --------------------------------------------------------------------------- the lists


def keywords_view(acc: Account, ctx: str) -> tuple[str, InlineKeyboardMarkup]:
    words = list(acc.profile.keywords)
    if words:
        body = "\n".join(f"{i}. {esc(w)}" for i, w in enumerate(words, start=1))
        text = f"🏷 <b>Your keywords</b> ({len(words)} of {MAX_KEYWORDS}):\n{body}"
    else:
        text = "🏷 You have no keywords yet."
    text += "\n\n" + esc(f"Add more with /add. {LIMITS}")
    buttons = [
        (f"✖ {label(w, 24)}", data("kx", i, short_hash(w), ctx)) for i, w in enumerate(words)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if ctx == "s":
        rows.append([("« Back to settings", data("st"))])
    return text, kb(rows)


def exclusions_view(acc: Account) -> tuple[str, InlineKeyboardMarkup]:
    words = list(acc.profile.exclude)
    if words:
        body = "\n".join(f"{i}. {esc(w)}" for i, w in enumerate(words, start=1))
        text = f"🚫 <b>Words that rule a notice out</b> ({len(words)}):\n{body}"
    else:
        text = "🚫 You exclude nothing yet."
    text += "\n\n" + esc(
        "Type /exclude followed by words, e.g. /exclude construction, asbestos; notices "
        "mentioning them won't be sent. Tap ✖ to remove one."
    )
    buttons = [(f"✖ {label(w, 24)}", data("ex", i, short_hash(w))) for i, w in enumerate(words)]
    return text, kb([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


async def on_keywords(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        text, markup = keywords_view(acc, "k")
        await turn.reply(text, markup)


async def on_keywords_button(turn: Turn, args: list[str]) -> None:
    ctx = args[0] if args and args[0] in ("k", "s") else "k"
    async with subscribed(turn) as acc:
        await turn.answer()
        text, markup = keywords_view(acc, ctx)
        await turn.show(text, markup)


def _find(words: list[str], args: list[str]) -> int | None:
    """The index of the word a ✖ button meant (by index, checked by hash; else by hash)."""
    if len(args) < 2 or not args[0].isdigit():
        return None
    index, digest = int(args[0]), args[1]
    if index < len(words) and short_hash(words[index]) == digest:
        return index
    return next((i for i, w in enumerate(words) if short_hash(w) == digest), None)


async def on_keyword_remove(turn: Turn, args: list[str]) -> None:
    ctx = args[2] if len(args) > 2 and args[2] in ("k", "s") else "k"
    removed: str | None = None
    async with subscribed(turn) as acc:
        words = list(acc.profile.keywords)
        index = _find(words, args)
        if index is None:
            await turn.answer("That keyword is already gone.")
        else:
            gone = words.pop(index)
            acc.profile.keywords = words
            if profile_problem(acc.profile) is not None:
                acc.profile.keywords = [*words[:index], gone, *words[index:]]
                await turn.answer(
                    "You need at least one keyword (or a CPV code): add another first."
                )
            else:
                touch(acc.profile)
                acc.session.add(acc.profile)
                removed = gone
        text, markup = keywords_view(acc, ctx)
        profile = profile_data(acc.profile)
    if removed is not None:
        left = await previews.open_count(turn.services, profile)
        matches = "notice matches" if left == 1 else "notices match"
        await turn.answer(f"Removed “{label(removed, 60)}” — {left} open {matches} now.")
    await turn.show(text, markup)


async def on_exclusion_remove(turn: Turn, args: list[str]) -> None:
    async with subscribed(turn) as acc:
        words = list(acc.profile.exclude)
        index = _find(words, args)
        if index is None:
            await turn.answer("That word is already gone.")
        else:
            gone = words.pop(index)
            acc.profile.exclude = words
            touch(acc.profile)
            acc.session.add(acc.profile)
            await turn.answer(f"No longer excluding “{label(gone, 60)}”")
        text, markup = exclusions_view(acc)
        await turn.show(text, markup)


# --------------------------------------------------------------------------- CPV

CPV_HINT = (
    "Type /cpv with a code, e.g. /cpv 555 or /cpv 55524000, or a word to look codes up, "
    f"e.g. /cpv catering. Up to {MAX_CPV} codes."
)


def cpv_view(acc: Account, note: str = "") -> tuple[str, InlineKeyboardMarkup]:
    codes = list(acc.profile.cpv)
    if codes:
        body = "\n".join(esc(cpv_codes.describe(c)) for c in codes)
        text = f"🗂 <b>Your CPV codes</b> ({len(codes)}):\n{body}"
    else:
        text = "🗂 You have no CPV codes (that's fine: keywords do most of the work)."
    if note:
        text = f"{note}\n\n{text}"
    text += "\n\n" + esc(CPV_HINT)
    buttons = [(f"✖ {c}", data("cpx", c)) for c in codes]
    return text, kb([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def _add_code(acc: Account, code: str) -> str:
    """Add one code; the outcome as HTML."""
    code = cpv_codes.clean_code(code)
    if not cpv_codes.is_valid_prefix(code) or cpv_codes.label(code) is None:
        return f"“{echo(code, 12)}” isn't a CPV code I know."
    if code in acc.profile.cpv:
        return f"{esc(cpv_codes.describe(code))} is already there."
    if len(acc.profile.cpv) >= MAX_CPV:
        return f"You can have at most {MAX_CPV} CPV codes; remove one first."
    acc.profile.cpv = [*acc.profile.cpv, code]
    touch(acc.profile)
    acc.session.add(acc.profile)
    return f"✅ Added {esc(cpv_codes.describe(code))}"


async def on_cpv(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        args = clean(turn.args)
        if not args:
            text, markup = cpv_view(acc)
            await turn.reply(text, markup)
            return
        words = args.replace(",", " ").split()
        if all(w.replace("-", "").isdigit() for w in words):
            if len(words) > MAX_CPV:
                await turn.reply(esc(f"That's too many codes at once. {CPV_HINT}"))
                return
            notes = [_add_code(acc, w) for w in words]
            text, markup = cpv_view(acc, "\n".join(notes))
            await turn.reply(text, markup)
            return
        query = args[:60]
        found = cpv_codes.suggest_cpv(query, limit=8)
        if not found:
            await turn.reply(f"I found no CPV codes for “{echo(query)}”. " + esc(CPV_HINT))
            return
        rows = [[(f"➕ {s.code} {label(s.label, 40)}", data("cpa", s.code))] for s in found]
        lines = "\n".join(f"{s.code} {esc(s.label)}" for s in found)
        await turn.reply(f"🗂 CPV codes for “{echo(query)}” — tap one to add it:\n{lines}", kb(rows))


async def on_cpv_add(turn: Turn, args: list[str]) -> None:
    code = args[0] if args else ""
    async with subscribed(turn) as acc:
        if not code.isdigit():
            await turn.answer("Sorry, I didn't understand that button.")
            return
        note = _add_code(acc, code)
        await turn.answer(plain(note))
        text, markup = cpv_view(acc, note)
        await turn.show(text, markup)


async def on_cpv_remove(turn: Turn, args: list[str]) -> None:
    code = args[0] if args else ""
    async with subscribed(turn) as acc:
        codes = [c for c in acc.profile.cpv if c != code]
        if len(codes) == len(acc.profile.cpv):
            await turn.answer("That code is already gone.")
        else:
            acc.profile.cpv = codes
            if profile_problem(acc.profile) is not None:
                acc.profile.cpv = [*codes, code]
                await turn.answer("You need at least one keyword or CPV code: add a keyword first.")
            else:
                touch(acc.profile)
                acc.session.add(acc.profile)
                await turn.answer(f"Removed CPV {code}")
        text, markup = cpv_view(acc)
        await turn.show(text, markup)
