"""Local feed files: detect the format from the content and parse it.

``feed parse`` and the demo accept whatever a user has: a release or record
package (as the APIs return), a single release, JSON Lines of releases or of
packages, or a Contracts Finder CSV export. The extension is not trusted; the
first bytes decide. Anything that is none of these — empty, binary, compressed,
UTF-16, truncated or too deeply nested JSON, JSON without OCDS releases, a CSV whose
rows all disagree with its header, a file too big to read at once — raises
:class:`FeedFormatError` with one sentence saying what is wrong and what to do,
*before* any notice is produced, so the CLI can exit 2 cleanly. A single bad
release (or damaged CSV row) is a :class:`ParseProblem` and the rest is read.

Every notice passes :func:`feeds.limits.check`, as API pages do, so what a file
yields is always safe to store and print.

Public API::

    parse_bytes(data: bytes) -> ParseResult
    parse_file(path) -> ParseResult
    parse_json_document(obj) -> ParseResult     # an already-decoded JSON value
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from feeds.cf_csv import iter_csv_packages
from feeds.errors import FeedFormatError
from feeds.limits import checked, shown
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
#: Larger files are refused before reading: the whole file is parsed in memory.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: A CF CSV column like ``releases/0/awards/3/id`` with a larger index is not an export.
MAX_CSV_INDEX = 1000
_WANTED = (
    "give OCDS JSON (a release or record package, or releases), JSON Lines, or a CF CSV export"
)
_MAGIC = (
    (b"\x1f\x8b", "the file is gzip-compressed: decompress it first (gunzip FILE)"),
    (b"PK\x03\x04", "the file is a ZIP archive: unzip it and give one of the files inside"),
    (b"%PDF", "the file is a PDF document, not feed data"),
)


def _utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark followed by readable text (Windows "Unicode" exports)."""
    if data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return False
    codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
    sample = data[2:202]
    sample = sample[: len(sample) // 2 * 2]
    try:
        text = sample.decode(codec)
    except UnicodeDecodeError:
        return False
    return bool(text) and sum(c.isprintable() or c.isspace() for c in text) >= 0.9 * len(text)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); binary data is refused, not guessed at."""
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise FeedFormatError(f"the file is empty: {_WANTED}")
    for magic, message in _MAGIC:
        if data.startswith(magic):
            raise FeedFormatError(message)
    if _utf16(data):
        raise FeedFormatError("the file is UTF-16 text: save it as UTF-8 and try again")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FeedFormatError(f"the file is binary, not OCDS JSON, JSON Lines or CSV: {_WANTED}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < _SNIFF_BYTES:
            raise FeedFormatError(
                "the file is binary or not UTF-8 text, not OCDS JSON, JSON Lines or CSV: "
                "save it as UTF-8"
            ) from None
        return data.decode("utf-8-sig", errors="replace")


def _kind(obj: Any) -> str:
    if isinstance(obj, dict):
        return "an object without 'releases', 'records' or 'ocid'"
    if isinstance(obj, list):
        return "a list without OCDS releases" if obj else "an empty list"
    if isinstance(obj, bool) or obj is None:
        return f"the value {json.dumps(obj)}"
    if isinstance(obj, int | float):
        return "a number"
    return "a string"


def _not_ocds(what: str, obj: Any = None) -> FeedFormatError:
    detail = f" ({_kind(obj)})" if obj is not None or what == "the JSON" else ""
    return FeedFormatError(
        f"{what} is not OCDS{detail}: expected a release package ('releases'), "
        "a record package ('records') or releases with an 'ocid'"
    )


def _too_deep() -> FeedFormatError:
    return FeedFormatError(
        "the JSON is nested too deeply to read (thousands of levels): it is not OCDS data"
    )


def _loads(text: str) -> Any:
    """``json.loads`` with the one error it raises that is not a ValueError made one."""
    try:
        return json.loads(text)
    except RecursionError:
        raise _too_deep() from None


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
        raise _not_ocds("the JSON", obj)


def parse_json_document(obj: Any) -> ParseResult:
    """Parse one decoded JSON value (package, release, or list of either)."""
    result = ParseResult()
    for item in checked(_iter_value(obj)):
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
            obj = _loads(line)
        except FeedFormatError:  # nested too deeply
            if not seen_ocds:
                raise
            result.add(ParseProblem(index=number - 1, ocid=None, reason=f"line {number}: too deep"))
            continue
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
        for item in checked(_iter_value(obj, start=number - 1), start=number - 1):
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
        obj = _loads(text)
    except json.JSONDecodeError as exc:
        first_line = text.lstrip().split("\n", 1)[0]
        try:
            _loads(first_line)
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


def _csv_rows(text: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FeedFormatError(f"unreadable CSV: {exc}; re-export the file") from None


def _check_csv_header(header: list[str]) -> None:
    """Refuse a header whose list indexes would build huge lists (``releases/99999999/id``)."""
    for name in header:
        for segment in name.split("/"):
            if segment.isdigit() and int(segment) > MAX_CSV_INDEX:
                raise FeedFormatError(
                    f"CSV column {shown(name, 60)!r} has a list index above {MAX_CSV_INDEX}: "
                    "not a Contracts Finder export"
                )


def _ragged(row_index: int, line: int, row: list[str], header: list[str]) -> ParseProblem:
    ocid = None
    for name, cell in zip(header, row, strict=False):
        if name.strip().endswith("/ocid") and cell.strip():
            ocid = shown(cell.strip())
            break
    return ParseProblem(
        index=row_index,
        ocid=ocid,
        reason=(
            f"CSV line {line} has {len(row)} cells but the header has {len(header)}: "
            "a damaged row (re-export the file)"
        ),
    )


def _parse_csv_text(text: str) -> ParseResult:
    """Rows with as many cells as the header go to :mod:`feeds.cf_csv`; the others are
    problems (a cell lost or added shifts every value after it into the wrong field)."""
    rows = _csv_rows(text)
    header, data = rows[0], rows[1:]
    _check_csv_header(header)
    good: list[list[str]] = []
    places: list[int] = []
    problems: list[ParseProblem] = []
    row_index = 0
    for line, row in enumerate(data, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) == len(header):
            good.append(row)
            places.append(row_index)
        else:
            problems.append(_ragged(row_index, line, row, header))
        row_index += 1
    if problems and not good:
        raise FeedFormatError(
            f"every row has a different number of cells from the header ({len(header)}): "
            "the CSV is damaged; re-export it"
        )
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *good])
    items: list[tuple[int, Notice | ParseProblem]] = [(p.index, p) for p in problems]
    for place, package in zip(places, iter_csv_packages(buffer.getvalue()), strict=True):
        items.extend(
            (place, item) for item in checked(iter_package(package, start=place), start=place)
        )
    result = ParseResult()
    for _, item in sorted(items, key=lambda pair: pair[0]):
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
    scalar = _json_scalar(stripped)
    if scalar is not _NOT_JSON:
        raise _not_ocds("the JSON", scalar)
    raise FeedFormatError(
        "not an OCDS file: expected JSON (a package or releases), JSON Lines, "
        "or a Contracts Finder CSV export"
    )


_NOT_JSON = object()


def _json_scalar(text: str) -> Any:
    """The JSON number, string, true/false/null that ``text`` is, else ``_NOT_JSON``."""
    if text[:1] not in '-0123456789"tfn':
        return _NOT_JSON
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def parse_file(path: str | Path) -> ParseResult:
    """Read and parse a local file; unreadable paths raise :class:`FeedFormatError`."""
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(path)
        size = target.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FeedFormatError(
                f"the file is {size / 1048576:.0f} MB; at most {MAX_FILE_BYTES // 1048576} MB "
                "is read at once: split it (JSON Lines splits at any line)"
            )
        data = target.read_bytes()
    except IsADirectoryError:
        raise FeedFormatError(
            f"{path} is a directory, not a feed file: give one file inside it"
        ) from None
    except OSError as exc:
        raise FeedFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_bytes(data)
