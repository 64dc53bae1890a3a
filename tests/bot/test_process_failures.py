"""Failures that belong to the process, through real ``bestbot`` processes (issue #10):

* SMTP down during ``bestbot poll``: no traceback, exit 0, the email alert kept with its
  reason and retried later with back-off; once the server is back it is sent, once.
* a busy web port: one line naming host, port and the key to change, exit 2.
* SIGTERM while a feed is being retried: a clean stop, nothing alarming in the log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import DeliveryRow
from tests.bot.test_run_service import _fresh_release
from tests.fakes.feed_server import Fault, FeedServer
from tests.fakes.smtp import SmtpSink

pytestmark = pytest.mark.timeout(240)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _bestbot(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


def _write_config(tmp: Path, db_url: str, feed_url: str, smtp_port: int, web_port: int) -> Path:
    path = tmp / "bestbot.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
starttls = false
from_address = "SEEM alerts <alerts@seem.example>"
timeout = "5s"
[web]
host = "127.0.0.1"
port = {web_port}
secret_key = "process-failures-secret"
[alerts]
quiet_hours = "off"
[[feeds]]
name = "fts"
kind = "find_a_tender"
url = "{feed_url}"
every = "1m"
"""
    )
    return path


async def test_smtp_down_during_poll_keeps_the_alert_and_sends_it_when_back(
    tmp_path: Path, feeds: FeedServer
) -> None:
    release = _fresh_release()
    feeds.releases["fts"] = [release]
    smtp_port = _free_port()  # nothing listens here yet: the mail server is down
    db_url = f"sqlite:///{tmp_path / 'poll.sqlite3'}"
    config = _write_config(tmp_path, db_url, feeds.fts_url, smtp_port, _free_port())
    env = {**os.environ, "BESTBOT_CONFIG": str(config)}
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps([{"email": "coop@example.org", "keywords": ["district heating"], "name": "C"}])
    )
    assert (await _bestbot(env, "subscribers", "import", str(people)))[0] == 0

    code, out = await _bestbot(env, "poll")
    assert code == 0, out
    assert "Traceback" not in out
    db = Database(db_url)
    try:
        async with db.session() as session:
            [row] = (await session.exec(select(DeliveryRow))).all()
        assert row.status == "pending" and row.attempts == 1  # kept, counted
        assert row.last_error and "connect" in row.last_error.lower()  # with its reason
        assert row.due_at > row.created_at  # retried later, not in a hot loop

        with SmtpSink() as sink:  # a mail server is back (the config now points at it)
            _write_config(tmp_path, db_url, feeds.fts_url, sink.port, _free_port())
            async with db.session() as session:  # time passes: the retry is due
                row.due_at = row.created_at
                session.add(row)
            code, out = await _bestbot(env, "poll")
            assert code == 0 and "Traceback" not in out, out
            assert [m.header("To") for m in sink.messages] == ["coop@example.org"]
        async with db.session() as session:
            [row] = (await session.exec(select(DeliveryRow))).all()
        assert row.status == "sent"
    finally:
        await db.dispose()


async def test_a_busy_web_port_is_one_line_and_exit_2(tmp_path: Path, feeds: FeedServer) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        db_url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
        config = _write_config(tmp_path, db_url, feeds.fts_url, _free_port(), port)
        env = {**os.environ, "BESTBOT_CONFIG": str(config)}
        code, out = await _bestbot(env, "run", "--role", "web")
    assert code == 2, out
    assert "Traceback" not in out and "Errno" not in out
    problem = [line for line in out.splitlines() if "already in use" in line]
    assert len(problem) == 1, out
    assert f"127.0.0.1:{port}" in problem[0] and "[web]" in problem[0]


async def test_sigterm_while_a_feed_is_retried_stops_cleanly(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.script(*[Fault.http(503) for _ in range(50)])  # the feed keeps failing: retries
    db_url = f"sqlite:///{tmp_path / 'term.sqlite3'}"
    config = _write_config(tmp_path, db_url, feeds.fts_url, _free_port(), _free_port())
    env = {**os.environ, "BESTBOT_CONFIG": str(config)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while len(feeds.requests_to("fts")) < 2:  # at least one retry under way
            assert loop.time() < deadline, "the feed was never retried"
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out_bytes, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    out = out_bytes.decode()
    assert proc.returncode == 0, out
    for alarming in ("Traceback", "CancelledError", "ERROR"):
        assert alarming not in out, out
    assert "bestbot stopped" in out
