"""Pytest fixtures for the fakes. Enable with ``pytest_plugins = ["tests.fakes.fixtures"]``
in ``tests/conftest.py`` (or import the fixture names into a conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.fakes.feed_server import FeedServer
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A started fake Bot API with Telegram's default flood limits.

    Change them with ``fake_telegram.limits = FloodLimits(...)`` (or ``.scaled(10)``)."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A plain SMTP sink (no AUTH, no TLS) on 127.0.0.1:``smtp_server.port``."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def make_smtp_server() -> Iterator[Callable[..., SmtpSink]]:
    """Factory for sinks with options: ``make_smtp_server(auth=("u", "p"), starttls=True)``."""
    started: list[SmtpSink] = []

    def make(**options: Any) -> SmtpSink:
        sink = SmtpSink(**options).start()
        started.append(sink)
        return sink

    yield make
    for sink in started:
        sink.stop()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """Replays the bundled FTS (6 releases, pages of 2) and CF (100 releases, pages of 25)
    samples; script faults with ``feed_server.script(Fault.http(429, retry_after=1), ...)``."""
    async with FeedServer() as server:
        yield server
