"""``/healthz``: what a load balancer or systemd can act on.

The web process answers for the fleet, since every part's state is in the database: the
database (reachable), each enabled feed (last successful poll, last error, and what its
fetch is doing here — waiting on a Retry-After, failed), the outboxes (backlog and the
oldest due row) and the webhook inbox (updates waiting and the oldest). ``checks`` names
each check with "ok" or what is wrong; any problem makes the answer 503:

* the database cannot be reached;
* an outbox row or an inbox update has been due for 15 minutes (no worker is sending);
* a feed has had no successful poll for three of its intervals (at least 30 minutes) —
  the feed is down, or no worker is polling. A feed never polled yet is reported, not
  failed, so a fresh install is healthy until its first poll is due. Releases a poll had
  to skip (unparseable, or unsafe to store) are named, by id, under the feed and in its
  check — "ok (…)": the feed itself goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.config import FeedConfig
from bot.services import Services
from storage.health import health_report

log = logging.getLogger(__name__)

#: An outbox whose oldest due row waits longer than this is unhealthy.
STUCK_AFTER_SECONDS = 15 * 60
#: A feed is stale after this many of its intervals without a successful poll …
STALE_INTERVALS = 3
#: … and never sooner than this.
STALE_AT_LEAST = timedelta(minutes=30)


async def health(services: Services, role: str = "all") -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        async with services.db.session() as session:
            report = await health_report(session, services.clock())
    except Exception as exc:
        checks["database"] = f"unreachable ({type(exc).__name__})"
        return {"ok": False, "role": role, "database": checks["database"], "checks": checks}
    checks["database"] = "ok"
    for name, box in report["outboxes"].items():
        checks[f"outbox {name}"] = _waiting(box["oldest_due_seconds"], box["backlog"])
    if services.config.telegram.webhook:
        inbox = report["inbox"]
        checks["inbox"] = _waiting(inbox["oldest_seconds"], inbox["backlog"])
    now = services.clock()
    for feed in services.config.feeds:
        if feed.enabled:
            state = report["feeds"].setdefault(feed.name, {})
            checks[f"feed {feed.name}"] = _feed_check(feed, state, now)
    for name, activity in services.feed_activity.items():
        report["feeds"].setdefault(name, {})["fetch"] = activity.snapshot()
    ok = all(v == "ok" or v.startswith("ok (") for v in checks.values())
    return {"ok": ok, "role": role, "database": "ok", "checks": checks, **report}


def _waiting(oldest_seconds: int, backlog: int) -> str:
    if oldest_seconds >= STUCK_AFTER_SECONDS:
        minutes = oldest_seconds // 60
        return f"{backlog} waiting, the oldest for {minutes} min: is a worker running?"
    return "ok"


def _feed_check(feed: FeedConfig, state: dict[str, Any], now: datetime) -> str:
    last = state.get("last_success_at")
    if last is None:
        error = state.get("last_error")
        return f"no successful poll yet (last error: {error})" if error else "ok (not polled yet)"
    stale = max(STALE_INTERVALS * feed.every, STALE_AT_LEAST)
    age = now - datetime.fromisoformat(last)
    if age > stale:
        hours = age.total_seconds() / 3600
        error = state.get("last_error")
        why = f"; last error: {error}" if error else ""
        return f"no successful poll for {hours:.1f} h (expected every {feed.every}){why}"
    skipped = state.get("skipped") or []
    if skipped:  # the feed goes on; what it could not store is named for someone to look at
        latest = skipped[0]
        count = f"{len(skipped)} release{'s' if len(skipped) > 1 else ''} skipped lately"
        return f"ok ({count}; the latest at {latest['at']}: {latest['problem']})"
    return "ok"
