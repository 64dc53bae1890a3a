"""Issues #18.5 and #18.6 as the service meets them: a feed that says "come back in 28
hours" and one that answers with a gzip bomb.

A real ``bestbot run`` polls Find a Tender, which answers 429 with ``Retry-After: 99999``,
and Contracts Finder, which answers with 300 MB of JSON in a few hundred KB of gzip. The
wait is capped (15 minutes, with one warning saying so) and /healthz shows the feed waiting
and until when; the bomb is refused past the page cap, with one line, and the process stays
small (the body is never inflated in memory).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest

from tests.fakes.feed_server import Fault, FeedServer
from tests.security.kit import Procs, free_port, until

pytestmark = pytest.mark.timeout(90)


async def test_a_long_retry_after_is_capped_and_shown_and_a_gzip_bomb_refused(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with FeedServer() as feeds:
        feeds.script(
            Fault.http(429, retry_after=99999, source="fts"),
            Fault.huge(300 * 1024 * 1024, source="cf"),
        )
        procs = Procs(
            tmp_path,
            {
                "database": {"url": f"sqlite:///{tmp_path / 'feeds.sqlite3'}"},
                "web": {"host": "127.0.0.1", "port": port, "secret_key": "feeds-secret-key"},
                "feeds": [
                    # a poll may last 30 min, so it waits the capped 15 (else it stops at once)
                    {
                        "name": "fts",
                        "kind": "find_a_tender",
                        "url": feeds.fts_url,
                        "deadline": "30m",
                    },
                    {
                        "name": "cf",
                        "kind": "contracts_finder",
                        "url": feeds.cf_url,
                        "max_page_bytes": "8MB",
                    },
                ],
            },
        )
        run = await procs.start("run", name="run")
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:

                async def settled() -> bool:
                    with contextlib.suppress(httpx.HTTPError, KeyError):
                        feeds_now = (await web.get("/healthz")).json()["feeds"]
                        waiting = feeds_now["fts"]["fetch"]["state"] == "waiting"
                        return waiting and bool(feeds_now["cf"]["last_error"])
                    return False

                await until("fts waiting and cf refused", settled, within=45)
                health = (await web.get("/healthz")).json()
            rss = psutil.Process(run.pid).memory_info().rss
            assert await run.stop() == 0, run.stderr()[-3000:]
        finally:
            await procs.close()
    fetch = health["feeds"]["fts"]["fetch"]
    wait = datetime.fromisoformat(fetch["until"]) - datetime.fromisoformat(fetch["since"])
    assert 890 <= wait.total_seconds() <= 910, fetch  # 15 minutes, not 28 hours
    assert "429" in str(fetch["because"])
    assert "larger than 8 MB once decoded" in health["feeds"]["cf"]["last_error"]
    assert rss < 400 * 1024 * 1024, rss  # 300 MB of JSON never sat in memory
    log = run.stderr()
    assert "99999 s" in log and "900 s cap" in log
    assert "Traceback" not in log
