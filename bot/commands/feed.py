"""``bestbot feed parse SOURCE``: print normalised notices as JSON Lines.

SOURCE is a local file (release/record package JSON, JSON Lines, Contracts
Finder CSV; the format is detected from the content) or an http(s) URL of an
OCDS package, fetched with the same client, paging and retries as polling.

One line per release, in input order, with exactly the keys of
:meth:`feeds.notice.Notice.to_json_dict`. Releases that cannot be parsed are
reported on stderr (``skipped <ocid>: <reason>``) and do not stop the rest. An
unreadable, empty, binary, truncated or non-OCDS source exits 2 with one line saying
what is wrong and what to do; so does a URL that does not answer with OCDS JSON (after a
short retry budget: a person is waiting, unlike a scheduled poll).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bot.errors import UserError
from feeds.errors import FeedFetchError, FeedFormatError
from feeds.http import FetchLimits, RetryPolicy, make_client
from feeds.local import parse_file
from feeds.notice import Notice
from feeds.ocds import ParseProblem
from feeds.paging import fetch_url


def register(subparsers: Any) -> None:
    """Add ``feed parse`` to the CLI."""
    feed = subparsers.add_parser("feed", help="work with contract feeds")
    feed_sub = feed.add_subparsers(dest="feed_command", metavar="SUBCOMMAND")
    parse = feed_sub.add_parser(
        "parse",
        help="print normalised notices from a file or URL as JSON Lines",
        description="Print one JSON object per release (file path or http(s) URL).",
    )
    parse.add_argument("source", metavar="SOURCE", help="file path or http(s) URL")
    parse.add_argument(
        "--max-pages",
        type=int,
        default=None,
        metavar="N",
        help="for a URL: stop after N pages (default: follow links.next to the end)",
    )
    parse.set_defaults(func=run)
    feed.set_defaults(func=_feed_help(feed))


def _feed_help(parser: argparse.ArgumentParser) -> Any:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show


#: A person is waiting: a few quick retries, short waits, then a clear answer.
CLI_POLICY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=5.0, max_retry_after=60.0)
CLI_LIMITS = FetchLimits(poll_seconds=300.0)


def _utf8(stream: TextIO) -> bool:
    return (getattr(stream, "encoding", None) or "").lower().replace("-", "") == "utf8"


def _emit(items: Iterable[Notice | ParseProblem], out: TextIO, err: TextIO) -> tuple[int, int]:
    notices = problems = 0
    plain = not _utf8(out)  # a non-UTF-8 terminal still gets valid JSON, \u-escaped
    for item in items:
        if isinstance(item, Notice):
            out.write(json.dumps(item.to_json_dict(), ensure_ascii=plain) + "\n")
            notices += 1
        else:
            err.write(f"skipped {item.ocid or '(no ocid)'}: {item.reason}\n")
            problems += 1
    out.flush()
    return notices, problems


async def _run_url(url: str, max_pages: int | None) -> None:
    async with make_client() as client:
        async for page in fetch_url(
            client, url, max_pages=max_pages, policy=CLI_POLICY, limits=CLI_LIMITS
        ):
            ordered: list[Notice | ParseProblem] = [*page.notices, *page.problems]
            _emit(ordered, sys.stdout, sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Parse SOURCE and print it; bad input becomes a :class:`UserError` (exit 2)."""
    source: str = args.source
    if args.max_pages is not None and args.max_pages < 1:
        raise UserError("feed parse: --max-pages must be at least 1")
    try:
        if source.startswith(("http://", "https://")):
            asyncio.run(_run_url(source, args.max_pages))
        else:
            result = parse_file(source)
            _emit(result.items, sys.stdout, sys.stderr)
    except FeedFormatError as exc:
        raise UserError(f"feed parse: {source}: {exc}") from None
    except FeedFetchError as exc:
        raise UserError(f"feed parse: {exc} (check the address is an OCDS API URL)") from None
    except MemoryError:
        raise UserError(f"feed parse: {source}: too large to read into memory; split it") from None
    return 0
