"""``bestbot advisers import FILE``, ``advisers list`` and ``advisers invite ID``.

The roster file is the same JSON list ``bestbot triage`` reads. ``invite`` prints a Telegram
deep link; the adviser opens it and their Telegram account is linked (once: a used link is
refused for anyone else).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.app import App
from bot.commands.triage import load_advisers
from bot.config import load_config
from bot.errors import UserError
from storage.enquiries import (
    AdviserInput,
    adviser_by_code,
    is_away,
    list_advisers,
    open_loads,
    upsert_advisers,
)
from storage.types import utcnow


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("advisers", help="manage the SEEM advisers enquiries go to")
    sub = parser.add_subparsers(dest="advisers_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="add or update advisers from the roster JSON")
    imp.add_argument("file", help='JSON list of {"id", "name", "email", "telegram_id", ...}')
    imp.set_defaults(func=run_import)
    lst = sub.add_parser("list", help="show advisers, their topics, load and availability")
    lst.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    lst.set_defaults(func=run_list)
    inv = sub.add_parser("invite", help="print the Telegram link that links an adviser")
    inv.add_argument("id", help="the adviser's id in the roster")
    inv.set_defaults(func=run_invite)


def run_import(args: argparse.Namespace) -> int:
    roster = load_advisers(args.file)
    config = load_config(args.config)
    items = [
        AdviserInput(
            code=a.id,
            name=a.name,
            topics=a.topics,
            capacity=a.capacity,
            regions=a.regions,
            away=a.away,
            email=a.email,
            telegram_id=a.telegram_id,
        )
        for a in roster
    ]

    async def go() -> tuple[int, int]:
        async with App(config) as app:
            db = app.db
            async with db.session() as session:
                return await upsert_advisers(session, items)

    added, updated = asyncio.run(go())
    print(f"advisers: {added} added, {updated} updated")
    return 0


def run_list(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def go() -> list[dict[str, Any]]:
        async with App(config) as app:
            db = app.db
            async with db.session() as session:
                loads = await open_loads(session)
                now = utcnow()
                return [
                    {
                        "id": a.code,
                        "name": a.name,
                        "topics": list(a.topics),
                        "regions": list(a.regions),
                        "capacity": a.capacity,
                        "open": loads.get(a.id or 0, 0),
                        "away": is_away(a, now),
                        "away_until": a.away_until.isoformat() if a.away_until else None,
                        "email": a.email,
                        "telegram": a.telegram_id is not None,
                    }
                    for a in await list_advisers(session)
                ]

    rows = asyncio.run(go())
    out = sys.stdout
    if args.json:
        for row in rows:
            out.write(json.dumps(row) + "\n")
        return 0
    if not rows:
        print("no advisers yet: bestbot advisers import FILE")
        return 0
    for r in rows:
        status = "away" if r["away"] else "available"
        channel = "telegram" if r["telegram"] else ("email" if r["email"] else "no contact!")
        out.write(
            f"{r['id']:<16} {r['name'][:28]:<28} {','.join(r['topics'])[:40]:<40} "
            f"{r['open']}/{r['capacity']:<3} {status:<9} {channel}\n"
        )
    return 0


def run_invite(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not config.telegram.bot_username:
        raise UserError("advisers invite: set [telegram] bot_username to build the link")

    async def go() -> str:
        async with App(config) as app:
            db = app.db
            async with db.session() as session:
                adviser = await adviser_by_code(session, args.id)
            if adviser is None or not adviser.active:
                raise UserError(f"advisers invite: no adviser with id {args.id!r}")
            return app.services.enquiries.invite_link(adviser)

    print(asyncio.run(go()))
    return 0
