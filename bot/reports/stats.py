"""The headline numbers at the top of admins' ``/stats``: who is subscribed, what was sent
this week, and whether each feed is being read."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.reports import service_facts, subscriber_counts

__all__ = ["headline_lines"]

WEEK = timedelta(days=7)
#: A feed not read successfully for this long is shown as stale.
STALE = timedelta(hours=6)


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


async def headline_lines(session: AsyncSession, now: datetime) -> list[str]:
    """Telegram HTML lines: subscribers active / paused / new this week, alerts sent this
    week, and each feed's health (its last successful read, and the last error)."""
    people = await subscriber_counts(session, now - WEEK)
    facts = await service_facts(session, now - WEEK, now)
    lines = [
        "<b>This week</b>",
        f"Subscribers: {people.active} active, {people.paused} paused, "
        f"{people.new} new this week ({people.total} in all)",
        f"Alerts sent: {facts['alerts_sent']} (failed: {facts['alerts_failed']}, "
        f"waiting: {facts['alerts_pending']})",
    ]
    feeds = facts["feeds"]
    if not feeds:
        lines.append("Feeds: not polled yet")
    for name, feed in feeds.items():
        success = (
            datetime.fromisoformat(feed["last_success_at"]) if feed["last_success_at"] else None
        )
        healthy = success is not None and now - success <= STALE and not feed["last_error"]
        state = "✅" if healthy else "⚠️"
        line = f"{state} {html.escape(name)}: last read {_age(success, now)}"
        if feed["last_error"]:
            line += f" — last error: {html.escape(str(feed['last_error'])[:120])}"
        lines.append(line)
    return lines
