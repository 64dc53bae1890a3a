"""/start, /help, /cancel and free text: onboarding from "hello" to a working subscription.

The conversation: /start -> a short welcome and "What does your enterprise do?" -> the answer,
in the person's own words, is read by :func:`matchers.extract.extract` into short trade terms
(and a place, as the region suggestion); the subscription exists from that moment, and the
terms come back as ✓/✗ buttons (:mod:`bot.chat.terms`) -> "What's your enterprise called?"
-> region buttons -> frequency buttons -> done, with what the settings find open right now
(:mod:`bot.chat.previews`). A question ("How much does it cost?") or nonsense gets help, not
keywords. Commands work at every step (``/add catering`` right after /start subscribes too).
The step a chat is at is kept in the ``chat_state`` table, so a restart or another worker
carries on.

Advisers and admins are not enterprises: their /start and /help are their own
(:mod:`bot.roles`), and nothing they type is read as keywords.

Deep links (``https://t.me/<bot>?start=<payload>``) are read by :func:`on_start`: an
adviser invite (``adv-<token>``, :func:`bot.enquiries.telegram.on_invite`) or an email
subscriber's "manage by Telegram" link (:func:`bot.chat.email_link.link_by_payload`). The
prefixes are listed explicitly by :func:`bot.routes.install` (``BotData.start_payloads``),
so onboarding needs to know nothing of enquiries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot import roles
from bot.chat import email_link, keywords, terms
from bot.chat.account import account
from bot.chat.core import Context, Turn, data, esc, kb, turn_for
from bot.chat.keywords import LIMITS, add_words, skipped_lines
from bot.chat.settings import regions_markup, regions_text
from bot.chat.text import MAX_KEYWORD_CHARS, MAX_KEYWORDS, clean, searchable, split_keywords
from bot.telegram.menus import ensure_role_menu
from bot.telegram.wording import NON_TEXT, UNKNOWN_COMMAND
from matchers.extract import LONG_WORDS, Extraction, extract, shorter, word_count
from storage.chat import clear_state, create_chat_subscriber, get_state, set_state, touch

log = logging.getLogger(__name__)

StartHandler = Callable[[Update, Context, str], Awaitable[bool]]

#: Where new subscribers start: SEEM's own region.
DEFAULT_REGIONS = ["UKF"]

QUESTION = (
    "<b>What does your enterprise do?</b> Tell me in your own words — what you sell or "
    "provide, and where — e.g. <i>we run a community café and do outside catering in "
    "Derby</i>."
)
ABOUT = (
    "I'm <b>bestbot</b>: a free service of BEST Procurement at Social Enterprise East "
    "Midlands. I read every public contract published on Find a Tender and Contracts Finder "
    "and send you the ones that fit your enterprise. It costs nothing, and /ask puts you in "
    "touch with an adviser. /help lists everything I can do."
)
NOTHING_FOUND = (
    "I couldn't find what you do in that. Tell me the kind of work you'd bid for, e.g. "
    "<i>cleaning, grounds maintenance</i> or <i>we cook school meals</i>."
)
NAME_STEP = "name"
NAME_QUESTION = (
    "<b>What's your enterprise called?</b> Advisers see this name when you ask them "
    "something. Type it, or tap Skip."
)
MAX_NAME = 120
ONBOARDING_STEPS = ("keywords", terms.STEP, NAME_STEP)
BAD_LINK = (
    "Sorry, that link didn't work — it may be old or incomplete. "
    "No problem: let's set you up from here."
)
FORWARDED = (
    "That's a forwarded message, so I won't use it. Please type your answer yourself, "
    "or send /help to see what I can do."
)


async def after_invite(update: Update, context: Context) -> None:
    """Once an adviser's invite is used: their own menu from now on."""
    user = update.effective_user
    if user is not None:
        await ensure_role_menu(context, user.id, await roles.role_of(context.services, user.id))


def _payload_handler(context: Context, payload: str) -> StartHandler | None:
    """The handler of a ``/start`` payload's prefix (longest first), as
    :func:`bot.routes.install` listed them in ``BotData.start_payloads``."""
    table = sorted(context.bot_data.start_payloads.items(), key=lambda kv: -len(kv[0]))
    for prefix, handler in table:
        if payload.startswith(prefix):
            return handler
    return None


