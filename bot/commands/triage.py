"""``bestbot triage --advisers FILE --enquiries FILE``: route enquiries, print JSON Lines.

Each enquiry is routed on its own against the roster as given (loads do not accumulate between
lines), so the output is a pure function of the two files: handy for checking the lexicon or a
roster change before it goes live. Each enquiry line may also carry ``notice_text`` (or
``notice``: text or a notice object) for a question about a notice, and ``profile_regions`` (the
enterprise's profile regions, used when the text names no place). Bad files end with exit 2 and
one line naming the item and field.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.errors import UserError
from matchers.triage import (
    Adviser,
    Enquiry,
    TriageInputError,
    advisers_from_json,
    enquiry_from_json,
    route,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "triage",
        help="route enquiries to advisers (JSON Lines out)",
        description="Classify each enquiry and pick its adviser. Prints one JSON line per "
        'enquiry: {"enquiry", "topic", "adviser", "confidence", "reasons"}.',
    )
    parser.add_argument("--advisers", required=True, metavar="FILE", help="advisers JSON list")
    parser.add_argument("--enquiries", required=True, metavar="FILE", help="enquiries JSON Lines")
    parser.add_argument(
        "--method",
        choices=("auto", "model", "lexicon"),
        default="auto",
        help="topic model (default, when its data file loads) or the lexicon alone",
    )
    parser.set_defaults(func=run)


def _read_text(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    if "\x00" in text:
        raise UserError(f"{path}: contains NUL bytes: not a text file")
    return text


def load_advisers(path: str) -> list[Adviser]:
    """The roster from a JSON file, or a UserError naming the adviser and field."""
    text = _read_text(path)
    if not text.strip():
        raise UserError(f"{path}: empty file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    try:
        return advisers_from_json(data)
    except TriageInputError as exc:
        raise UserError(f"{path}: {exc}") from None


def load_enquiries(path: str) -> list[Enquiry]:
    """Enquiries from a JSON Lines file (blank lines skipped), or a UserError naming the line."""
    text = _read_text(path)
    out: list[Enquiry] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: {where}: not valid JSON ({exc.msg})") from None
        try:
            enquiry = enquiry_from_json(obj, where)
        except TriageInputError as exc:
            raise UserError(f"{path}: {exc}") from None
        if enquiry.id in seen:
            raise UserError(f"{path}: {where}: field 'id': same id as line {seen[enquiry.id]}")
        seen[enquiry.id] = n
        out.append(enquiry)
    if not out:
        raise UserError(f"{path}: no enquiries in the file")
    return out


def run(args: argparse.Namespace) -> int:
    advisers = load_advisers(args.advisers)
    enquiries = load_enquiries(args.enquiries)
    out = sys.stdout
    for enquiry in enquiries:
        result = route(enquiry, advisers, method=getattr(args, "method", "auto"))
        record = {
            "enquiry": result.enquiry_id,
            "topic": result.topic,
            "adviser": result.adviser_id,
            "confidence": result.confidence,
            "reasons": list(result.reasons),
        }
        out.write(json.dumps(record) + "\n")
    out.flush()
    return 0
