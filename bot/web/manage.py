"""The settings page: ``/manage/<token>``, from "Manage your alerts" in every email and
"Open in browser" under ``/settings`` in the chat.

* The token (purpose ``manage``) names the subscriber's random public id and their link
  version and expires (:data:`bot.links.MANAGE_TTL`): a forwarded old email stops working,
  and so does every link once control of the subscription moves.
* ``GET`` only shows. Each section is its own small form that ``POST`` s back to the same
  URL with a CSRF token (:mod:`bot.web.csrf`) and the form's name; the page is shown again
  with what happened. No JavaScript: buttons are real buttons, every field has a label.
* The changes follow the chat's own rules (:mod:`bot.web.editing`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat import regions_menu
from bot.chat.kinds_menu import RESERVED_CHOICES
from bot.chat.preview_search import Preview, preview
from bot.chat.text import DAY_NAMES, MAX_KEYWORDS, money
from bot.durations import format_time_window
from bot.links import Verified
from bot.services import Services
from bot.web import csrf, editing
from bot.web.pages import message_page, page
from bot.web.unsubscribe import SERVICES
from storage.chat import profile_of, subscriber_by_public_id
from storage.models import ProfileRow, SubscriberRow
from storage.outbox import cancel_pending_for
from storage.subscribers import mask_email, profile_data

__all__ = ["add_routes", "preview_summary"]

log = logging.getLogger(__name__)

FREQUENCIES = (
    ("instant", "Instant: as soon as a matching notice appears"),
    ("daily", "Daily digest"),
    ("weekly", "Weekly digest"),
)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/manage/{token}", _show)
    app.router.add_post("/manage/{token}", _change)


def _expired() -> web.Response:
    return message_page(
        "This link has expired",
        "Links to your settings work for 30 days, and stop when your subscription moves to "
        "another address or chat. Use “Manage your alerts” in your most recent email, or "
        "send /settings to the bot and choose “Open in browser”.",
        {"text": "You can also ask for a new link on the sign-up page.", "muted": True},
        status=400,
    )


def _token(request: web.Request) -> Verified | None:
    services = request.app[SERVICES]
    return services.signer.verify("manage", request.match_info["token"], now=services.clock())


async def _subscriber(session: AsyncSession, token: Verified) -> SubscriberRow | None:
    sub = await subscriber_by_public_id(session, token.subject)
    if sub is None or sub.id is None or sub.link_version != token.version:
        return None
    return sub


async def _show(request: web.Request) -> web.Response:
    token = _token(request)
    if token is None:
        return _expired()
    services = request.app[SERVICES]
    async with services.db.session() as session:
        sub = await _subscriber(session, token)
        if sub is None:
            return _expired()
        assert sub.id is not None
        profile = await profile_of(session, sub.id)
        return _page(services, token, sub, profile, [])


async def _change(request: web.Request) -> web.Response:
    token = _token(request)
    if token is None:
        return _expired()
    services = request.app[SERVICES]
    form = {k: str(v) for k, v in (await request.post()).items() if isinstance(v, str)}
    posted = await request.post()
    regions = [str(v) for v in posted.getall("region", [])]
    choices = {
        "kind": [str(v) for v in posted.getall("kind", [])],
        "reserved": [str(v) for v in posted.getall("reserved", [])],
    }
    async with services.db.session() as session:
        sub = await _subscriber(session, token)
        if sub is None:
            return _expired()
        assert sub.id is not None
        profile = await profile_of(session, sub.id)
        if not csrf.check(services.signer, form, sub.public_id, services.clock()):
            stale = editing.Note(False, ["This page was open too long, so nothing was saved."])
            stale.add("Please make the change again.")
            return _page(services, token, sub, profile, [stale], status=400)
        preview = None
        note: editing.Note | None = None
        name = form.get("form", "")
        if name == "preview":
            preview = await _preview(services, profile)
        else:
            note = await _apply(session, name, form, regions, sub, profile, choices)
        session.add(sub)
        session.add(profile)
        log.info("settings page: %s (%s)", name or "?", "saved" if note and note.ok else "-")
        return _page(services, token, sub, profile, [note] if note else [], preview=preview)


async def _apply(
    session: AsyncSession,
    name: str,
    form: dict[str, str],
    regions: list[str],
    sub: SubscriberRow,
    profile: ProfileRow,
    choices: dict[str, list[str]],
) -> editing.Note:
    if name == "kinds":
        return editing.set_kinds(profile, choices["kind"], choices["reserved"])
    if name == "keywords_add":
        return editing.add_words(profile, form.get("keywords", ""))
    if name == "exclude_add":
        return editing.add_words(profile, form.get("exclude", ""), exclude=True)
    if name == "keyword_remove":
        return editing.remove_word(profile, form.get("word", ""))
    if name == "exclude_remove":
        return editing.remove_word(profile, form.get("word", ""), exclude=True)
    if name == "regions":
        return editing.set_regions(profile, regions)
    if name == "filters":
        return editing.set_filters(profile, form)
    if name == "delivery":
        before = (sub.email_active, sub.telegram_active)
        note = editing.set_delivery(sub, form)
        assert sub.id is not None
        if before[0] and not sub.email_active:
            await cancel_pending_for(session, sub.id, "email")
        if before[1] and not sub.telegram_active:
            await cancel_pending_for(session, sub.id, "telegram")
        return note
    return editing.Note(False, ["Sorry, that form was not understood. Nothing was changed."])


# --------------------------------------------------------------------------- the preview


def preview_summary(found: Preview) -> dict[str, Any]:
    """What the page shows of a preview — the chat's ``/preview``: a summary line, the
    count each keyword and filter contributed, and up to 8 titles (open ones first)."""
    if found.problem is not None:
        return {
            "available": False,
            "summary": f"Your settings can't be read: {found.problem}.",
            "titles": [],
            "keywords": [],
            "filters": [],
        }
    n = len(found.found)
    still_open = sum(1 for item in found.found if item.open)
    summary = (
        f"{n} of the {found.seen} notices seen in the last {found.days} days"
        + (f" ({still_open} still open)" if n else "")
        + "."
    )
    best = found.best(8)
    return {
        "available": True,
        "summary": summary,
        "titles": [item.title[:200] for item in best],
        "keywords": [f"{k}: {c}" for k, c in found.by_keyword[:20]],
        "filters": [f"{f.label}: {f.removed} kept out" for f in found.filters],
    }


async def _preview(services: Services, profile: ProfileRow) -> dict[str, Any]:
    """The same preview as the chat's ``/preview``."""
    try:
        found = await preview(services, profile_data(profile), days=30)
    except Exception as exc:  # the page still works without it
        log.warning("settings page: preview failed: %s", type(exc).__name__)
        return {
            "available": False,
            "summary": "The preview failed; try again later.",
            "titles": [],
            "keywords": [],
            "filters": [],
        }
    return preview_summary(found)


