"""A chat's subscription as the settings see it: load, validate, describe.

A profile is saved only if :func:`matchers.profile.parse_profile` accepts it, exactly as the
pipeline will read it, so a bad edit can never break matching for anyone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat import regions_menu
from bot.chat.core import Turn, esc
from bot.chat.text import DAY_NAMES, value_range
from bot.kinds import clean_kinds_off, kinds_summary
from bot.telegram.wording import NOT_SUBSCRIBED
from feeds.notice import RESERVATIONS
from matchers import cpv as cpv_codes
from matchers.profile import ProfileError, parse_profile
from storage.chat import get_state, profile_of, subscriber_for_chat
from storage.models import ProfileRow, SubscriberRow

__all__ = [
    "NOT_SUBSCRIBED",
    "Account",
    "NotSubscribed",
    "account",
    "describe",
    "profile_problem",
    "subscribed",
]


SETTING_UP = (
    "We're halfway through setting up: first tell me what your enterprise does (a sentence "
    "is fine), or send /add with a few keywords, e.g. /add catering, school meals. "
    "/help lists everything I can do."
)


@dataclass
class Account:
    session: AsyncSession
    sub: SubscriberRow
    profile: ProfileRow

    @property
    def id(self) -> int:
        assert self.sub.id is not None
        return self.sub.id


@asynccontextmanager
async def account(turn: Turn) -> AsyncIterator[Account | None]:
    """The chat's subscriber and profile in one transaction (None when not subscribed)."""
    async with turn.services.db.session() as session:
        sub = await subscriber_for_chat(session, turn.chat_id)
        if sub is None:
            yield None
            return
        assert sub.id is not None
        profile = await profile_of(session, sub.id)
        yield Account(session, sub, profile)


class NotSubscribed(Exception):
    """Raised by :func:`subscribed` after telling the user; the router swallows it."""


@asynccontextmanager
async def subscribed(turn: Turn) -> AsyncIterator[Account]:
    """Like :func:`account`, but a chat with no subscription is told so and the handler ends.

    Commands get a reply, buttons an answer; either way the handler body does not run.
    """
    async with account(turn) as acc:
        if acc is None:
            async with turn.services.db.session() as session:
                state = await get_state(session, turn.chat_id)
            text = NOT_SUBSCRIBED
            if state is not None and state.step == "keywords":
                text = SETTING_UP  # they did send /start: say what is missing
            if turn.query is None:
                await turn.reply(esc(text))
            else:
                await turn.answer(text)
            raise NotSubscribed
        yield acc


def profile_problem(profile: ProfileRow) -> str | None:
    """Why the pipeline would refuse this profile, or None when it is fine."""
    try:
        parse_profile(
            {
                "id": str(profile.subscriber_id),
                "keywords": list(profile.keywords),
                "exclude": list(profile.exclude),
                "cpv": list(profile.cpv),
                "regions": list(profile.regions),
                "min_value": profile.min_value,
                "max_value": profile.max_value,
                "vcse_only": profile.vcse_only,
                "sme_only": profile.sme_only,
                "stages": list(profile.stages) or None,
                "local_only": profile.local_only,
                "reserved": list(profile.reserved or ()),
            }
        )
    except ProfileError as exc:
        return exc.problem
    return None


def keyword_list(words: list[str], shown: int = 12) -> str:
    if not words:
        return "none"
    head = ", ".join(esc(w) for w in words[:shown])
    return head + (f" …and {len(words) - shown} more" if len(words) > shown else "")


def frequency_text(sub: SubscriberRow) -> str:
    if sub.frequency == "daily":
        return f"daily digest at {sub.digest_hour:02d}:00"
    if sub.frequency == "weekly":
        day = DAY_NAMES[sub.weekly_day % 7]
        return f"weekly digest, {day}s at {sub.digest_hour:02d}:00"
    return "instant"


def quiet_text(sub: SubscriberRow) -> str:
    if sub.quiet_hours is None:
        return "the service default"
    if sub.quiet_hours == "off":
        return "off"
    return sub.quiet_hours.replace("-", "–")


def channels_text(sub: SubscriberRow) -> str:
    parts = []
    if sub.telegram_active:
        parts.append("Telegram")
    if sub.email_active and sub.email:
        parts.append(f"email ({esc(sub.email)})")
    if not parts:
        return "none"
    return " and ".join(parts)


def describe(sub: SubscriberRow, profile: ProfileRow) -> str:
    """Every setting, one per line (HTML)."""
    cpv = ", ".join(esc(cpv_codes.describe(c)) for c in profile.cpv[:8]) or "none"
    if len(profile.cpv) > 8:
        cpv += f" …and {len(profile.cpv) - 8} more"
    suit = []
    if profile.vcse_only:
        suit.append("only VCSE-suitable")
    if profile.sme_only:
        suit.append("only SME-suitable")
    for code in profile.reserved or ():
        suit.append("only " + RESERVATIONS.get(code, f"reserved ({code})"))
    email = "not linked — /email to add one"
    if sub.email and sub.email_verified:
        email = esc(sub.email)
    lines = [
        f"🏷 <b>Keywords</b> ({len(profile.keywords)}): {keyword_list(profile.keywords)}",
        f"🚫 <b>Excluding</b>: {keyword_list(profile.exclude)}",
        f"📍 <b>Regions</b>: {esc(regions_menu.names(profile.regions))}",
        f"🗂 <b>CPV codes</b>: {cpv}",
        f"💷 <b>Value</b>: {value_range(profile.min_value, profile.max_value)}",
        f"🤝 <b>Suitability</b>: {', '.join(suit) or 'any'}",
        f"📨 <b>Kinds</b>: {esc(kinds_summary(clean_kinds_off(profile.kinds_off or ())))}",
        f"⏱ <b>Alerts</b>: {frequency_text(sub)}; quiet hours {quiet_text(sub)}",
        f"📨 <b>Sent by</b>: {channels_text(sub)}",
        f"✉️ <b>Email</b>: {email}",
        f"{'⏸' if sub.paused else '▶️'} <b>Status</b>: {'paused' if sub.paused else 'on'}",
    ]
    return "\n".join(lines)
