"""Local feed files: detect the format from the content and parse it.

``feed parse`` and the demo accept whatever a user has: a release or record
package (as the APIs return), a single release, JSON Lines of releases or of
packages, or a Contracts Finder CSV export. The extension is not trusted; the
first bytes decide. Anything that is none of these — empty, binary, truncated
JSON, JSON without OCDS releases — raises :class:`FeedFormatError` with a short
message *before* any notice is produced, so the CLI can exit 2 cleanly.

Public API::

    parse_bytes(data: bytes) -> ParseResult
    parse_file(path) -> ParseResult
    parse_json_document(obj) -> ParseResult     # an already-decoded JSON value
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feeds.cf_csv import iter_csv_packages
from feeds.errors import FeedFormatError
from feeds.notice import Notice
from feeds.ocds import (
    ParseProblem,
    ParseResult,
    is_package,
    is_release,
    iter_package,
    iter_releases,
)

_SNIFF_BYTES = 8192


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); binary data is refused, not guessed at."""
    if not data.strip():
        raise FeedFormatError("the file is empty")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FeedFormatError("the file is binary, not OCDS JSON, JSON Lines or CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < _SNIFF_BYTES:
            raise FeedFormatError(
                "the file is binary or not UTF-8 text, not OCDS JSON, JSON Lines or CSV"
            ) from None
        return data.decode("utf-8-sig", errors="replace")


def _not_ocds(what: str) -> FeedFormatError:
    return FeedFormatError(
        f"{what} is not OCDS: expected a release package ('releases'), "
        "a record package ('records') or releases with an 'ocid'"
    )


def _iter_value(obj: Any, start: int = 0) -> Iterator[Notice | ParseProblem]:
    if is_package(obj):
        yield from iter_package(obj, start=start)
    elif is_release(obj):
        yield from iter_releases([obj], start=start)
    elif isinstance(obj, list) and obj and all(is_package(x) for x in obj):
        for package in obj:
            yield from iter_package(package, start=start)
    elif isinstance(obj, list) and any(is_release(x) for x in obj):
        yield from iter_releases(obj, start=start)
    else:
        raise _not_ocds("the JSON")


def parse_json_document(obj: Any) -> ParseResult:
    """Parse one decoded JSON value (package, release, or list of either)."""
    result = ParseResult()
    for item in _iter_value(obj):
        result.add(item)
    return result


def _parse_json_lines(text: str) -> ParseResult:
    """One release or package per line; a bad line is a problem, a cut-off last line an error."""
    result = ParseResult()
    lines = text.splitlines()
    last_content = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    seen_ocds = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if number - 1 == last_content and not text.endswith("\n"):
                raise FeedFormatError(f"the file is truncated: line {number} is cut off") from None
            if not seen_ocds:
                raise FeedFormatError(f"invalid JSON at line {number}: {exc.msg}") from None
            result.add(
                ParseProblem(index=number - 1, ocid=None, reason=f"line {number}: invalid JSON")
            )
            continue
        if not (is_package(obj) or is_release(obj)):
            if not seen_ocds:
                raise _not_ocds(f"line {number}")
            result.add(ParseProblem(index=number - 1, ocid=None, reason=f"line {number}: not OCDS"))
            continue
        seen_ocds = True
        for item in _iter_value(obj, start=number - 1):
            result.add(item)
    return result


def _ends_inside_value(text: str) -> bool:
    """True when the text stops inside a string or with brackets still open: a cut-off file."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return in_string or depth > 0


def _parse_json_text(text: str) -> ParseResult:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        first_line = text.lstrip().split("\n", 1)[0]
        try:
            json.loads(first_line)
        except json.JSONDecodeError:
            if exc.pos >= len(text.rstrip()) or _ends_inside_value(text):
                raise FeedFormatError(
                    "the file is truncated: the JSON ends before it is complete"
                ) from None
            raise FeedFormatError(
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        return _parse_json_lines(text)
    return parse_json_document(obj)


def _parse_csv_text(text: str) -> ParseResult:
    result = ParseResult()
    for row_index, package in enumerate(iter_csv_packages(text)):
        for item in iter_package(package, start=row_index):
            result.add(item)
    return result


def parse_bytes(data: bytes) -> ParseResult:
    """Detect the format of ``data`` and parse it (see the module docstring)."""
    text = _decode(data)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        return _parse_json_text(text)
    first_line = stripped.split("\n", 1)[0]
    if "," in first_line and "ocid" in first_line:
        return _parse_csv_text(stripped)
    raise FeedFormatError(
        "not an OCDS file: expected JSON (a package or releases), JSON Lines, "
        "or a Contracts Finder CSV export"
    )


def parse_file(path: str | Path) -> ParseResult:
    """Read and parse a local file; unreadable paths raise :class:`FeedFormatError`."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise FeedFormatError(f"{path} is a directory, not a feed file") from None
    except OSError as exc:
        raise FeedFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_bytes(data)
