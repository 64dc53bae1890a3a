"""Hypothesis fuzz of free text and command arguments: one reply, no exception, no 400 from
the (strict) fake Bot API, and the stored subscription intact.

Hypothesis drives a synchronous test, so the application runs on an event loop in a
background thread, started once per test (not per example) to keep the run short.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.account import profile_problem
from storage.db import Database, upgrade_async
from tests.chat.conftest import ANN, Chat, make_config, no_bad_requests
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import register_fake, running_bot
from tests.fakes.telegram_api import FakeTelegram

T = TypeVar("T")

COMMANDS = (
    "",
    "/add",
    "/exclude",
    "/regions",
    "/cpv",
    "/value",
    "/vcse",
    "/sme",
    "/frequency",
    "/quiet",
    "/email",
    "/verify",
    "/start",
    "/keywords",
    "/settings",
    "/help",
    "/cancel",
    "/frobnicate",
)
HOSTILE = (
    "<script>alert('x')</script>",
    "*bold* _it_ [link](http://x) `code`",
    '&amp; &lt; & < > "',
    "\u202eevil\u202c \u200f\u200e",
    "\x00\x01\x07\x1b[31m",
    "🎉🎉🎉",
    "👩‍👩‍👧‍👦 ",
    "مرحبا بالعالم",
    "a" * 4000,
    ", ".join(["x"] * 300),
    "10k ten 500k",
    "mars, venus",
    "999 55524000 catering",
    "hourly",
    "25:99-07:00",
    "@@@",
    "\n\n\n",
)

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


class Background:
    """An event loop in a thread, for running the app while hypothesis drives examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Harness:
    def __init__(self, url: str) -> None:
        self.url = url
        self.stack: list[Any] = []
        self.chat: Chat | None = None
        self.original: list[str] = []

    async def start(self) -> None:
        await upgrade_async(self.url)
        db = Database(self.url)
        fake = await FakeTelegram(limits=FloodLimits.off()).start()
        fake.add_user(ANN, "Ann")
        register_fake(fake)
        config = make_config(fake, self.url, None)
        app_cm = running_bot(config)
        running = await app_cm.__aenter__()
        self.stack = [app_cm, fake, db]
        self.chat = Chat(fake, db, running, config, None)
        self.chat.options.flood_limit = 1_000_000
        await self.chat.onboard(ANN, "catering, laundry")
        self.original = list((await self.chat.profile(ANN)).keywords)

    async def stop(self) -> None:
        app_cm, fake, db = self.stack
        await app_cm.__aexit__(None, None, None)
        await fake.stop()
        await db.dispose()

    async def example(self, text: str) -> None:
        chat = self.chat
        assert chat is not None
        await chat.send(ANN, text)  # asserts exactly one reply
        no_bad_requests(chat.fake)
        found = await chat.subscriber(ANN)
        assert found is not None
        _sub, profile = found
        assert profile_problem(profile) is None
        assert set(self.original) <= set(profile.keywords)
        assert len(profile.keywords) <= 50 and all(len(k) <= 62 for k in profile.keywords)


@pytest.fixture
def harness(database_url: str) -> Iterator[tuple[Background, Harness]]:
    background = Background()
    harness = Harness(database_url)
    background.run(harness.start())
    try:
        yield background, harness
    finally:
        background.run(harness.stop())
        background.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), argument=st.one_of(st.sampled_from(HOSTILE), TEXT))
def test_fuzz_one_reply_no_error_data_intact(
    harness: tuple[Background, Harness],
    command: str,
    argument: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    background, state = harness
    text = f"{command} {argument}" if command else argument
    text = text[:4096]
    if not text.strip():
        text = "hello"
    with caplog.at_level(logging.ERROR):
        background.run(state.example(text))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
