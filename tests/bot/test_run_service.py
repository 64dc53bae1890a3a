"""``bestbot run`` as a real process: polls a feed, alerts, serves /healthz, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLES
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.timeout(180)  # generous: CI machines are shared and slow under load
CHAT = 4242


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_release() -> dict[str, object]:
    """A real Find a Tender release, re-dated so that it is open today."""
    package = json.loads((SAMPLES / "fts_032703-2026_UK4_tender.json").read_text())
    release = copy.deepcopy(package["releases"][0])
    now = datetime.now(UTC)
    release["ocid"] = "ocds-h6vhtk-0run01"
    release["id"] = "ocds-h6vhtk-0run01-1"
    release["date"] = now.isoformat(timespec="seconds")
    release["tender"]["tenderPeriod"]["endDate"] = (now + timedelta(days=30)).isoformat(
        timespec="seconds"
    )
    return release


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        server.add_user(CHAT)
        yield server


async def test_run_alerts_serves_health_and_stops_on_sigterm(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    release = _fresh_release()
    title = str(release["tender"]["title"])  # type: ignore[index]
    async with FeedServer() as feeds:
        feeds.releases["fts"] = [release]
        port = _free_port()
        config = tmp_path / "bestbot.toml"
        config.write_text(
            f"""
[database]
url = "sqlite:///{tmp_path / "run.sqlite3"}"
[telegram]
token = "{fake.token}"
base_url = "{fake.base_url}"
[web]
host = "127.0.0.1"
port = {port}
secret_key = "run-test-secret-key"
[alerts]
quiet_hours = "off"
group_within = "1s"
[[feeds]]
name = "fts"
kind = "find_a_tender"
url = "{feeds.fts_url}"
every = "1m"
"""
        )
        people = tmp_path / "people.json"
        assert "DISTRICT HEATING" in title
        people.write_text(
            json.dumps([{"telegram_id": CHAT, "keywords": ["district heating"], "name": "T"}])
        )
        env = {**os.environ, "BESTBOT_CONFIG": str(config)}
        imported = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "subscribers", "import", str(people), env=env
        )
        assert await imported.wait() == 0

        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        failure: AssertionError | None = None
        try:
            [message] = await fake.wait_for_messages(CHAT, 1, timeout=120)
            assert title[:40] in message.text
            assert fake.commands, "setMyCommands was called on start"
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200 and health.json()["ok"] is True, health.text
        except AssertionError as exc:
            failure = exc
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), timeout=30)
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
        if failure is not None:  # show what the process said: the failure is the process's
            raise AssertionError(f"{failure}\n--- bestbot run said:\n{stderr[-3000:]}")
        assert code == 0, stderr[-2000:]
        assert "Traceback" not in stderr
        assert fake.token not in stderr  # secrets never reach the logs
