"""``bestbot demo``: run the main job on bundled real data, no credentials needed."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole main job on bundled real samples (prints messages, writes .eml)"
    )
    parser.add_argument(
        "--outbox", default="demo-outbox", help="where to write the emails (default: ./demo-outbox)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import main_demo

    return main_demo(args.outbox)
