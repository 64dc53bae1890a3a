"""Storing notices: one row per (source, ocid), a new version whenever the content changes.

The alert layer needs to know *what* changed (a moved deadline is worth telling
people about, a re-publication is not), so each version records a diff of the
fields subscribers care about. The same procurement published on both feeds is
linked to the first one seen, so it is alerted once.

The stored version is always the *newest* release of the notice, ordered by
release date then release id (:mod:`feeds.order`). A release older than the stored
one — re-read by an overlapping window, listed after a newer one, or sharing its
timestamp with a later id — is "unchanged": it never replaces the newer one, so two
releases of one notice cannot flip the stored version (and send a false "updated"
alert) on every poll.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from rapidfuzz import fuzz
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.notice import Notice
from feeds.order import notice_key, stored_key
from storage.models import NoticeRow, NoticeVersionRow
from storage.types import utcnow

StoreStatus = Literal["new", "changed", "unchanged"]
WATCHED_FIELDS = ("title", "deadline", "value", "stage", "kind")
#: Dates a supplier must meet besides the tender deadline (``data["dates"]``), watched too:
#: a moved request-to-participate or engagement close is worth an update.
WATCHED_DATES = ("expression_of_interest", "engagement_end")
DUPLICATE_TITLE_SIMILARITY = 85.0
_BUYER_NOISE = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What storing one release did. ``canonical_id`` is the notice alerts refer to."""

    notice_id: int
    version: int
    status: StoreStatus
    canonical_id: int
    changes: dict[str, Any] = field(default_factory=dict)


def buyer_key(buyer: str | None) -> str | None:
    """A buyer name reduced to letters and digits, for cross-feed comparison."""
    if not buyer:
        return None
    key = _BUYER_NOISE.sub(" ", buyer.casefold()).strip()
    return key[:200] or None


