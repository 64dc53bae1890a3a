"""Job leases that a ``kill -9`` does not hold for their whole time to live.

A poll's lease outlasts the longest poll (minutes), so that two workers never read one
feed at once. A worker killed mid-poll never releases it; left alone, a restarted service
(or the next cron ``poll``) would skip the feed until the lease ran out. Worker ids are
``host:pid`` (:func:`bot.app.default_worker_id`), so a holder on this host whose process no
longer exists is known to be dead, and its lease is taken over at once. A holder on another
host is trusted until its lease runs out: only that host can tell whether it still runs.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from storage.cursors import acquire_lease, lease_holder, take_over_lease
from storage.db import Database

log = logging.getLogger(__name__)

__all__ = ["dead_here", "take_lease"]


def dead_here(owner: str) -> bool:
    """True when ``owner`` names a process on this host that is no longer running."""
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid() or pid <= 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, run by someone else
        return False
    return False


async def take_lease(db: Database, name: str, worker: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name``; also take it from a holder that died on this host."""
    async with db.session() as session:
        if await acquire_lease(session, name, worker, ttl):
            return True
        holder = await lease_holder(session, name)
        if holder is None or not dead_here(holder):
            return False
        taken = await take_over_lease(session, name, holder, worker, ttl)
    if taken:
        log.info("lease %s: its holder %s is no longer running; taken over", name, holder)
    return taken
