"""Tolerant readers for publisher JSON: the wrong type gives "absent", never an exception.

Every publisher (and every year of the same publisher) puts odd things where a
field is expected: a list for a string, ``"1"`` for ``true``, ``"231265.0"`` for a
number (the CF CSV export gives every value as text), ``NaN``, a date without an
offset. One bad field must cost that field only, never the release, so every
parser module (:mod:`feeds.ocds`, :mod:`feeds.lots`, :mod:`feeds.awards`,
:mod:`feeds.dates`) reads through these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from feeds.notice import Value

_CPV_RE = re.compile(r"^(\d{8})(?:-\d)?$")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list, skipping anything else (``null``, strings, numbers)."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def text(value: Any) -> str | None:
    """A stripped non-empty string; numbers become their text (CF ids are sometimes ints)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def texts(value: Any) -> tuple[str, ...]:
    """A string or a list of strings as a tuple of non-empty strings."""
    if isinstance(value, str):
        value = [value]
    return tuple(t for item in as_list(value) if (t := text(item)) is not None)


def number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric text (``"1,250.50"``); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    return result if result == result and abs(result) != float("inf") else None


def to_bool(value: Any) -> bool | None:
    """JSON booleans, and the CSV export's ``"1"``/``"0"``/``"true"``/``"false"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "y", "1.0"):
            return True
        if lowered in ("0", "false", "no", "n", "0.0"):
            return False
    return None


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 → aware datetime, keeping the publisher's UTC offset.

    A time without an offset is taken as UTC (the feeds publish UTC or give an
    offset); unparseable values give None rather than failing the release.
    """
    raw = text(value)
    if raw is None:
        return None
    raw = raw.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def period(value: Any) -> tuple[datetime | None, datetime | None]:
    """``(startDate, endDate)`` of an OCDS Period object."""
    block = as_dict(value)
    return parse_datetime(block.get("startDate")), parse_datetime(block.get("endDate"))


def normalise_cpv(value: Any) -> str | None:
    """``"85300000-2"`` → ``"85300000"``; integers are zero-padded; other text → None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value).zfill(8)
    raw = text(value)
    if raw is None:
        return None
    match = _CPV_RE.match(raw.replace(" ", ""))
    return match.group(1) if match else None


def cpv_of_classifications(classifications: Iterator[dict[str, Any]]) -> list[str]:
    """The 8-digit CPV codes among OCDS classifications (scheme ``CPV``, any case)."""
    codes: list[str] = []
    for classification in classifications:
        scheme = text(classification.get("scheme"))
        if scheme is None or scheme.upper() != "CPV":
            continue
        code = normalise_cpv(classification.get("id"))
        if code is not None:
            codes.append(code)
    return codes


def item_classifications(item: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """An item's main and additional classifications (FTS uses only the additional ones)."""
    yield as_dict(item.get("classification"))
    yield from dicts(item.get("additionalClassifications"))


def amount(value: Mapping[str, Any]) -> float | None:
    """Net ``amount``, else ``amountGross`` (FTS awards sometimes give only gross).

    Zero and negative amounts are absent: CF exports write ``0`` for "not given".
    """
    for key in ("amount", "amountGross"):
        figure = number(value.get(key))
        if figure is not None and figure > 0:
            return figure
    return None


def value_of(value: Any) -> Value | None:
    """An OCDS Value object as a :class:`Value` (``min`` None), or None when it has no amount."""
    block = as_dict(value)
    figure = amount(block)
    if figure is None:
        return None
    return Value(amount=figure, min=None, currency=text(block.get("currency")) or "GBP")
