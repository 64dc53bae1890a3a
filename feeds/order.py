"""Which of two releases of one notice is the newer: by release date, then release id.

A notice's releases arrive out of order (the APIs list newest first; an overlap re-reads a
window; two releases can share a timestamp), and storing "the last one seen" flipped a notice
between two versions on every poll, with a false "updated" alert each time. The order used
everywhere instead is total and stable: release date (``updated``, else ``published``; a
release without either sorts before any dated one), then the release id compared as a
*natural* string (so ``…-10`` is after ``…-9``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from feeds.notice import Notice

_RUNS = re.compile(r"\d+|\D+")
ReleaseKey = tuple[int, datetime, tuple[tuple[int, int, str], ...]]
_NEVER = datetime.min.replace(tzinfo=UTC)


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    """``"ocds-b5fd17-x-10"`` → comparable runs; digit runs compare as numbers."""
    return tuple(
        (1, int(run), "") if run.isdigit() else (0, 0, run) for run in _RUNS.findall(text[:300])
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def release_key(
    updated: datetime | None, published: datetime | None, release_id: str
) -> ReleaseKey:
    """The sort key of one release (see the module docstring)."""
    when = updated or published
    if when is None:
        return (0, _NEVER, _natural(release_id))
    return (1, _aware(when), _natural(release_id))


def notice_key(notice: Notice) -> ReleaseKey:
    return release_key(notice.updated, notice.published, notice.release_id)


def _stored_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def stored_key(data: Mapping[str, Any]) -> ReleaseKey:
    """The key of a notice stored as :meth:`Notice.to_json_dict` (what storage keeps)."""
    return release_key(
        _stored_date(data.get("updated")),
        _stored_date(data.get("published")),
        str(data.get("release_id") or ""),
    )


def newest_first(notices: Iterable[Notice]) -> list[Notice]:
    """``notices`` newest release first (stable for equal keys)."""
    return sorted(notices, key=notice_key, reverse=True)
