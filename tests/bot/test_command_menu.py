"""Every command the bot advertises (setMyCommands) is one it answers."""

from __future__ import annotations

from pathlib import Path

from telegram.ext import CommandHandler

from bot.channels import COMMANDS, build_application
from bot.config import config_from_dict
from bot.handlers import close_handlers, install_handlers


async def test_every_advertised_command_has_a_handler(tmp_path: Path) -> None:
    config = config_from_dict(
        {
            "telegram": {"token": "123:ABC"},
            "database": {"url": f"sqlite:///{tmp_path / 'menu.sqlite3'}"},
        },
        env={},
    )
    app = build_application(config)
    install_handlers(app, config)
    try:
        handled = {
            command
            for group in app.handlers.values()
            for handler in group
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
    finally:
        await close_handlers(app)
    advertised = {name for name, _ in COMMANDS}
    assert advertised <= handled, advertised - handled
    assert all(1 <= len(desc) <= 256 for _, desc in COMMANDS)