def welcome(name: str) -> str:
    hello = f"Hello {esc(name[:64])}! 👋" if name else "Hello! 👋"
    return (
        f"{hello} I'm <b>bestbot</b>, from BEST Procurement at Social Enterprise East "
        "Midlands.\n\nI watch Find a Tender and Contracts Finder and tell you when a public "
        "contract fits what your enterprise does — free, and it takes under a minute to set "
        "up.\n\n" + QUESTION
    )


async def _begin(turn: Turn, lead: str = "") -> None:
    async with turn.services.db.session() as session:
        await set_state(session, turn.chat_id, "keywords")
    name = turn.chat_title or turn.first_name if turn.is_group else turn.first_name
    text = welcome(name)
    await turn.reply(f"{esc(lead)}\n\n{text}" if lead else text, force_reply=turn.is_group)


async def on_start(turn: Turn) -> None:
    payload = clean(turn.args).split(" ")[0] if clean(turn.args) else ""
    role = roles.ENTERPRISE if turn.is_group else await roles.role_of(turn.services, turn.user_id)
    if role != roles.ENTERPRISE and not payload:
        await _role_welcome(turn, role)
        return
    if payload:
        handler = _payload_handler(turn.context, payload)
        handled = False
        try:
            if handler is not None:
                handled = await handler(turn.update, turn.context, payload)
            else:
                handled = await email_link.link_by_payload(turn, payload)
        except Exception as exc:
            log.warning("start payload handler failed: %s: %s", type(exc).__name__, exc)
            handled = False
        if handled:
            return
        if role != roles.ENTERPRISE:
            await _role_welcome(turn, role)
            return
        async with account(turn) as acc:
            subscribed = acc is not None
        if subscribed:
            await turn.reply(
                esc(
                    BAD_LINK.split(" No problem")[0]
                    + " Your alerts are unchanged: /settings shows them."
                )
            )
            return
        await _begin(turn, BAD_LINK)
        return
    async with account(turn) as acc:
        if acc is not None:
            paused = (
                "\nYour alerts are paused: send /resume to start them again."
                if acc.sub.paused
                else ""
            )
            await turn.reply(
                "Welcome back! Your contract alerts are set up. "
                f"Send /settings to see or change them, /help for every command.{paused}"
            )
            return
    await _begin(turn)


async def _role_welcome(turn: Turn, role: roles.Role) -> None:
    """An adviser's or admin's /start: their own welcome and menu, no onboarding."""
    async with turn.services.db.session() as session:
        await clear_state(session, turn.chat_id)
    await ensure_role_menu(turn.context, turn.chat_id, role)
    await turn.reply(roles.welcome_text(role, turn.first_name))


async def on_help(turn: Turn) -> None:
    role = roles.ENTERPRISE if turn.is_group else await roles.role_of(turn.services, turn.user_id)
    if not turn.is_group:
        await ensure_role_menu(turn.context, turn.chat_id, role)
    await turn.reply(roles.help_text(role, turn.first_name))


async def on_cancel(turn: Turn) -> None:
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
        await clear_state(session, turn.chat_id)
    if state is None:
        await turn.reply("There's nothing to cancel. Send /help to see what I can do.")
    else:
        await turn.reply("OK, cancelled. Send /help to see what I can do.")


# --------------------------------------------------------------------------- free text


def _usable(words: list[str] | tuple[str, ...]) -> list[str]:
    """Terms the profile can hold: searchable, not too long, at most the keyword limit."""
    out: list[str] = []
    for word in words:
        if len(word) <= MAX_KEYWORD_CHARS and searchable(word) and word not in out:
            out.append(word)
    return out[:MAX_KEYWORDS]


def _regions(found: Extraction) -> tuple[list[str], list[str]]:
    """The suggested region codes and the names to say, from the places named."""
    codes: list[str] = []
    names: list[str] = []
    for place in found.places:
        if place.codes:
            names.append(place.name)
            codes.extend(c for c in place.codes if c not in codes)
    if "ENG" in codes:
        codes = ["ENG"]
    return codes, names


