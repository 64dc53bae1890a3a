"""/settings (one screen, edited in place by its buttons), /regions, /value, /vcse, /sme,
/frequency, /quiet, /pause, /resume, /stop and the choice of channels.

Buttons edit the message they sit on (editMessageText / editMessageReplyMarkup), and every
press is answered. Button contexts travel in the callback data: ``o`` onboarding, ``r`` the
/regions message, ``s`` the /settings screen.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat import previews, regions_menu
from bot.chat.account import NOT_SUBSCRIBED, Account, account, describe, subscribed
from bot.chat.core import Turn, data, esc, kb
from bot.chat.text import (
    DAY_NAMES,
    InputError,
    parse_frequency,
    parse_on_off,
    parse_quiet,
    parse_value,
    value_range,
)
from storage.chat import touch
from storage.outbox import cancel_pending_for
from storage.subscribers import profile_data

QUIET_PRESETS = ("off", "21:00-07:00", "22:00-08:00", "20:00-08:00")
DIGEST_HOURS = (7, 8, 9, 12, 17)


# --------------------------------------------------------------------------- the screen


def _manage_url(turn: Turn, acc: Account) -> str | None:
    """The signed settings page, for "Open in browser": only in a private chat (in a group
    every member would see a link that controls the subscription) and only when the web
    server has a public address (Telegram refuses a URL button to a local one)."""
    services = turn.services
    if turn.is_group or not services.config.web.public_url:
        return None
    return services.links.manage_url(acc.sub, services.clock())


def settings_markup(acc: Account, manage_url: str | None = None) -> InlineKeyboardMarkup:
    sub, profile = acc.sub, acc.profile

    def tick(on: bool, text: str) -> str:
        return f"✓ {text}" if on else text

    rows = [
        [("🏷 Keywords", data("kw", "s")), ("📍 Regions", data("rgm", "s"))],
        [("🔎 What would these find?", data("pv"))],
        [
            (tick(profile.vcse_only, "VCSE-suitable only"), data("tg", "vcse")),
            (tick(profile.sme_only, "SME-suitable only"), data("tg", "sme")),
        ],
        [("📨 Kinds of notice", data("ty", "menu", "s"))],
        [
            (tick(sub.frequency == "instant", "Instant"), data("fq", "instant", "s")),
            (tick(sub.frequency == "daily", "Daily"), data("fq", "daily", "s")),
            (tick(sub.frequency == "weekly", "Weekly"), data("fq", "weekly", "s")),
        ],
        [
            (f"🌙 Quiet: {sub.quiet_hours or 'default'}", data("qh")),
            (f"🕗 Digest at {sub.digest_hour:02d}:00", data("dh")),
        ],
    ]
    if sub.email and sub.email_verified:
        rows.append(channel_row(acc))
    rows.append(
        [
            ("▶️ Resume alerts", data("tg", "pause"))
            if sub.paused
            else ("⏸ Pause alerts", data("tg", "pause"))
        ]
    )
    markup = kb(rows)
    if manage_url:
        browser = InlineKeyboardButton("🌐 Open in browser", url=manage_url)
        markup = InlineKeyboardMarkup([*markup.inline_keyboard, [browser]])
    return markup


def settings_text(acc: Account, note: str = "") -> str:
    head = "⚙️ <b>Your settings</b>"
    tail = "\nType /help for every command."
    return (
        head
        + "\n\n"
        + describe(acc.sub, acc.profile)
        + (f"\n\n<i>{note}</i>" if note else "")
        + tail
    )


async def on_settings(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        await turn.reply(settings_text(acc), settings_markup(acc, _manage_url(turn, acc)))


async def on_settings_button(turn: Turn, args: list[str]) -> None:
    async with subscribed(turn) as acc:
        await turn.answer()
        await turn.show(settings_text(acc), settings_markup(acc, _manage_url(turn, acc)))


async def on_toggle(turn: Turn, args: list[str]) -> None:
    what = args[0] if args else ""
    caught_up: datetime | None = None
    async with subscribed(turn) as acc:
        if what == "vcse":
            acc.profile.vcse_only = not acc.profile.vcse_only
            note = "Only VCSE-suitable notices" if acc.profile.vcse_only else "Any suitability"
        elif what == "sme":
            acc.profile.sme_only = not acc.profile.sme_only
            note = "Only SME-suitable notices" if acc.profile.sme_only else "Any suitability"
        elif what == "pause":
            if acc.sub.paused:
                caught_up = acc.sub.paused_at  # resuming after a pause: catch up (below)
            acc.sub.paused = not acc.sub.paused
            acc.sub.paused_at = turn.services.clock() if acc.sub.paused else None
            note = "Alerts paused" if acc.sub.paused else "Alerts on again"
        else:
            await turn.answer("Sorry, I didn't understand that button.")
            return
        touch(acc.profile)
        acc.session.add(acc.profile)
        acc.session.add(acc.sub)
        await turn.answer(note)
        await turn.show(settings_text(acc, note), settings_markup(acc, _manage_url(turn, acc)))
        sub_id, profile = acc.id, profile_data(acc.profile)
    if caught_up is not None:
        await previews.after_change(turn, sub_id, profile, "▶️ Alerts on again.", since=caught_up)


async def on_quiet_button(turn: Turn, args: list[str]) -> None:
    async with subscribed(turn) as acc:
        current = acc.sub.quiet_hours or ""
        index = QUIET_PRESETS.index(current) if current in QUIET_PRESETS else -1
        acc.sub.quiet_hours = QUIET_PRESETS[(index + 1) % len(QUIET_PRESETS)]
        acc.session.add(acc.sub)
        note = f"Quiet hours: {acc.sub.quiet_hours}"
        await turn.answer(note)
        await turn.show(settings_text(acc, note), settings_markup(acc, _manage_url(turn, acc)))


async def on_digest_hour_button(turn: Turn, args: list[str]) -> None:
    async with subscribed(turn) as acc:
        hour = acc.sub.digest_hour
        later = [h for h in DIGEST_HOURS if h > hour]
        acc.sub.digest_hour = later[0] if later else DIGEST_HOURS[0]
        acc.session.add(acc.sub)
        note = f"Digests at {acc.sub.digest_hour:02d}:00"
        await turn.answer(note)
        await turn.show(settings_text(acc, note), settings_markup(acc, _manage_url(turn, acc)))


# --------------------------------------------------------------------------- regions


def regions_markup(regions: list[str], ctx: str) -> InlineKeyboardMarkup:
    def item(area: regions_menu.Area) -> tuple[str, str]:
        mark = "✅ " if regions_menu.selected(regions, area) else ""
        return mark + area.name, data("rg", ctx, area.key)

    areas = [item(a) for a in regions_menu.AREAS]
    rows = [areas[i : i + 2] for i in range(0, len(areas), 2)]
    rows.append([item(regions_menu.ALL_EM)])
    rows.append([item(regions_menu.ENGLAND)])
    done = {"o": "Next ›", "s": "« Back to settings"}.get(ctx, "✓ Done")
    rows.append([(done, data("rgok", ctx))])
    return kb(rows)


def regions_text(regions: list[str], ctx: str) -> str:
    lead = (
        "📍 <b>Where do you work?</b> Tap the areas you cover (tap again to untick), then Next."
        if ctx == "o"
        else "📍 <b>Your regions</b> — tap to tick or untick."
    )
    return f"{lead}\n\nNow: {esc(regions_menu.names(regions))}"


async def on_regions(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        if not turn.args:
            regions = list(acc.profile.regions)
            await turn.reply(regions_text(regions, "r"), regions_markup(regions, "r"))
            return
        try:
            codes = regions_menu.parse_typed(turn.args)
        except InputError as exc:
            regions = list(acc.profile.regions)
            await turn.reply(esc(str(exc)), regions_markup(regions, "r"))
            return
        before = list(acc.profile.regions)
        regions = regions_menu.add(before, codes)
        named = esc(regions_menu.names(codes))
        if regions == before:
            await turn.reply(
                f"📍 {named} is already covered by your regions "
                f"({esc(regions_menu.names(before))}). To look only there, untick the wider "
                "area below.",
                regions_markup(regions, "r"),
            )
            return
        acc.profile.regions = regions
        touch(acc.profile)
        acc.session.add(acc.profile)
        await turn.reply(
            f"📍 Added {named}. Your regions: {esc(regions_menu.names(regions))}. "
            "Tap one below to untick it.",
            regions_markup(regions, "r"),
        )


async def on_regions_menu(turn: Turn, args: list[str]) -> None:
    ctx = args[0] if args else "s"
    async with subscribed(turn) as acc:
        regions = list(acc.profile.regions)
        await turn.answer()
        await turn.show(regions_text(regions, ctx), regions_markup(regions, ctx))


async def on_region_toggle(turn: Turn, args: list[str]) -> None:
    if len(args) != 2 or args[1] not in regions_menu.BY_KEY or args[0] not in ("o", "r", "s"):
        await turn.answer("Sorry, I didn't understand that button.")
        return
    ctx, key = args
    async with subscribed(turn) as acc:
        regions = regions_menu.toggle(list(acc.profile.regions), key)
        acc.profile.regions = regions
        touch(acc.profile)
        acc.session.add(acc.profile)
        area = regions_menu.BY_KEY[key]
        on = regions_menu.selected(regions, area)
        await turn.answer(f"{area.name}: {'added' if on else 'removed'}")
        await turn.show(regions_text(regions, ctx), regions_markup(regions, ctx))


async def on_regions_done(turn: Turn, args: list[str]) -> None:
    ctx = args[0] if args else "r"
    async with subscribed(turn) as acc:
        await turn.answer()
        if ctx == "o":
            await turn.show(frequency_text_onboarding(acc), frequency_markup("o"))
        elif ctx == "s":
            await turn.show(settings_text(acc), settings_markup(acc, _manage_url(turn, acc)))
        else:
            names = esc(regions_menu.names(list(acc.profile.regions)))
            await turn.show(f"📍 Saved. Your regions: {names}.", None)


# --------------------------------------------------------------------------- frequency


def frequency_markup(ctx: str) -> InlineKeyboardMarkup:
    return kb(
        [
            [("⚡ Instant", data("fq", "instant", ctx))],
            [("📅 Daily digest", data("fq", "daily", ctx))],
            [("🗓 Weekly digest", data("fq", "weekly", ctx))],
        ]
    )


def frequency_text_onboarding(acc: Account) -> str:
    names = esc(regions_menu.names(list(acc.profile.regions)))
    return (
        f"📍 Regions: {names}.\n\n⏱ <b>How often would you like alerts?</b>\n"
        "Instant — as soon as a matching contract appears.\n"
        f"Daily or weekly — one digest at {acc.sub.digest_hour:02d}:00."
    )


def _set_frequency(acc: Account, kind: str, hour: int | None, weekday: int | None) -> str:
    old = acc.sub.frequency
    acc.sub.frequency = kind
    if hour is not None:
        acc.sub.digest_hour = hour
    if weekday is not None:
        acc.sub.weekly_day = weekday
    acc.session.add(acc.sub)
    if kind == "instant":
        text = "Alerts will come instantly (outside quiet hours)."
    elif kind == "daily":
        text = f"You'll get one daily digest at {acc.sub.digest_hour:02d}:00."
    else:
        day = DAY_NAMES[acc.sub.weekly_day % 7]
        text = f"You'll get one weekly digest on {day}s at {acc.sub.digest_hour:02d}:00."
    if old != kind:
        text += " Alerts already waiting keep their time."
    return text


def onboarding_done(acc: Account) -> str:
    return (
        "✅ <b>All set!</b> Your alerts are on.\n\n"
        + describe(acc.sub, acc.profile)
        + "\n\nChange anything with /settings, add keywords with /add, or get alerts by "
        "email too with /email. /help lists every command."
    )


async def on_frequency_button(turn: Turn, args: list[str]) -> None:
    if len(args) != 2 or args[0] not in ("instant", "daily", "weekly") or args[1] not in "os":
        await turn.answer("Sorry, I didn't understand that button.")
        return
    kind, ctx = args
    async with subscribed(turn) as acc:
        text = _set_frequency(acc, kind, None, None)
        await turn.answer(text)
        if ctx != "o":
            await turn.show(settings_text(acc, text), settings_markup(acc, _manage_url(turn, acc)))
            return
        await turn.show(onboarding_done(acc), None)
        sub_id, profile = acc.id, profile_data(acc.profile)
    # the end of onboarding: what these settings find right now
    await previews.after_change(turn, sub_id, profile)


async def on_frequency(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        if not turn.args:
            await turn.reply(
                "⏱ <b>How often would you like alerts?</b> Tap one, or type e.g. "
                "/frequency daily 8 or /frequency weekly monday 9.",
                frequency_markup("s"),
            )
            return
        try:
            wanted = parse_frequency(turn.args)
        except InputError as exc:
            await turn.reply(esc(str(exc)))
            return
        await turn.reply(esc(_set_frequency(acc, wanted.kind, wanted.hour, wanted.weekday)))


async def on_quiet(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        if not turn.args:
            await turn.reply(
                f"🌙 Quiet hours: {esc(acc.sub.quiet_hours or 'the service default')}. "
                "Instant alerts that arrive then wait until they end. "
                "Type /quiet 21:00-07:00 to change them, or /quiet off."
            )
            return
        try:
            window = parse_quiet(turn.args)
        except InputError as exc:
            await turn.reply(esc(str(exc)))
            return
        acc.sub.quiet_hours = window
        acc.session.add(acc.sub)
        text = "Quiet hours are off." if window == "off" else f"Quiet hours set: {window}."
        await turn.reply(f"🌙 {esc(text)}")


# --------------------------------------------------------------------------- value, flags


async def on_value(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        try:
            low, high = parse_value(turn.args)
        except InputError as exc:
            now = value_range(acc.profile.min_value, acc.profile.max_value)
            await turn.reply(f"💷 Now: {esc(now)}.\n{esc(str(exc))}")
            return
        acc.profile.min_value, acc.profile.max_value = low, high
        touch(acc.profile)
        acc.session.add(acc.profile)
        extra = " Notices that state no value are still sent." if low or high else ""
        await turn.reply(f"💷 Saved: {esc(value_range(low, high))}.{extra}")


async def _flag(turn: Turn, field: str, what: str) -> None:
    async with subscribed(turn) as acc:
        if not turn.args:
            now = "on" if getattr(acc.profile, field) else "off"
            await turn.reply(
                f"Only {what} notices: {now}. Type /{field.split('_')[0]} on or "
                f"/{field.split('_')[0]} off."
            )
            return
        try:
            on = parse_on_off(turn.args)
        except InputError as exc:
            await turn.reply(esc(str(exc)))
            return
        setattr(acc.profile, field, on)
        touch(acc.profile)
        acc.session.add(acc.profile)
        text = (
            f"Only {what} notices from now on." if on else f"{what} suitability no longer required."
        )
        await turn.reply(esc(text[0].upper() + text[1:]))


async def on_vcse(turn: Turn) -> None:
    await _flag(turn, "vcse_only", "VCSE-suitable")


async def on_sme(turn: Turn) -> None:
    await _flag(turn, "sme_only", "SME-suitable")


# --------------------------------------------------------------------------- pause


PAUSED = (
    "⏸ Your alerts are paused. Nothing is lost: when you send /resume, I'll offer the "
    "notices that opened meanwhile and are still open. (/stop instead stops alerts without "
    "saving any up.)"
)
STOPPED = (
    "⏹ I've stopped your alerts: you won't hear from me, and nothing is saved up for later. "
    "Your settings are kept — /resume starts fresh alerts from now. (/pause instead holds "
    "them and catches up when you resume; /forget deletes everything.)"
)


async def on_pause(turn: Turn) -> None:
    async with account(turn) as acc:
        if acc is None:
            await turn.reply(esc(NOT_SUBSCRIBED))
            return
        if acc.sub.paused and acc.sub.paused_at is not None:
            await turn.reply(
                esc("Your alerts are already paused. Send /resume to start them again.")
            )
            return
        acc.sub.paused = True
        acc.sub.paused_at = turn.services.clock()
        acc.session.add(acc.sub)
    await turn.reply(esc(PAUSED))


async def on_stop(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        acc.sub.paused = True
        acc.sub.paused_at = None
        acc.session.add(acc.sub)
        for channel in ("telegram", "email"):
            await cancel_pending_for(acc.session, acc.id, channel)
    await turn.reply(esc(STOPPED))


async def on_resume(turn: Turn) -> None:
    """/resume: alerts on again; after /pause, the notices that opened meanwhile are
    offered (after /stop, nothing is caught up)."""
    async with account(turn) as acc:
        if acc is None:
            await turn.reply(esc(NOT_SUBSCRIBED))
            return
        if not acc.sub.paused:
            await turn.reply(esc("Your alerts are already on."))
            return
        since = acc.sub.paused_at
        acc.sub.paused = False
        acc.sub.paused_at = None
        acc.session.add(acc.sub)
        sub_id, profile = acc.id, profile_data(acc.profile)
    lead = "▶️ Welcome back — your alerts are on again."
    if since is None:
        await turn.reply(esc(lead + " Nothing was saved up while they were stopped."))
        return
    await previews.after_change(turn, sub_id, profile, esc(lead), since=since)


# --------------------------------------------------------------------------- channels


def channel_row(acc: Account) -> list[tuple[str, str]]:
    sub = acc.sub
    both = sub.telegram_active and sub.email_active
    return [
        ("✓ Telegram" if sub.telegram_active and not both else "Telegram", data("ch", "t")),
        ("✓ Email" if sub.email_active and not both else "Email", data("ch", "e")),
        ("✓ Both" if both else "Both", data("ch", "b")),
    ]


def channel_question(acc: Account) -> tuple[str, InlineKeyboardMarkup]:
    return (
        "📨 <b>Where would you like your alerts?</b>",
        kb([channel_row(acc)]),
    )


async def on_channel(turn: Turn, args: list[str]) -> None:
    choice = args[0] if args else ""
    async with subscribed(turn) as acc:
        if choice not in ("t", "e", "b"):
            await turn.answer("Sorry, I didn't understand that button.")
            return
        if choice in ("e", "b") and not (acc.sub.email and acc.sub.email_verified):
            await turn.answer("Link an email address first: /email you@example.org")
            return
        acc.sub.telegram_active = choice in ("t", "b")
        acc.sub.email_active = choice in ("e", "b")
        acc.session.add(acc.sub)
        if not acc.sub.email_active:
            await cancel_pending_for(acc.session, acc.id, "email")
        if not acc.sub.telegram_active:
            await cancel_pending_for(acc.session, acc.id, "telegram")
        where = {"t": "on Telegram", "e": "by email", "b": "on Telegram and by email"}[choice]
        note = f"Alerts will come {where}."
        await turn.answer(note)
        message = turn.query.message if turn.query is not None else None
        text = getattr(message, "text", "") or ""
        if text.startswith("⚙️"):
            await turn.show(settings_text(acc, note), settings_markup(acc, _manage_url(turn, acc)))
        else:
            question, markup = channel_question(acc)
            await turn.show(f"{question}\n\n{esc(note)}", markup)
