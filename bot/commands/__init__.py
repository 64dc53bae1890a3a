"""CLI sub-commands, one module each.

Each module listed in :data:`COMMAND_MODULES` exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable ``(args) -> int``. Keeping
the list here means the CLI entry point never has to change when a command is
added.
"""

COMMAND_MODULES: tuple[str, ...] = (
    "bot.commands.feed",
    "bot.commands.db",
    "bot.commands.service",
    "bot.commands.subscribers",
    "bot.commands.demo",
    "bot.commands.triage",
    "bot.commands.match",
    "bot.commands.advisers",
    "bot.commands.enquiries",
    "bot.commands.email",
    "bot.commands.report",
)