async def _subscribe(turn: Turn, words: list[str], regions: list[str], description: str) -> None:
    """Create the chat's subscription with ``words`` (or add them to the existing one)."""
    async with account(turn) as acc:
        if acc is not None:
            known = {w.casefold() for w in acc.profile.keywords}
            extra = [w for w in words if w.casefold() not in known]
            acc.profile.keywords = [*acc.profile.keywords, *extra][:MAX_KEYWORDS]
            if description:
                old = acc.profile.description or ""
                acc.profile.description = (f"{old}\n{description}" if old else description)[:1000]
            touch(acc.profile)
            acc.session.add(acc.profile)
            return
    name = (turn.chat_title if turn.is_group else turn.first_name) or None
    alerts = turn.services.config.alerts
    async with turn.services.db.session() as session:
        await create_chat_subscriber(
            session,
            turn.chat_id,
            name[:200] if name else None,
            {
                "keywords": words,
                "regions": regions or list(DEFAULT_REGIONS),
                "description": description[:1000] or None,
            },
            frequency=alerts.default_frequency,
            digest_hour=alerts.digest_hour,
            weekly_day=alerts.weekly_day,
        )


async def show_terms(
    turn: Turn, words: list[str], notes: list[str], name: str | None = None
) -> None:
    """Offer ``words`` (added to any offered already) as ✓/✗ buttons; the ``terms`` step."""
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
        saved = dict(state.data or {}) if state is not None and state.step == terms.STEP else {}
        offered = [str(t) for t in saved.get("terms", [])]
        offered += [w for w in words if w not in offered]
        saved["terms"] = offered[:MAX_KEYWORDS]
        saved["notes"] = notes
        # a word typed again is wanted again
        saved["off"] = [str(t) for t in saved.get("off", []) if t not in words]
        if name and not saved.get("name"):
            saved["name"] = name
        await set_state(session, turn.chat_id, terms.STEP, saved)
    off = [str(t) for t in saved["off"]]
    await turn.reply(
        terms.terms_text(saved["terms"], off, notes), terms.terms_markup(saved["terms"], off)
    )


async def _onboarding_answer(turn: Turn, text: str) -> None:
    """The answer to "What does your enterprise do?" (or more words at the ✓/✗ step)."""
    found = extract(text)
    if found.kind == "question":
        await turn.reply(f"{ABOUT}\n\n{QUESTION}", force_reply=turn.is_group)
        return
    words = _usable(found.terms)
    if not words:
        await turn.reply(f"{NOTHING_FOUND}\n\n{QUESTION}", force_reply=turn.is_group)
        return
    codes, places = _regions(found)
    async with account(turn) as acc:
        new = acc is None
    await _subscribe(turn, words, codes if new else [], clean(text)[:1000])
    await show_terms(turn, words, terms.notes_for(found, places if new else []), found.name)


async def begin_with_keywords(turn: Turn, text: str) -> None:
    """``/add catering, school meals`` before any subscription: the words as typed become the
    keywords and onboarding carries on from the ✓/✗ step."""
    split = split_keywords(text)
    words = _usable(split.good)
    if not words:
        problems = "\n".join(skipped_lines(split))
        await turn.reply(
            (problems + "\n\n" if problems else "") + esc(f"{LIMITS}") + "\n\n" + QUESTION
        )
        return
    await _subscribe(turn, words, [], "")
    long = tuple((w, short) for w in words if word_count(w) > LONG_WORDS and (short := shorter(w)))
    notes = terms.notes_for(Extraction("terms", tuple(words), long=long), [])
    await show_terms(turn, words, notes + skipped_lines(split))


