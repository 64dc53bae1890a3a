"""Each role its own bot: who the sender is, and the welcome, help and commands they get.

One Telegram bot serves three kinds of people. An enterprise sets up alerts; an adviser
(the roster's ``telegram_id``, or linked by an invite link) answers enterprises' questions;
an admin runs the service. Each gets its own welcome, ``/help`` and command menu, and an
adviser's or admin's plain message is never read as alert keywords (an adviser who typed
"Great, I'll draft some bullet points by Friday" was once alerted to "Great Central
Railway"). The role is looked up on every update, never remembered: the roster changes.

Typos in commands ("/setings") get "did you mean /settings?", from the commands of the
sender's role only (rapidfuzz: the edit distance, a swap of two letters counting once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rapidfuzz.distance import OSA

from bot.render.text import esc
from bot.services import Services
from storage import enquiries as adviser_store

__all__ = [
    "ADMIN",
    "ADVISER",
    "ENTERPRISE",
    "Role",
    "commands_for",
    "help_text",
    "role_of",
    "suggest_command",
    "welcome_text",
]

Role = Literal["enterprise", "adviser", "admin"]
ENTERPRISE: Role = "enterprise"
ADVISER: Role = "adviser"
ADMIN: Role = "admin"


async def role_of(services: Services, user_id: int | None) -> Role:
    """The sender's role now: admin (``[telegram] admin_ids``), adviser (active, with this
    Telegram id), else enterprise."""
    if user_id is None:
        return ENTERPRISE
    if user_id in services.admin_ids:
        return ADMIN
    async with services.db.session() as session:
        adviser = await adviser_store.adviser_by_telegram(session, user_id)
    return ADVISER if adviser is not None else ENTERPRISE


# --------------------------------------------------------------------------- commands

#: What each role can send, (command, what it does) — /help and the menus are made from these.
ENTERPRISE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "What I can do — start here"),
    ("settings", "See and change all your settings"),
    ("preview", "What your settings found in the last 30 days"),
    ("add", "Add keywords, e.g. /add school meals"),
    ("ask", "Ask a SEEM adviser a question"),
    ("pause", "Hold alerts for a while"),
    ("start", "Set up alerts"),
    ("keywords", "Your keywords"),
    ("remove", "Remove keywords"),
    ("exclude", "Words that rule a notice out"),
    ("regions", "Where you work"),
    ("cpv", "Add CPV codes, or find them by a word"),
    ("value", "Contract value range, e.g. /value 10k 500k"),
    ("vcse", "Only notices suitable for VCSEs (on/off)"),
    ("sme", "Only notices suitable for SMEs (on/off)"),
    ("types", "Which kinds of notice reach you"),
    ("frequency", "Instant, daily or weekly"),
    ("quiet", "Quiet hours"),
    ("email", "Get alerts by email too"),
    ("verify", "Confirm your email code"),
    ("resume", "Start alerts again"),
    ("stop", "Stop alerts (nothing saved up)"),
    ("cancel", "Cancel what I'm waiting for"),
    ("reminders", "Your reminders, to see or cancel"),
    ("mydata", "Get a copy of your data"),
    ("forget", "Delete everything about you"),
    ("privacy", "How we use your data"),
)
#: The short menu enterprises see (the rest are in /help).
ENTERPRISE_MENU: tuple[str, ...] = ("help", "settings", "preview", "add", "ask", "pause")

ADVISER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "Your commands"),
    ("queue", "Your open enquiries"),
    ("away", "Pause new enquiries, e.g. /away until 1 Dec"),
    ("back", "Receive enquiries again"),
    ("partners", "Enterprises open to bidding together"),
    ("report", "The latest market report"),
    ("privacy", "How we use data"),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "Your commands"),
    ("stats", "Subscribers, alerts, feeds and enquiry figures"),
    ("report", "The latest market report"),
    ("partners", "Enterprises open to bidding together"),
    ("queue", "Your open enquiries (if you are an adviser too)"),
    ("away", "Pause new enquiries"),
    ("back", "Receive enquiries again"),
    ("preview", "What your own alert settings would find"),
    ("settings", "Your own alert settings, if you subscribe"),
    ("add", "Subscribe yourself with keywords, e.g. /add catering"),
    ("privacy", "How we use data"),
)


def commands_for(role: Role) -> tuple[tuple[str, str], ...]:
    if role == ADVISER:
        return ADVISER_COMMANDS
    if role == ADMIN:
        return ADMIN_COMMANDS
    return ENTERPRISE_COMMANDS


def menu_for(role: Role) -> tuple[tuple[str, str], ...]:
    """The command menu (setMyCommands) of a role."""
    if role == ENTERPRISE:
        by_name = dict(ENTERPRISE_COMMANDS)
        return tuple((name, by_name[name]) for name in ENTERPRISE_MENU)
    return commands_for(role)


def suggest_command(typed: str, names: Sequence[str]) -> str | None:
    """The command ``typed`` most likely meant: ``setings`` -> ``settings``, ``hepl`` ->
    ``help``; None when nothing is close (at most one edit for short names, two else)."""
    word = typed.lstrip("/").split("@")[0].casefold()
    if not word or len(word) > 40:
        return None
    best: tuple[int, str] | None = None
    for name in names:
        allowed = 1 if len(name) <= 4 else 2
        distance = OSA.distance(word, name, score_cutoff=allowed)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    if best is None:
        prefixed = [n for n in names if len(word) >= 3 and n.startswith(word)]
        return prefixed[0] if len(prefixed) == 1 else None
    return best[1]


# --------------------------------------------------------------------------- texts

ENTERPRISE_HELP = (
    "Hello{name}! I'm <b>bestbot</b>, the free contract alerts service of BEST Procurement "
    "(Social Enterprise East Midlands). I watch Find a Tender and Contracts Finder and tell "
    "you about public contracts that fit what your enterprise does.\n\n"
    "<b>Ask a person</b>\n"
    "/ask — ask a SEEM adviser anything about bidding, e.g. /ask how do I price a tender?\n"
    "❓ Ask an adviser — the button under every alert, to ask about that notice\n\n"
    "<b>See and change</b>\n"
    "/settings — every setting on one screen, with buttons\n"
    "/preview — what your settings found in the last 30 days\n"
    "/keywords — your keywords (✖ to remove)\n"
    "/add — add keywords: /add school meals, catering\n"
    "/remove — remove keywords: /remove catering\n"
    "/exclude — words that rule a notice out\n"
    "/regions — where you work: /regions leicestershire (adds it)\n"
    "/cpv — CPV codes: /cpv 555 or /cpv catering\n"
    "/value — contract value: /value 10k 500k or /value any\n"
    "/vcse, /sme — only notices suitable for VCSEs / SMEs: on or off\n"
    "/types — which kinds reach you: tenders, market engagement, dynamic markets, "
    "pipeline; and contracts reserved for supported employment or mutuals\n"
    "/frequency — instant, daily or weekly: /frequency daily 8\n"
    "/quiet — quiet hours: /quiet 21:00-07:00 or /quiet off\n"
    "/email — get alerts by email too; /verify — enter the emailed code\n\n"
    "<b>Taking a break</b>\n"
    "/pause — hold alerts for a while: /resume then sends what opened meanwhile\n"
    "/stop — stop alerts: nothing is saved up (your settings are kept)\n"
    "/resume — start again\n\n"
    "<b>Your data</b>\n"
    "/privacy — what we keep and why\n"
    "/mydata — a copy of everything we hold about you\n"
    "/forget — delete it all\n\n"
    "Under each alert you can tap 👍/👎, 🔕 Mute a keyword, ⏰ Remind me before the "
    "deadline, or ❓ to ask an adviser about it."
)

ADVISER_HELP = (
    "Hello{name}! You're a <b>SEEM adviser</b> on bestbot. Enterprises' questions come to you "
    "here, each with Accept / Pass on / Resolve buttons; reply to an enquiry message to "
    "answer the enterprise.\n\n"
    "/queue — your open enquiries\n"
    "/away — pause new enquiries: /away or /away until 1 Dec\n"
    "/back — receive them again\n"
    "/privacy — how enterprises' data is used\n"
    "/help — this list"
)

ADMIN_HELP = (
    "Hello{name}! You're a <b>bestbot admin</b>.\n\n"
    "/stats — enquiry figures and alert feedback\n"
    "/queue, /away, /back — enquiries, if you're on the adviser roster too\n"
    "/preview, /settings — your own alerts, if you subscribe with /add\n"
    "/help — this list\n\n"
    "Advisers join by the invite link made with <code>bestbot advisers invite</code>; "
    "enterprises set themselves up with /start."
)


def help_text(role: Role, first_name: str) -> str:
    name = f" {esc(first_name[:64])}" if first_name else ""
    template = {ADVISER: ADVISER_HELP, ADMIN: ADMIN_HELP}.get(role, ENTERPRISE_HELP)
    return template.format(name=name)


def welcome_text(role: Role, first_name: str) -> str:
    """What /start says to an adviser or an admin (enterprises get the onboarding)."""
    if role == ADVISER:
        return (
            help_text(role, first_name)
            + "\n\nNothing you type here is read as alert keywords: plain messages are "
            "only ever your answers to enquiries."
        )
    return help_text(role, first_name)


ROLE_TEXT_ONLY = {
    ADVISER: (
        "That message wasn't sent to anyone. To answer an enterprise, reply to its enquiry "
        "message (or use the buttons on it). /queue shows your enquiries; /help lists your "
        "commands."
    ),
    ADMIN: (
        "I read commands rather than chat here. /stats shows the figures; /help lists your "
        "commands."
    ),
}
