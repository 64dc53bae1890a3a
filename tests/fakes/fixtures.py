"""Pytest fixtures for the fakes. Enable with ``pytest_plugins = ["tests.fakes.fixtures"]``
in ``tests/conftest.py`` (or import the fixture names into a conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A started fake Bot API with Telegram's default flood limits.

    Change them with ``fake_telegram.limits = FloodLimits(...)`` (or ``.scaled(10)``)."""
    async with FakeTelegram() as fake:
        yield fake
