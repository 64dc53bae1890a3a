"""Read-only summaries of what is stored: the demo's overview, the market report's
notices and the database's own figures (feedback, enquiries, the service), admins' /stats.

Only reads: every figure is computed by the application (:mod:`bot.reports`) from what
these functions return, so the same figures can be made from files as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    DeliveryRow,
    EnquiryRow,
    FeedbackRow,
    FeedCursorRow,
    ForecastShownRow,
    MessageRow,
    NoticeRow,
    NoticeVersionRow,
    ReportFileRow,
    ReportRow,
    SubscriberRow,
)


@dataclass
class NoticeSummary:
    total: int = 0
    by_stage: Counter[str] = field(default_factory=Counter)
    by_region: Counter[str] = field(default_factory=Counter)
    vcse_suitable: int = 0
    sme_suitable: int = 0
    duplicates: int = 0
    closing_soonest: list[tuple[datetime, str, str | None]] = field(default_factory=list)


async def notice_summary(session: AsyncSession, now: datetime, top: int = 10) -> NoticeSummary:
    """Counts by stage, by top-level region (NUTS1) and suitability; the next deadlines."""
    summary = NoticeSummary()
    rows = await session.exec(select(NoticeRow))
    for row in rows:
        summary.total += 1
        summary.by_stage[row.stage] += 1
        if row.duplicate_of is not None:
            summary.duplicates += 1
        regions = {str(code)[:3] for code in row.data.get("regions") or ()}
        for region in regions or {"not stated"}:
            summary.by_region[region] += 1
        summary.vcse_suitable += bool(row.data.get("suitable_vcse"))
        summary.sme_suitable += bool(row.data.get("suitable_sme"))
    soonest = await session.exec(
        select(NoticeRow)
        .where(
            col(NoticeRow.deadline) > now,
            col(NoticeRow.stage).in_(["tender", "planning"]),
            col(NoticeRow.duplicate_of).is_(None),
        )
        .order_by(col(NoticeRow.deadline))
        .limit(top)
    )
    summary.closing_soonest = [
        (row.deadline, row.title, row.data.get("buyer")) for row in soonest if row.deadline
    ]
    return summary


# --------------------------------------------------------------------------- market report


@dataclass(frozen=True, slots=True)
class StoredProcurement:
    """One canonical stored notice with every stored version's data, oldest first (the
    last is what ``notice.data`` holds), and whether any subscriber was alerted to it."""

    notice_id: int
    source: str
    ocid: str
    versions: list[dict[str, Any]]
    matched: bool


#: Stages whose notices matter to a report whenever they were stored: early signals look
#: ahead, and a contract awarded years ago may end within the horizon.
LONG_LIVED_STAGES = ("planning", "award", "contract")


async def report_notices(
    session: AsyncSession,
    *,
    changed_since: datetime,
    open_after: datetime,
    batch: int = 500,
) -> AsyncIterator[list[StoredProcurement]]:
    """The canonical notices a report over a window starting at ``changed_since`` can use,
    in batches (a large database is never read into memory at once).

    A notice stored on both feeds is read once, as its canonical (first stored) copy.
    Selected: notices changed since the window began (anything published in it), notices
    still open after ``open_after`` (closing soon), and every planning, award and
    contract notice (early signals, contracts ending within the horizon).
    """
    last_id = 0
    wanted = (
        (col(NoticeRow.last_changed) >= changed_since)
        | (col(NoticeRow.deadline) >= open_after)
        | col(NoticeRow.stage).in_(LONG_LIVED_STAGES)
    )
    while True:
        rows = (
            await session.exec(
                select(NoticeRow)
                .where(col(NoticeRow.duplicate_of).is_(None), col(NoticeRow.id) > last_id, wanted)
                .order_by(col(NoticeRow.id))
                .limit(batch)
            )
        ).all()
        if not rows:
            return
        ids = [row.id for row in rows if row.id is not None]
        last_id = ids[-1]
        history = await _older_versions(session, [r.id for r in rows if r.id and r.version > 1])
        matched = await _alerted(session, ids)
        yield [
            StoredProcurement(
                notice_id=row.id,
                source=row.source,
                ocid=row.ocid,
                versions=[*history.get(row.id, []), dict(row.data)],
                matched=row.id in matched,
            )
            for row in rows
            if row.id is not None
        ]


async def _older_versions(session: AsyncSession, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every version but the newest of these notices, oldest first."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    newest = {
        notice_id: version
        for notice_id, version in (
            await session.exec(
                select(NoticeRow.id, NoticeRow.version).where(col(NoticeRow.id).in_(ids))
            )
        ).all()
    }
    query = (
        select(NoticeVersionRow.notice_id, NoticeVersionRow.version, NoticeVersionRow.data)
        .where(col(NoticeVersionRow.notice_id).in_(ids))
        .order_by(col(NoticeVersionRow.notice_id), col(NoticeVersionRow.version))
    )
    for notice_id, version, data in (await session.exec(query)).all():
        if version < newest.get(notice_id, 0):
            found.setdefault(notice_id, []).append(dict(data))
    return found


async def _alerted(session: AsyncSession, ids: list[int]) -> set[int]:
    query = select(DeliveryRow.notice_id).where(col(DeliveryRow.notice_id).in_(ids)).distinct()
    return set((await session.exec(query)).all())


async def feedback_marks(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[bool, list[str]]]:
    """Each 👍/👎 given in the window, with the CPV codes of the notice it was given on."""
    query = (
        select(FeedbackRow.relevant, NoticeRow.data)
        .join(NoticeRow, col(NoticeRow.id) == col(FeedbackRow.notice_id))
        .where(col(FeedbackRow.created_at) >= start, col(FeedbackRow.created_at) < end)
    )
    return [
        (bool(relevant), [str(c) for c in (data or {}).get("cpv") or ()])
        for relevant, data in (await session.exec(query)).all()
    ]


@dataclass(frozen=True, slots=True)
class EnquiryFacts:
    topic: str
    created_at: datetime
    first_response_at: datetime | None


async def enquiry_facts(
    session: AsyncSession, start: datetime, end: datetime
) -> list[EnquiryFacts]:
    """The enquiries made in the window: topic, when asked, when first answered."""
    query = select(EnquiryRow.topic, EnquiryRow.created_at, EnquiryRow.first_response_at).where(
        col(EnquiryRow.created_at) >= start, col(EnquiryRow.created_at) < end
    )
    return [EnquiryFacts(*row) for row in (await session.exec(query)).all()]


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    query = select(func.count()).select_from(model).where(*where)
    return int((await session.exec(query)).one())


async def service_facts(session: AsyncSession, start: datetime, end: datetime) -> dict[str, Any]:
    """The service's own figures for the window: each feed's last poll (and last
    successful one), alerts and other messages sent and failed, what still waits."""
    cursors = (await session.exec(select(FeedCursorRow).order_by(col(FeedCursorRow.feed)))).all()
    feeds = {
        c.feed: {
            "last_poll_at": c.last_poll_at.isoformat() if c.last_poll_at else None,
            "last_success_at": c.last_success_at.isoformat() if c.last_success_at else None,
            "last_error": c.last_error,
        }
        for c in cursors
    }
    facts: dict[str, Any] = {"feeds": feeds}
    for name, model in (("alerts", DeliveryRow), ("messages", MessageRow)):
        table: Any = model
        facts[f"{name}_sent"] = await _count(
            session,
            table,
            col(table.status) == "sent",
            col(table.sent_at) >= start,
            col(table.sent_at) < end,
        )
        facts[f"{name}_failed"] = await _count(
            session,
            table,
            col(table.status) == "failed",
            col(table.created_at) >= start,
            col(table.created_at) < end,
        )
        facts[f"{name}_pending"] = await _count(session, table, col(table.status) == "pending")
    return facts


@dataclass(frozen=True, slots=True)
class SubscriberCounts:
    active: int
    paused: int
    new: int
    total: int


async def subscriber_counts(session: AsyncSession, since: datetime) -> SubscriberCounts:
    """Subscribers with a working channel and not paused, paused ones, and those who
    joined since ``since`` (admins' /stats headline)."""
    reachable = col(SubscriberRow.telegram_active) | col(SubscriberRow.email_active)
    return SubscriberCounts(
        active=await _count(
            session, SubscriberRow, reachable, col(SubscriberRow.paused).is_(False)
        ),
        paused=await _count(session, SubscriberRow, reachable, col(SubscriberRow.paused).is_(True)),
        new=await _count(session, SubscriberRow, col(SubscriberRow.created_at) >= since),
        total=await _count(session, SubscriberRow),
    )


# --------------------------------------------------------------------------- stored reports


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A file of a stored report (a PNG chart): its name, title (alt text) and bytes."""

    name: str
    title: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: int
    key: str
    region: str
    window_from: datetime
    window_to: datetime
    data: dict[str, Any]
    csv: str
    created_at: datetime


def _stored(row: ReportRow) -> StoredReport:
    assert row.id is not None
    return StoredReport(
        row.id,
        row.key,
        row.region,
        row.window_from,
        row.window_to,
        dict(row.data),
        row.csv,
        row.created_at,
    )


async def report_exists(session: AsyncSession, key: str) -> bool:
    query = select(ReportRow.id).where(col(ReportRow.key) == key)
    return (await session.exec(query)).first() is not None


async def save_report(
    session: AsyncSession,
    *,
    key: str,
    region: str,
    window_from: datetime,
    window_to: datetime,
    data: dict[str, Any],
    csv: str,
    files: Sequence[ReportFile],
    at: datetime,
) -> int:
    """Store a report and its files in the caller's transaction; return its id. A second
    report with the same ``key`` fails the transaction (the unique key): the caller's
    messages for it roll back with it, so a report run is made and sent once."""
    row = ReportRow(
        key=key,
        region=region,
        window_from=window_from,
        window_to=window_to,
        data=data,
        csv=csv,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    for file in files:
        session.add(
            ReportFileRow(
                report_id=row.id,
                name=file.name,
                title=file.title[:200],
                content_type=file.content_type,
                data=file.data,
            )
        )
    await session.flush()
    return row.id


async def latest_report(session: AsyncSession) -> StoredReport | None:
    """The newest stored report (``/report`` sends it)."""
    query = select(ReportRow).order_by(col(ReportRow.created_at).desc(), col(ReportRow.id).desc())
    row = (await session.exec(query.limit(1))).first()
    return _stored(row) if row is not None else None


async def reports_with_files(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[StoredReport, list[ReportFile]]]:
    """Stored reports by id, each with its files in the order they were stored."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (await session.exec(select(ReportRow).where(col(ReportRow.id).in_(wanted)))).all()
    found: dict[int, tuple[StoredReport, list[ReportFile]]] = {
        row.id: (_stored(row), []) for row in rows if row.id is not None
    }
    files = await session.exec(
        select(ReportFileRow)
        .where(col(ReportFileRow.report_id).in_(wanted))
        .order_by(col(ReportFileRow.id))
    )
    for file in files:
        if file.report_id in found:
            found[file.report_id][1].append(
                ReportFile(file.name, file.title, file.content_type, bytes(file.data))
            )
    return found


# --------------------------------------------------------------------------- re-tender forecasts


async def award_notices(
    session: AsyncSession, *, batch: int = 500
) -> AsyncIterator[list[StoredProcurement]]:
    """Every canonical award and contract notice with its versions, in batches: where the
    contracts coming up for re-tender are."""
    last_id = 0
    while True:
        rows = (
            await session.exec(
                select(NoticeRow)
                .where(
                    col(NoticeRow.duplicate_of).is_(None),
                    col(NoticeRow.id) > last_id,
                    col(NoticeRow.stage).in_(("award", "contract")),
                )
                .order_by(col(NoticeRow.id))
                .limit(batch)
            )
        ).all()
        if not rows:
            return
        last_id = rows[-1].id or last_id
        history = await _older_versions(session, [r.id for r in rows if r.id and r.version > 1])
        yield [
            StoredProcurement(
                notice_id=row.id,
                source=row.source,
                ocid=row.ocid,
                versions=[*history.get(row.id, []), dict(row.data)],
                matched=False,
            )
            for row in rows
            if row.id is not None
        ]


async def shown_forecasts(
    session: AsyncSession, subscriber_id: int, channel: str
) -> set[tuple[int, str]]:
    """(notice id, award id) of every forecast this subscriber was shown on ``channel``."""
    query = select(ForecastShownRow.notice_id, ForecastShownRow.award_id).where(
        col(ForecastShownRow.subscriber_id) == subscriber_id,
        col(ForecastShownRow.channel) == channel,
    )
    return {(n, a) for n, a in (await session.exec(query)).all()}


async def mark_forecasts_shown(
    session: AsyncSession,
    subscriber_id: int,
    channel: str,
    keys: Sequence[tuple[int, str]],
    at: datetime,
) -> None:
    """Record forecasts as shown on ``channel`` (those shown before are left as they are)."""
    seen = await shown_forecasts(session, subscriber_id, channel)
    for notice_id, award_id in dict.fromkeys(keys):
        if (notice_id, award_id) not in seen:
            session.add(
                ForecastShownRow(
                    subscriber_id=subscriber_id,
                    notice_id=notice_id,
                    award_id=award_id[:200],
                    channel=channel,
                    shown_at=at,
                )
            )
    await session.flush()
