"""``bestbot enquiries export [--output FILE]``: one CSV row per enquiry (no message text)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import load_config
from bot.errors import UserError
from storage.enquiries import export_rows

COLUMNS = (
    "reference",
    "channel",
    "topic",
    "region",
    "confidence",
    "status",
    "adviser",
    "created_at",
    "accepted_at",
    "first_response_at",
    "resolved_at",
    "rating",
    "passed_on",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("enquiries", help="enquiry records")
    sub = parser.add_subparsers(dest="enquiries_command", metavar="ACTION", required=True)
    exp = sub.add_parser("export", help="write every enquiry as CSV (stdout by default)")
    exp.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    exp.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def go() -> list[dict[str, Any]]:
        async with App(config) as app:
            db = app.db
            async with db.session() as session:
                return await export_rows(session)

    rows = asyncio.run(go())
    if args.output:
        try:
            with Path(args.output).open("w", newline="", encoding="utf-8") as handle:
                _write(handle, rows)
        except OSError as exc:
            raise UserError(
                f"enquiries export: cannot write {args.output} ({exc.strerror})"
            ) from None
        print(f"{len(rows)} enquiries written to {args.output}", file=sys.stderr)
    else:
        _write(sys.stdout, rows)
    return 0


def _write(handle: Any, rows: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