async def on_add(turn: Turn) -> None:
    """/add: before any subscription (right after /start, say) it subscribes with the words
    and onboarding carries on; after, it adds them (:func:`bot.chat.keywords.on_add`)."""
    async with account(turn) as acc:
        subscribed = acc is not None
    if not subscribed and clean(turn.args):
        await begin_with_keywords(turn, turn.args)
        return
    if not subscribed:
        async with turn.services.db.session() as session:
            await set_state(session, turn.chat_id, "add")
        await turn.reply(
            "Which keywords shall I look for? Send them separated by commas, e.g. "
            "<i>catering, school meals</i> (or /start to tell me in a sentence what your "
            "enterprise does).",
            force_reply=turn.is_group,
        )
        return
    await keywords.on_add(turn)


# --------------------------------------------------------------------------- the steps after


async def on_terms_more(turn: Turn, args: list[str]) -> None:
    await turn.answer()
    await turn.reply(
        "Type more — a few words or a sentence, e.g. <i>events, buffets, wedding cakes</i>.",
        force_reply=turn.is_group,
    )


async def on_terms_next(turn: Turn, args: list[str]) -> None:
    """Next › under the terms: the list is final; ask the enterprise's name."""
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is None or state.step != terms.STEP:
        await turn.answer(terms.FINISHED)
        return
    saved = dict(state.data or {})
    offered = [str(t) for t in saved.get("terms", [])]
    off = [str(t) for t in saved.get("off", [])]
    async with turn.services.db.session() as session:
        await set_state(session, turn.chat_id, NAME_STEP, {"name": saved.get("name")})
    await turn.answer()
    kept = ", ".join(f"“{esc(t)}”" for t in offered if t not in off)
    await turn.show(f"🏷 I'll look for: {kept}.", None)
    rows = [[("Skip ›", data("nm", "skip"))]]
    suggestion = saved.get("name")
    if isinstance(suggestion, str) and suggestion:
        rows.insert(0, [(f"✓ {suggestion[:40]}", data("nm", "use"))])
    await turn.reply(NAME_QUESTION, kb(rows))


async def _regions_step(turn: Turn, lead: str) -> None:
    async with account(turn) as acc:
        regions = list(acc.profile.regions) if acc is not None else list(DEFAULT_REGIONS)
    text = regions_text(regions, "o")
    await turn.reply(f"{lead}\n\n{text}" if lead else text, regions_markup(regions, "o"))


async def _set_name(turn: Turn, name: str) -> None:
    async with turn.services.db.session() as session:
        await clear_state(session, turn.chat_id)
    async with account(turn) as acc:
        if acc is not None:
            acc.sub.name = name[:200]
            acc.session.add(acc.sub)


async def on_name_button(turn: Turn, args: list[str]) -> None:
    """Skip › or the suggested name under "What's your enterprise called?"."""
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is None or state.step != NAME_STEP:
        await turn.answer("That question is answered already: /settings shows everything.")
        return
    await turn.answer()
    suggestion = (state.data or {}).get("name")
    if args and args[0] == "use" and isinstance(suggestion, str) and suggestion:
        await _set_name(turn, suggestion)
        await turn.show(f"Thanks, {esc(suggestion)}!", None)
        await _regions_step(turn, "")
        return
    async with turn.services.db.session() as session:
        await clear_state(session, turn.chat_id)
    await turn.show("OK, no name for now.", None)
    await _regions_step(turn, "")


async def _name_answer(turn: Turn, text: str) -> None:
    name = clean(text)
    if not searchable(name) or len(name) > MAX_NAME or name.endswith("?"):
        await turn.reply(
            f"Just the name, please (up to {MAX_NAME} characters), or tap Skip. "
            + esc("/help lists everything I can do."),
            kb([[("Skip ›", data("nm", "skip"))]]),
        )
        return
    await _set_name(turn, name)
    await _regions_step(turn, f"Thanks, {esc(name)}!")


async def _role_text(turn: Turn) -> bool:
    """An adviser's or admin's plain message, when no step of theirs waits for it: never
    keywords; say that it went nowhere."""
    if turn.is_group:
        return False
    role = await roles.role_of(turn.services, turn.user_id)
    if role == roles.ENTERPRISE:
        return False
    await ensure_role_menu(turn.context, turn.chat_id, role)
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is not None and state.step not in ONBOARDING_STEPS:
        return False  # a step they started themselves: /add with nothing after it, a code
    if state is not None and state.step == "keywords":
        # their /start never asks "what does your enterprise do?": a question left from
        # before they were an adviser is not one they are answering
        async with turn.services.db.session() as session:
            await clear_state(session, turn.chat_id)
    elif state is not None:
        return False  # the ✓/✗ or name step of an /add they sent
    await turn.reply(esc(roles.ROLE_TEXT_ONLY[role]))
    return True


