"""Contracts Finder "Harvester" CSV export → OCDS packages.

The export is OCDS flattened one package per row: columns are JSON-pointer-like
paths (``releases/0/tender/title``, ``releases/0/tag/0``) and every value is a
string. Rather than a second parser, each row is rebuilt into the nested
package it came from and handed to :mod:`feeds.ocds`, so both paths obey the
same field rules. The OCDS parser already accepts ``"1"``/``"0"`` booleans and
numeric strings.

Two CSV-specific rules: CF writes the SME/VCSE suitability flags as ``1`` or an
empty cell, so an empty flag cell in a file that has that column means *false* (the
same for a named supplier's ``sme``/``vco`` flags; an empty flag of a supplier the row
does not name stays out, or it would invent a supplier); and some
rows carry the deadline only in the row's own ``deadlineDate`` column, outside the release,
so it fills ``tender.tenderPeriod.endDate`` where the release gives none (a notice without
its deadline gets no "closes in" line and no reminders).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from feeds.errors import FeedFormatError

_FLAG_SUFFIXES = ("/isSuitableForSme", "/isSuitableForVco")
_SUPPLIER_FLAG_SUFFIXES = ("/sme", "/vco")
csv.field_size_limit(10_000_000)


def looks_like_cf_csv(header: list[str]) -> bool:
    """A Harvester export has an ``ocid`` column under ``releases/<n>/``."""
    return any(name.startswith("releases/") and name.endswith("/ocid") for name in header)


def _set_path(root: dict[str, Any], path: list[str], value: str) -> None:
    """Set ``value`` at ``path``, creating dicts, or lists where the next segment is a number."""
    node: Any = root
    for position, segment in enumerate(path):
        last = position == len(path) - 1
        next_is_index = not last and path[position + 1].isdigit()
        if isinstance(node, list):
            index = int(segment)
            while len(node) <= index:
                node.append(None)
            if last:
                node[index] = value
            else:
                if not isinstance(node[index], list | dict):
                    node[index] = [] if next_is_index else {}
                node = node[index]
        else:
            if last:
                node[segment] = value
            else:
                if not isinstance(node.get(segment), list | dict):
                    node[segment] = [] if next_is_index else {}
                node = node[segment]


def unflatten_row(header: list[str], row: list[str]) -> dict[str, Any]:
    """One CSV row → the nested package it was flattened from (empty cells skipped)."""
    package: dict[str, Any] = {}
    empty_supplier_flags: list[list[str]] = []
    for name, cell in zip(header, row, strict=False):
        if cell == "" and name.endswith(_FLAG_SUFFIXES):
            cell = "0"
        if cell == "" and "/suppliers/" in name and name.endswith(_SUPPLIER_FLAG_SUFFIXES):
            empty_supplier_flags.append(name.split("/"))
        if cell == "" or not name:
            continue
        try:
            _set_path(package, name.split("/"), cell)
        except (ValueError, TypeError):
            continue  # a column that clashes with another's shape: ignore it, keep the row
    _fill_supplier_flags(package, empty_supplier_flags)
    for key in ("releases", "records"):
        if isinstance(package.get(key), list):
            package[key] = [item for item in package[key] if item is not None]
    _fill_deadline(package)
    return package


def _fill_supplier_flags(package: dict[str, Any], paths: list[list[str]]) -> None:
    """An empty ``sme``/``vco`` cell of a supplier the row names means false."""
    for path in paths:
        node: Any = package
        for segment in path[:-1]:
            if isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                node = node[int(segment)]
            elif isinstance(node, dict):
                node = node.get(segment)
            else:
                node = None
                break
        if isinstance(node, dict) and node.get("name") and path[-1] not in node:
            node[path[-1]] = "0"


def _fill_deadline(package: dict[str, Any]) -> None:
    """Copy the row's top-level ``deadlineDate`` into releases that state no tender deadline."""
    deadline = package.pop("deadlineDate", None)
    releases = package.get("releases")
    if not isinstance(deadline, str) or not isinstance(releases, list):
        return
    for release in releases:
        if not isinstance(release, dict):
            continue
        tender = release.get("tender")
        if not isinstance(tender, dict):
            continue  # no tender block (an award-only row): nothing to add a deadline to
        period = tender.setdefault("tenderPeriod", {})
        if isinstance(period, dict) and not period.get("endDate"):
            period["endDate"] = deadline


def iter_csv_packages(text: str) -> Iterator[dict[str, Any]]:
    """Yield one package per CSV row; raise :class:`FeedFormatError` if it is not a CF export."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FeedFormatError("empty CSV file") from None
    except csv.Error as exc:
        raise FeedFormatError(f"unreadable CSV: {exc}") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    if not looks_like_cf_csv(header):
        raise FeedFormatError(
            "CSV is not a Contracts Finder OCDS export (no 'releases/0/ocid' column)"
        )
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield unflatten_row(header, row)
    except csv.Error as exc:
        raise FeedFormatError(f"unreadable CSV at line {reader.line_num}: {exc}") from None
