"""``bestbot db upgrade``: apply the database migrations."""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import load_config
from bot.errors import UserError
from storage.db import DatabaseUnavailable, DatabaseUrlError, current_revision, upgrade


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = sub.add_parser("upgrade", help="apply migrations (run and poll also do this on start)")
    up.set_defaults(func=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    url = config.database.url
    try:
        before = current_revision(url)
        upgrade(url)
        after = current_revision(url)
    except DatabaseUrlError as exc:
        raise UserError(f"config error: database.url: {exc}") from None
    except DatabaseUnavailable:
        raise
    except Exception as exc:  # connection refused, permissions, ...
        raise UserError(f"database error: cannot migrate: {type(exc).__name__}: {exc}") from None
    if before == after:
        print(f"database is up to date (revision {after})")
    else:
        print(f"database migrated from {before or 'empty'} to {after}")
    return 0
