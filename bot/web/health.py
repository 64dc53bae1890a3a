"""``/healthz``: what a load balancer or systemd can act on.

It reports the database (reachable), each feed (last poll, last error, and what its fetch
is doing — waiting on a Retry-After, failed), the outboxes (backlog and the oldest due row)
and the webhook inbox (updates waiting and the oldest); an unreachable database or anything
stuck for 15 minutes makes the answer 503, so a load balancer or systemd can act on it.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.services import Services
from storage.health import health_report

log = logging.getLogger(__name__)

#: An outbox whose oldest due row waits longer than this is unhealthy.
STUCK_AFTER_SECONDS = 15 * 60


async def health(services: Services) -> dict[str, Any]:
    try:
        async with services.db.session() as session:
            report = await health_report(session, services.clock())
    except Exception as exc:
        return {"ok": False, "database": f"unreachable ({type(exc).__name__})"}
    oldest = [v.get("oldest_due_seconds") or 0 for v in report["outboxes"].values()]
    oldest.append(report["inbox"]["oldest_seconds"])
    ok = all(age < STUCK_AFTER_SECONDS for age in oldest)
    for name, activity in services.feed_activity.items():
        report["feeds"].setdefault(name, {})["fetch"] = activity.snapshot()
    return {"ok": ok, "database": "ok", **report}
