"""``bestbot match --notices FILE --profiles FILE``: which notices fit which profiles, and why.

Notices may be in any format ``feed parse`` reads (OCDS package or release JSON, JSON Lines
of releases, a Contracts Finder CSV export) or the JSON Lines that ``feed parse`` itself
prints. Profiles are a JSON list in the DESIGN.md shape. Output: one JSON object per match,
``{"profile", "notice", "tier", "score", "reasons", "matched_keywords"}``, notices in input
order; ``tier`` is ``"alert"`` (sure: what the bot sends at once) or ``"maybe"`` (worth a look:
digests only). ``--tier alert`` prints only the sure ones.

A bad profiles file exits 2 naming the file, the profile and the field.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bot.errors import UserError
from feeds.errors import FeedFormatError
from feeds.local import parse_file
from feeds.notice import Notice
from matchers.engine import Matcher
from matchers.profile import Profile, ProfileError, parse_profiles

_NOTICE_KEYS = frozenset({"source", "ocid", "release_id", "stage", "title"})


def register(subparsers: Any) -> None:
    """Add ``match`` to the CLI."""
    parser = subparsers.add_parser(
        "match",
        help="match notices against profiles and print JSON Lines",
        description="Print one JSON object per (profile, notice) match, with reasons.",
    )
    parser.add_argument("--notices", required=True, metavar="FILE", help="notices file")
    parser.add_argument("--profiles", required=True, metavar="FILE", help="profiles JSON list")
    parser.add_argument(
        "--tier",
        choices=("all", "alert", "maybe"),
        default="all",
        help="which tier to print (default: both; each line says its tier)",
    )
    parser.set_defaults(func=run)


def load_profiles(path: Path) -> list[Profile]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise UserError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path.name}: not valid JSON: {exc}") from None
    try:
        return parse_profiles(raw)
    except ProfileError as exc:
        raise UserError(f"{path.name}: {exc}") from None


def _notice_lines(text: str) -> list[Notice] | None:
    """``feed parse`` output (JSON Lines of normalised notices), or None if it is not that."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        first = json.loads(lines[0])
    except json.JSONDecodeError:
        return None
    if not isinstance(first, dict) or not first.keys() >= _NOTICE_KEYS or "tender" in first:
        return None
    notices: list[Notice] = []
    for number, line in enumerate(lines, start=1):
        try:
            notices.append(Notice.from_json_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise UserError(f"notices line {number}: not a notice ({exc})") from None
    return notices


def load_notices(path: Path) -> list[Notice]:
    try:
        text = path.read_text("utf-8-sig")
    except OSError as exc:
        raise UserError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        text = ""
    notices = _notice_lines(text) if text else None
    if notices is not None:
        return notices
    try:
        return parse_file(path).notices
    except FeedFormatError as exc:
        raise UserError(f"{path.name}: {exc}") from None


def run(args: Any) -> int:
    profiles = load_profiles(Path(args.profiles))
    notices = load_notices(Path(args.notices))
    out = sys.stdout
    wanted = getattr(args, "tier", "all")
    matcher = Matcher(profiles)
    found = matcher.match(notices) if wanted == "alert" else matcher.match_tiers(notices)
    for m in found:
        if wanted in ("all", m.tier):
            out.write(json.dumps(m.to_json_dict(), ensure_ascii=False) + "\n")
    out.flush()
    return 0
