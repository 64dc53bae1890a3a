"""``bestbot demo``: the product as a person meets it — a first conversation, alerts,
digests — offline, on bundled data and one demo clock (see :mod:`bot.demo`)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="a first conversation, alerts and digests on bundled samples, offline "
        "(prints what people see, writes .eml)",
    )
    parser.add_argument(
        "--outbox", default="demo-outbox", help="where to write the emails (default: ./demo-outbox)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import main_demo

    return main_demo(args.outbox)