async def _dispatch_text(turn: Turn, text: str) -> bool:
    """Give free text to the conversation step waiting for it; False if none is."""
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    step = state.step if state is not None else None
    if step in ("keywords", terms.STEP):
        await _onboarding_answer(turn, text)
        return True
    if step == NAME_STEP:
        await _name_answer(turn, text)
        return True
    if step == "add":
        async with account(turn) as acc:
            subscribed = acc is not None
            if acc is not None:
                await clear_state(acc.session, turn.chat_id)
                reply = await add_words(acc, text)
        if not subscribed:
            await begin_with_keywords(turn, text)  # "/add" then the words, before /start
        else:
            await turn.reply(reply)
        return True
    if step == "verify" and "".join(clean(text).split()).isdigit():
        await email_link.verify(turn, text)
        return True
    if step == email_link.LINK_STEP:
        return await email_link.confirm_link(turn, text)
    return False


async def on_unknown_command(update: Update, context: Context) -> None:
    """An unknown command: "did you mean /settings?" when one of the sender's is close."""
    message = update.effective_message
    word = (message.text or "/").split()[0] if message is not None else "/"
    word = word if len(word) <= 40 else word[:39] + "…"
    turn = turn_for(update, context, with_args=False)
    if turn is None:
        return
    role = roles.ENTERPRISE if turn.is_group else await roles.role_of(turn.services, turn.user_id)
    if not turn.is_group:
        await ensure_role_menu(turn.context, turn.chat_id, role)
    names = [name for name, _ in roles.commands_for(role)]
    meant = roles.suggest_command(word, names)
    if meant is not None:
        rest = (message.text or "").split(maxsplit=1)[1:] if message is not None else []
        example = f"/{meant} {rest[0]}" if rest else f"/{meant}"
        await turn.reply(
            esc(f"Sorry, I don't know {word}. Did you mean {example[:60]}? ")
            + esc("Send /help to see what I can do.")
        )
        return
    await turn.reply(esc(UNKNOWN_COMMAND.format(command=word)))


async def on_text(update: Update, context: Context) -> None:
    """Free text in a private chat."""
    turn = turn_for(update, context, with_args=False)
    message = update.effective_message
    if turn is None or message is None:
        return
    if getattr(message, "forward_origin", None) is not None:
        await turn.reply(esc(FORWARDED))
        return
    if await _role_text(turn):
        return
    if await _dispatch_text(turn, message.text or ""):
        return
    async with account(turn) as acc:
        subscribed = acc is not None
    if subscribed:
        await turn.reply(
            esc(
                "I read commands rather than chat. To add keywords send /add followed by "
                "them; /settings shows everything; /help lists every command."
            )
        )
    else:
        await turn.reply(
            "Hello! Send /start to set up contract alerts — it takes under a minute. "
            "/help shows what I can do."
        )


async def on_group_text(update: Update, context: Context) -> None:
    """Free text in a group: only an admin's answer to a question the bot asked there."""
    turn = turn_for(update, context, with_args=False)
    message = update.effective_message
    if turn is None or message is None or getattr(message, "forward_origin", None) is not None:
        return
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is None or state.step not in (*ONBOARDING_STEPS, "add"):
        return
    if not await turn.is_admin():
        return
    await _dispatch_text(turn, message.text or "")


async def on_non_text(update: Update, context: Context) -> None:
    """Stickers, photos, files... in a private chat."""
    turn = turn_for(update, context, with_args=False)
    if turn is None:
        return
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is not None and state.step in (*ONBOARDING_STEPS, "add"):
        await turn.reply(
            "I can only read text. Please type it, e.g. "
            "<i>we do community catering and school meals</i> (or /cancel)."
        )
        return
    await turn.reply(esc(NON_TEXT))
