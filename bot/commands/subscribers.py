"""``bestbot subscribers import FILE`` and ``subscribers list``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.app import App
from bot.config import load_config
from bot.errors import UserError
from bot.subscriber_files import SubscriberFileError, read_subscriber_file
from storage.subscribers import list_subscribers, upsert_subscribers
from storage.suppression import REASONS, suppression_of


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("subscribers", help="manage alert subscribers")
    sub = parser.add_subparsers(dest="subscribers_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="add or update subscribers from profile JSON or CSV")
    imp.add_argument("file", help="JSON list of profiles with name/email/frequency, or a CSV")
    imp.set_defaults(func=run_import)
    lst = sub.add_parser("list", help="show subscribers and their keywords")
    lst.set_defaults(func=run_list)


def run_import(args: argparse.Namespace) -> int:
    try:
        items = read_subscriber_file(args.file)
    except SubscriberFileError as exc:
        raise UserError(f"subscribers import: {exc}") from None
    config = load_config(args.config)

    async def go() -> tuple[int, int]:
        async with App(config) as app:
            async with app.db.session() as session:  # all or nothing
                return await upsert_subscribers(session, items)

    created, updated = asyncio.run(go())
    print(f"imported {len(items)} subscribers: {created} new, {updated} updated")
    return 0


def run_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def go() -> list[str]:
        async with App(config) as app:
            db = app.db
            async with db.session() as session:
                rows = await list_subscribers(session)
                blocked = await suppression_of(session, [s.email or "" for s, _ in rows])
        lines = []
        for sub, profile in rows:
            channels = [
                c
                for c, on in (("telegram", sub.telegram_active), ("email", sub.email_active))
                if on
            ]
            keywords = ", ".join(profile.keywords) if profile else ""
            state = "paused" if sub.paused else sub.frequency
            reason = blocked.get((sub.email or "").lower())
            email_state = f"suppressed: {REASONS.get(reason, reason)}" if reason else "-"
            lines.append(
                f"{sub.id}\t{sub.name or '-'}\t{sub.email or '-'}\t"
                f"{'+'.join(channels) or 'no channel'}\t{state}\t{email_state}\t{keywords}"
            )
        return lines

    lines = asyncio.run(go())
    print("id\tname\temail\tchannels\tfrequency\tsuppressed\tkeywords")
    for line in lines:
        print(line)
    if not lines:
        print("(no subscribers yet: add some with 'bestbot subscribers import FILE')")
    return 0
