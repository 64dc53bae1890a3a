"""Read-only summaries of what is stored (the demo and admins' overviews)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import NoticeRow


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
