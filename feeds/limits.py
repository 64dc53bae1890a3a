"""Bounds on every field a :class:`Notice` carries, applied to every source before storing.

A feed is data we did not write. One release with a 5,000-character ``ocid`` (longer than the
database column), a lone UTF-16 surrogate (``"\\ud800"`` in JSON: valid JSON, but no UTF-8
encoder accepts it), an infinite value (JSON's ``1e999``, or two 1e308 awards summed) or a
deadline in year 9999 with a negative offset (no UTC timestamp can hold it) used to fail the
*store*, and a failed store stops the poll before the cursor moves: the feed was stuck on that
release for ever. So every notice passes :func:`check` once, right after parsing, for API pages
and local files alike:

* **identity** (``source``, ``ocid``, ``release_id``): must fit its column and be plain text
  (no control characters, no surrogates). It cannot be repaired without becoming another
  notice's identity, so a bad one makes the release a :class:`ParseProblem` (skipped and
  reported with its id, shortened and escaped so the report itself is safe to print);
* **text** (title, description, buyer, notice type, URL, postcode): lone surrogates and
  control characters are removed and over-long text is cut (with "…"); a URL that is not a
  plain http(s) address is dropped;
* **lists** (CPV codes, regions): only well-formed codes, no repeats, at most a few hundred;
* **numbers**: finite and within :data:`AMOUNT_MAX`, else the value is dropped;
* **dates**: aware, convertible to UTC, years :data:`YEAR_MIN`-:data:`YEAR_MAX`, else null.

The column sizes repeat ``storage.models`` (``feeds`` may not import ``storage``); a test
checks that they agree.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from feeds.notice import STAGES, Notice, Value
from feeds.ocds import ParseProblem

#: ``storage.models.NoticeRow.source`` / ``.ocid``, ``NoticeVersionRow.release_id``.
SOURCE_MAX = 40
OCID_MAX = 200
RELEASE_ID_MAX = 250
#: Text caps: far above anything real (the longest bundled title is ~250 characters).
TITLE_MAX = 1_000
DESCRIPTION_MAX = 20_000
BUYER_MAX = 500
NOTICE_TYPE_MAX = 100
URL_MAX = 2_000
POSTCODE_MAX = 10
#: List caps: the most CPV codes on a bundled notice is 40.
CPV_MAX = 200
REGIONS_MAX = 100
#: Larger contract values are data errors (the largest UK contracts are ~£1e10).
AMOUNT_MAX = 1e13
YEAR_MIN, YEAR_MAX = 1900, 2200
#: How much of a bad identity a problem report shows.
SHOWN_ID_MAX = 80

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BAD_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_CPV = re.compile(r"\d{8}")
_REGION = re.compile(r"[A-Z][A-Z0-9]{1,7}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_POSTCODE = re.compile(r"[A-Z0-9 ]{2,10}")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\ud800-\udfff]+", re.IGNORECASE)


class UnsafeRelease(ValueError):
    """A notice that cannot be stored safely; the message is the reason."""


def shown(text: object, limit: int = SHOWN_ID_MAX) -> str:
    """``text`` made safe to print and log: surrogates and controls escaped, cut to ``limit``."""
    value = str(text)
    cut = value[:limit]
    cut = _BAD_IN_ID.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), cut)
    return cut + "…" if len(value) > limit else cut


def strip_unsafe(text: str) -> str:
    """Remove lone surrogates (no UTF-8 encoder accepts them)."""
    return _SURROGATES.sub("", text) if text else text


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _identity(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UnsafeRelease(f"{name} is empty")
    if _BAD_IN_ID.search(value):
        raise UnsafeRelease(f"{name} contains control characters or a lone surrogate")
    if len(value) > limit:
        raise UnsafeRelease(f"{name} is {len(value):,} characters long; at most {limit} fit")
    return value


def _text(value: object, limit: int, *, single_line: bool) -> str:
    """Text without lone surrogates or control characters (tabs and newlines kept in
    multi-line text, turned into spaces in one-line text), cut to ``limit``."""
    if not isinstance(value, str):
        return ""
    text = value
    if _UNSAFE_TEXT.search(text):
        text = strip_unsafe(text)
        if single_line:
            text = " ".join(_CONTROL.sub(" ", text).split())
        else:
            text = _CONTROL.sub(lambda m: m.group(0) if m.group(0) in "\t\n" else "", text)
    return clip(text, limit)


def _optional_text(value: object, limit: int) -> str | None:
    return _text(value, limit, single_line=True).strip() or None


def _url(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > URL_MAX:
        return None
    return value if _URL.fullmatch(value) else None


def _codes(values: Iterable[object], pattern: re.Pattern[str], limit: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and pattern.fullmatch(value):
            seen.setdefault(value)
            if len(seen) >= limit:
                break
    return tuple(seen)


def _amount(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or abs(number) > AMOUNT_MAX:
        return None
    return number


def _value(value: Value | None) -> Value | None:
    if value is None:
        return None
    amount, low = _amount(value.amount), _amount(value.min)
    if amount is None and low is None:
        return None
    currency = value.currency.strip().upper() if isinstance(value.currency, str) else None
    if currency is not None and not _CURRENCY.fullmatch(currency):
        currency = None
    if (amount, low, currency) == (value.amount, value.min, value.currency):
        return value
    return Value(amount=amount, min=low, currency=currency)


def _date(value: object) -> datetime | None:
    """A storable instant: aware (naive taken as UTC), UTC-convertible, a plausible year."""
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        in_utc = aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not YEAR_MIN <= in_utc.year <= YEAR_MAX:
        return None
    return aware


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def safe_notice(notice: Notice) -> Notice:
    """``notice`` with every field bounded; :class:`UnsafeRelease` if its identity is unusable.

    Returns ``notice`` itself when nothing needed changing (the common case: one regex scan
    per text field, no copy).
    """
    _identity("source", notice.source, SOURCE_MAX)
    _identity("ocid", notice.ocid, OCID_MAX)
    _identity("release id", notice.release_id, RELEASE_ID_MAX)
    postcode = _optional_text(notice.buyer_postcode, POSTCODE_MAX)
    wanted: dict[str, object] = {
        "notice_type": _optional_text(notice.notice_type, NOTICE_TYPE_MAX),
        "stage": notice.stage if notice.stage in STAGES else "unknown",
        "title": _text(notice.title, TITLE_MAX, single_line=True),
        "description": _text(notice.description, DESCRIPTION_MAX, single_line=False),
        "buyer": _optional_text(notice.buyer, BUYER_MAX),
        "cpv": _codes(notice.cpv, _CPV, CPV_MAX),
        "regions": _codes(notice.regions, _REGION, REGIONS_MAX),
        "value": _value(notice.value),
        "deadline": _date(notice.deadline),
        "published": _date(notice.published),
        "updated": _date(notice.updated),
        "suitable_sme": _flag(notice.suitable_sme),
        "suitable_vcse": _flag(notice.suitable_vcse),
        "url": _url(notice.url),
        "buyer_postcode": postcode if postcode and _POSTCODE.fullmatch(postcode) else None,
    }
    changes = {k: v for k, v in wanted.items() if v != getattr(notice, k)}
    return dataclasses.replace(notice, **changes) if changes else notice  # type: ignore[arg-type]


def safe_problem(problem: ParseProblem) -> ParseProblem:
    """A problem whose ocid, release id and reason are safe to print, log and store."""
    ocid = shown(problem.ocid) if problem.ocid is not None else None
    release_id = shown(problem.release_id) if problem.release_id is not None else None
    reason = shown(problem.reason, 500)
    if (ocid, release_id, reason) == (problem.ocid, problem.release_id, problem.reason):
        return problem
    return ParseProblem(index=problem.index, ocid=ocid, reason=reason, release_id=release_id)


def check(item: Notice | ParseProblem, index: int) -> Notice | ParseProblem:
    """One parsed item made safe: a bounded notice, or a problem saying why it was skipped."""
    if isinstance(item, ParseProblem):
        return safe_problem(item)
    try:
        return safe_notice(item)
    except UnsafeRelease as exc:
        return ParseProblem(
            index=index,
            ocid=shown(item.ocid) if isinstance(item.ocid, str) else None,
            reason=str(exc),
            release_id=shown(item.release_id) if isinstance(item.release_id, str) else None,
        )


def checked(
    items: Iterable[Notice | ParseProblem], *, start: int = 0
) -> Iterator[Notice | ParseProblem]:
    """:func:`check` over a parser's output; ``start`` + position is a notice's index."""
    for offset, item in enumerate(items):
        yield check(item, item.index if isinstance(item, ParseProblem) else start + offset)
