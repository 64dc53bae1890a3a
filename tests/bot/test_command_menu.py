"""Every command the bot advertises (setMyCommands) is one it answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot import routes
from bot.app import App
from bot.config import Config, config_from_dict
from bot.telegram.application import COMMANDS, build_application


@asynccontextmanager
async def installed(config: Config) -> AsyncIterator[Any]:
    """The application with every handler installed, as ``bestbot run`` does."""
    app = build_application(config)
    async with App(config) as service:
        routes.install(app, service.services)
        yield app


async def test_every_advertised_command_has_a_handler(tmp_path: Path) -> None:
    config = config_from_dict(
        {
            "telegram": {"token": "123:ABC"},
            "database": {"url": f"sqlite:///{tmp_path / 'menu.sqlite3'}"},
        },
        env={},
    )
    async with installed(config) as app:
        handled = {
            command
            for group in app.handlers.values()
            for handler in group
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
    advertised = {name for name, _ in COMMANDS}
    assert advertised <= handled, advertised - handled
    assert all(1 <= len(desc) <= 256 for _, desc in COMMANDS)


async def test_editing_an_old_command_does_not_run_it_again(tmp_path: Path) -> None:
    config = config_from_dict(
        {
            "telegram": {"token": "123:ABC"},
            "database": {"url": f"sqlite:///{tmp_path / 'menu.sqlite3'}"},
        },
        env={},
    )
    async with installed(config) as app:
        _check_edits(app)


def _check_edits(app: Any) -> None:
    def update(kind: str) -> Update:
        message = {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ann"},
            "text": "/forget",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        }
        return Update.de_json({"update_id": 1, kind: message}, app.bot)

    handlers = [
        h
        for group in app.handlers.values()
        for h in group
        if isinstance(h, CommandHandler) and "forget" in h.commands
    ]
    assert handlers
    # The handler's own filters decide before the command name is even looked at.
    assert all(h.filters.check_update(update("message")) for h in handlers)
    assert not any(h.filters.check_update(update("edited_message")) for h in handlers)