# --------------------------------------------------------------------------- rendering


def _value_text(profile: ProfileRow) -> str:
    low, high = profile.min_value, profile.max_value
    if low is None and high is None:
        return "any"
    if low is None:
        return f"0 {money(high or 0)}"
    return f"{money(low)} {money(high)}" if high is not None else money(low)


def _page(
    services: Services,
    token: Verified,
    sub: SubscriberRow,
    profile: ProfileRow,
    notes: list[editing.Note],
    *,
    preview: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    now = services.clock()
    regions = list(profile.regions)
    quiet_default = services.config.alerts.quiet_hours
    expires: datetime | None = token.expires
    return page(
        "settings.html",
        status=status,
        title="Your alerts",
        brand=services.mailer.settings.brand.name,
        who=mask_email(sub.email) if sub.email else (sub.name or ""),
        csrf=csrf.issue(services.signer, sub.public_id, now),
        notes=notes,
        keywords=list(profile.keywords),
        exclude=list(profile.exclude),
        max_keywords=MAX_KEYWORDS,
        limits=editing.LIMITS,
        regions_now=regions_menu.names(regions),
        areas=[
            {"key": a.key, "name": a.name, "checked": regions_menu.selected(regions, a)}
            for a in regions_menu.EVERY_AREA
        ],
        value_text=_value_text(profile),
        vcse_only=profile.vcse_only,
        sme_only=profile.sme_only,
        kinds=[
            {"key": g.key, "label": g.label, "codes": g.codes, "what": g.what, "on": on}
            for g, on in editing.kinds_on(profile)
        ],
        reserved=[
            {"code": code, "name": name, "on": code in (profile.reserved or ())}
            for code, name, _ in RESERVED_CHOICES
        ],
        frequencies=FREQUENCIES,
        frequency=sub.frequency,
        hours=list(range(24)),
        digest_hour=sub.digest_hour,
        days=DAY_NAMES,
        weekly_day=sub.weekly_day,
        quiet_hours="" if sub.quiet_hours is None else sub.quiet_hours,
        default_quiet="off" if quiet_default is None else format_time_window(quiet_default),
        can_email=bool(sub.email and sub.email_verified),
        email=sub.email or "",
        email_on=sub.email_active,
        can_telegram=sub.telegram_chat_id is not None,
        telegram_on=sub.telegram_active,
        telegram_url=services.links.telegram_link(sub, now)
        if sub.telegram_chat_id is None and sub.email
        else None,
        paused=sub.paused,
        preview=preview,
        expires=_day(expires, services) if expires else "—",
        unsubscribe_url=services.links.unsubscribe_url(sub),
    )


def _day(moment: datetime, services: Services) -> str:
    local = moment.astimezone(services.timezone)
    return f"{local.day} {local:%B %Y}"
