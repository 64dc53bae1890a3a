"""Issue #18.11: a database that is down gives one clear line, never a traceback; a poll that
finds another worker holding the feed's lease is no failure (exit 0, and it says so).

Real ``bestbot`` processes: against a PostgreSQL port nobody listens on and a SQLite path
that can't be created (at start), and — for ``run`` — against PostgreSQL behind a TCP relay
the test cuts and restores while the service runs and people keep writing to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from storage.cursors import acquire_lease
from storage.db import Database
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, free_port, fresh_release, until

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
PASSWORD = "pg-pass-Zq81vX"
CHAT = 8401


def _closed_port() -> int:
    port = free_port()  # bound a moment ago, now free: nobody listens there
    return port


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Traceback" not in text, text[-3000:]
    return lines[-1] if lines else ""


COMMANDS = [("poll",), ("run",), ("db", "upgrade"), ("subscribers", "list")]


@pytest.mark.parametrize("command", COMMANDS)
async def test_an_unreachable_postgresql_is_one_line_at_start(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = f"postgresql://bestbot:{PASSWORD}@127.0.0.1:{_closed_port()}/bestbot"
    procs = Procs(tmp_path, {"database": {"url": url}, "web": {"port": free_port()}})
    proc = await procs.run(*command, within=60)
    stderr = proc.stderr()
    assert proc.process.returncode == 1, stderr[-3000:]
    line = _one_line(stderr)
    assert line.startswith("bestbot: cannot use the database"), stderr[-3000:]
    assert "Connection refused" in line or "connection failed" in line, line
    assert PASSWORD not in stderr + proc.output()


async def test_a_sqlite_file_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database's folder should be")
    url = f"sqlite:///{blocker / 'bestbot.sqlite3'}"
    procs = Procs(tmp_path, {"database": {"url": url}})
    proc = await procs.run("poll")
    assert proc.process.returncode in (1, 2), proc.stderr()[-3000:]
    line = _one_line(proc.stderr())
    assert "database" in line and str(blocker) in line, line


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_poll_exits_0_when_another_worker_holds_the_feed(
    tmp_path: Path, database: Database
) -> None:
    async with FeedServer() as feeds:
        async with database.session() as session:
            assert await acquire_lease(session, "poll:fts", "another-host:4242", _minutes(10))
        procs = Procs(
            tmp_path,
            {
                "database": {"url": database.url},
                "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feeds.fts_url}],
            },
        )
        proc = await procs.run("poll")
        assert feeds.requests == []  # it did not read the feed either
    assert proc.process.returncode == 0, proc.stderr()[-3000:]
    assert "fts: not polled — another worker is polling this feed" in proc.output()
    assert "Traceback" not in proc.stderr()


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)


# --------------------------------------------------------------------------- down mid-run


class Relay:
    """A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones
    refused) and restore, on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def _relayed(url: str, port: int) -> tuple[str, tuple[str, int]]:
    parts = urlsplit(url)
    host, target_port = parts.hostname or "127.0.0.1", parts.port or 5432
    netloc = parts.netloc.rsplit("@", 1)
    auth = f"{netloc[0]}@" if len(netloc) == 2 else ""
    relayed = urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{port}"))
    return relayed, (socket.gethostbyname(host), target_port)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        server.add_user(CHAT, "Dana")
        yield server


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_run_rides_out_a_database_outage_with_one_line_per_failure(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    port = free_port()
    async with FeedServer() as feeds:
        feeds.releases["fts"] = [fresh_release(1)]
        relay = Relay(("127.0.0.1", 5432))
        url, relay.target = _relayed(database.url, relay.port)
        await relay.start()
        procs = Procs(
            tmp_path,
            {
                "database": {"url": url},
                "telegram": {"token": fake.token, "base_url": fake.base_url},
                "web": {"host": "127.0.0.1", "port": port, "secret_key": "outage-secret-key"},
                "alerts": {"quiet_hours": "off"},
                "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feeds.fts_url}],
            },
        )
        run = await procs.start("run", name="run")
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:

                async def healthy() -> bool:
                    with contextlib.suppress(httpx.HTTPError):
                        return (await web.get("/healthz")).status_code == 200
                    return False

                await until("the service to be up", healthy, within=45)
                fake.user_sends(CHAT, "/help")
                await fake.wait_for_messages(CHAT, 1, timeout=20)

                await relay.cut()
                health = await web.get("/healthz")
                assert health.status_code == 503
                assert health.json()["checks"]["database"].startswith("unreachable")
                fake.user_sends(CHAT, "/start")  # needs the database: it is told to try later
                [_, sorry] = await fake.wait_for_messages(CHAT, 2, timeout=30)
                assert sorry.text.startswith("Sorry, something went wrong"), sorry.text
                await asyncio.sleep(6)  # a sending pass or two against the dead database

                await relay.start()
                await until("the service to recover", healthy, within=30)
                fake.user_sends(CHAT, "/start")
                await fake.wait_for_messages(CHAT, 3, timeout=30)
                await fake.wait_for_updates_delivered()
                await asyncio.sleep(0.5)
            texts = [m.text for m in fake.messages(CHAT)]
            assert len(texts) == 3, texts  # one "sorry" for the failed update, not one a handler
            assert "What does your enterprise do?" in texts[2], texts
            assert await run.stop() == 0, run.stderr()[-3000:]
        finally:
            await procs.close()
            await relay.cut()
    stderr = run.stderr()
    assert "Traceback" not in stderr, stderr[-4000:]
    assert "[SQL:" not in stderr, stderr[-4000:]
    assert run.process.returncode == 0
    assert os.environ.get("BESTBOT_TEST_DATABASE_URL", "nothing-to-hide") not in stderr
