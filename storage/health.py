"""What the health check reads: feed cursors and outbox backlogs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.inbox import inbox_backlog
from storage.models import DeliveryRow, FeedCursorRow, MessageRow


async def health_report(session: AsyncSession, now: datetime) -> dict[str, Any]:
    await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    cursors = (await session.exec(select(FeedCursorRow))).all()
    feeds = {
        c.feed: {
            "last_poll_at": c.last_poll_at.isoformat() if c.last_poll_at else None,
            "last_error": c.last_error,
            "last_success_at": c.last_success_at.isoformat() if c.last_success_at else None,
            "skipped": list(c.skipped or []),
        }
        for c in cursors
    }
    outboxes = {}
    for name, model in (("alerts", DeliveryRow), ("messages", MessageRow)):
        table: Any = model
        pending = col(table.status) == "pending"
        backlog = (await session.exec(select(func.count()).select_from(table).where(pending))).one()
        oldest = (
            await session.exec(
                select(table.due_at)
                .where(pending, col(table.due_at) <= now)
                .order_by(col(table.due_at))
                .limit(1)
            )
        ).first()
        outboxes[name] = {
            "backlog": int(backlog),
            "oldest_due_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        }
    return {"feeds": feeds, "outboxes": outboxes, "inbox": await inbox_backlog(session, now)}