def diff_fields(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The watched fields that differ, as ``{"field": [old, new]}``.

    ``kind`` is compared only when both versions state one (a version stored before kinds
    existed has none: its kind is derived, not a change); the watched dates are compared
    under their own names."""
    changes = {
        name: [old.get(name), new.get(name)]
        for name in WATCHED_FIELDS
        if old.get(name) != new.get(name)
    }
    if changes.get("kind", [None])[0] is None or changes.get("kind", [None, None])[1] is None:
        changes.pop("kind", None)
    old_dates, new_dates = _dates(old), _dates(new)
    for name in WATCHED_DATES:
        if old_dates.get(name) != new_dates.get(name):
            changes[name] = [old_dates.get(name), new_dates.get(name)]
    return changes


def _dates(data: dict[str, Any]) -> dict[str, Any]:
    dates = data.get("dates")
    return dates if isinstance(dates, dict) else {}


async def store_notice(session: AsyncSession, notice: Notice) -> StoreResult:
    """Insert or update one notice; idempotent for an unchanged release."""
    data = notice.to_json_dict()
    digest = notice.content_hash()
    row = (
        await session.exec(
            select(NoticeRow).where(
                NoticeRow.source == notice.source, NoticeRow.ocid == notice.ocid
            )
        )
    ).first()
    if row is None:
        return await _insert_new(session, notice, data, digest)
    assert row.id is not None
    canonical = row.duplicate_of or row.id
    if row.content_hash == digest or _is_older(notice, row.data):
        # An older release (or the same one again) never replaces the newer one stored.
        return StoreResult(row.id, row.version, "unchanged", canonical)
    changes = diff_fields(row.data, data)
    row.version += 1
    row.content_hash = digest
    row.stage = notice.stage
    row.title = notice.title
    row.buyer_key = buyer_key(notice.buyer)
    row.deadline = notice.deadline
    row.data = data
    row.last_changed = utcnow()
    session.add(row)
    session.add(_version_row(row.id, row.version, notice, data, digest, changes))
    await session.flush()
    return StoreResult(row.id, row.version, "changed", canonical, changes)


def _is_older(notice: Notice, stored: dict[str, Any]) -> bool:
    """True if ``notice`` comes before the stored release (date, then release id).

    Equal keys are the same release: new content for it (a publisher's correction, or a
    better parse) is a change, so they are not "older".
    """
    return notice_key(notice) < stored_key(stored)


async def _insert_new(
    session: AsyncSession, notice: Notice, data: dict[str, Any], digest: str
) -> StoreResult:
    duplicate_of = await find_duplicate(session, notice)
    row = NoticeRow(
        source=notice.source,
        ocid=notice.ocid,
        version=1,
        content_hash=digest,
        stage=notice.stage,
        title=notice.title,
        buyer_key=buyer_key(notice.buyer),
        deadline=notice.deadline,
        data=data,
        duplicate_of=duplicate_of,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    session.add(_version_row(row.id, 1, notice, data, digest, {}))
    await session.flush()
    return StoreResult(row.id, 1, "new", duplicate_of or row.id)


def _version_row(
    notice_id: int,
    version: int,
    notice: Notice,
    data: dict[str, Any],
    digest: str,
    changes: dict[str, Any],
) -> NoticeVersionRow:
    return NoticeVersionRow(
        notice_id=notice_id,
        version=version,
        content_hash=digest,
        release_id=notice.release_id[:250],
        data=data,
        changes=changes,
    )


async def find_duplicate(session: AsyncSession, notice: Notice) -> int | None:
    """The canonical notice of the same procurement on another feed, if any.

    Same buyer, same deadline (to the minute) and a similar title: that is how a
    person would recognise the same tender on Contracts Finder and Find a Tender.
    """
    key = buyer_key(notice.buyer)
    if notice.deadline is None or key is None:
        return None
    window = timedelta(minutes=1)
    candidates = await session.exec(
        select(NoticeRow).where(
            NoticeRow.buyer_key == key,
            col(NoticeRow.deadline) >= notice.deadline - window,
            col(NoticeRow.deadline) <= notice.deadline + window,
            NoticeRow.source != notice.source,
        )
    )
    for candidate in candidates:
        score = fuzz.token_set_ratio(candidate.title.casefold(), notice.title.casefold())
        if score >= DUPLICATE_TITLE_SIMILARITY:
            return candidate.duplicate_of or candidate.id
    return None


async def get_notice(session: AsyncSession, notice_id: int) -> NoticeRow | None:
    return await session.get(NoticeRow, notice_id)


async def load_notices(session: AsyncSession, notice_ids: list[int]) -> dict[int, Notice]:
    """Stored notices as domain values, keyed by id (for matching and rendering)."""
    if not notice_ids:
        return {}
    rows = await session.exec(select(NoticeRow).where(col(NoticeRow.id).in_(notice_ids)))
    return {
        row.id: Notice.from_json_dict({"source": row.source, "ocid": row.ocid, **row.data})
        for row in rows
        if row.id is not None
    }


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class PendingVersion:
    """A stored notice whose newest content has not been matched yet.

    ``status`` is "new" when the notice's first version is among the unmatched ones (nobody
    has heard of it), else "changed" with what changed since the last matched version.
    """

    notice_id: int
    canonical_id: int
    version: int
    status: StoreStatus
    changes: dict[str, Any]
    version_ids: tuple[int, ...]
    #: The first of the unmatched versions (the version before it is the one people saw).
    first_version: int = 1


async def unmatched_versions(session: AsyncSession, limit: int = 5000) -> list[PendingVersion]:
    """Stored versions not yet matched, one entry per notice (oldest first).

    A version stored but not matched is a durable fact: a crash between storing a page and
    queueing its alerts leaves these rows, and the next cycle matches them.
    """
    rows = await session.exec(
        select(NoticeVersionRow, NoticeRow)
        .join(NoticeRow, col(NoticeRow.id) == col(NoticeVersionRow.notice_id))
        .where(col(NoticeVersionRow.matched_at).is_(None))
        .order_by(col(NoticeVersionRow.notice_id), col(NoticeVersionRow.version))
        .limit(limit)
    )
    grouped: dict[int, list[tuple[NoticeVersionRow, NoticeRow]]] = {}
    for version, notice in rows:
        grouped.setdefault(version.notice_id, []).append((version, notice))
    pending = []
    for notice_id, items in grouped.items():
        versions = [v for v, _ in items]
        notice = items[0][1]
        assert notice.id is not None
        first = versions[0]
        changes: dict[str, Any] = {}
        for v in versions:
            for name, (old, new) in (v.changes or {}).items():
                changes[name] = [changes[name][0] if name in changes else old, new]
        changes = {k: pair for k, pair in changes.items() if pair[0] != pair[1]}
        pending.append(
            PendingVersion(
                notice_id=notice_id,
                canonical_id=notice.duplicate_of or notice.id,
                version=versions[-1].version,
                status="new" if first.version == 1 else "changed",
                changes=changes,
                version_ids=tuple(v.id for v in versions if v.id is not None),
                first_version=first.version,
            )
        )
    return pending


async def notice_before(session: AsyncSession, notice_id: int, version: int) -> Notice | None:
    """The notice as its newest version before ``version`` was (what an alert sent before
    that version showed), or None when there is none."""
    row = await session.get(NoticeRow, notice_id)
    if row is None:
        return None
    older = (
        await session.exec(
            select(NoticeVersionRow)
            .where(
                NoticeVersionRow.notice_id == notice_id,
                col(NoticeVersionRow.version) < version,
            )
            .order_by(col(NoticeVersionRow.version).desc())
            .limit(1)
        )
    ).first()
    if older is None:
        return None
    return Notice.from_json_dict({"source": row.source, "ocid": row.ocid, **older.data})


async def mark_matched(session: AsyncSession, version_ids: list[int], at: datetime) -> None:
    """Record that these versions' alerts are queued (in the same transaction as the queue)."""
    if not version_ids:
        return
    await session.exec(
        update(NoticeVersionRow)
        .where(col(NoticeVersionRow.id).in_(version_ids))
        .values(matched_at=at)
    )
