"""Issue #17.2: a slow mail server and two workers on PostgreSQL never send an email twice.

Two real ``bestbot run --role worker`` processes share one PostgreSQL; 36 email subscribers
match one new notice; the SMTP sink takes 0.3 s to answer each message, so the worker that
claimed the batch needs 11 s to send it — almost three times its 4 s lease. Its unsent rows expire
and the other worker takes them over. Each claim is renewed right before its send and a row
taken over is dropped by the first worker, so every address gets its alert exactly once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import DeliveryRow
from tests.fakes.feed_server import FeedServer
from tests.fakes.smtp import SmtpSink
from tests.security.kit import Procs, fresh_release

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]
PEOPLE = [f"e{n:02d}@enterprise.example.org" for n in range(36)]


async def test_two_workers_and_a_slow_mail_server_send_each_email_once(
    tmp_path: Path, database: Database
) -> None:
    async with FeedServer() as feeds, SmtpSink(delay=0.3) as smtp:
        feeds.releases["fts"] = [fresh_release(1)]
        procs = Procs(
            tmp_path,
            {
                "database": {"url": database.url, "claim_lease": "10s"},
                "web": {"secret_key": "slow-smtp-secret-key"},
                "alerts": {"quiet_hours": "off", "group_within": "0s"},
                "email": {
                    "from_address": "SEEM alerts <alerts@seem.example.org>",
                    "smtp_host": smtp.hostname,
                    "smtp_port": smtp.port,
                    "starttls": False,
                    "timeout": "1s",
                },
                "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feeds.fts_url}],
            },
        )
        try:
            await procs.import_subscribers(
                {"email": a, "name": a, "keywords": ["district heating"]} for a in PEOPLE
            )
            workers = [await procs.start("run", "--role", "worker", name=f"w{n}") for n in (1, 2)]
            await smtp.wait_for_messages(len(PEOPLE), timeout=60)
            await asyncio.sleep(11)  # a second copy would come after a lease (10 s) ran out
            codes = [await w.stop() for w in workers]
        finally:
            await procs.close()
    assert codes == [0, 0], [w.stderr()[-2000:] for w in workers]
    copies = Counter(r for m in smtp.messages for r in m.rcpt_tos)
    assert set(copies) == set(PEOPLE)
    assert [a for a, n in copies.items() if n > 1] == []
    # the race really happened: one worker's lease ran out mid-batch and the other took over
    logs = "".join(w.stderr() for w in workers)
    assert "were taken over by another worker" in logs, logs[-3000:]
    async with database.session() as session:
        rows = (await session.exec(select(DeliveryRow))).all()
    assert len(rows) == len(PEOPLE) and {r.status for r in rows} == {"sent"}
    assert len({r.claimed_by for r in rows}) == 2  # both workers sent some
    for worker in workers:
        assert "Traceback" not in worker.stderr()
