"""Who is who in a chat: the Telegram ids of the advisers (for their own command menu)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AdviserRow

__all__ = ["adviser_telegram_ids"]


async def adviser_telegram_ids(session: AsyncSession) -> list[int]:
    """Telegram ids of every active adviser who has one (roster or invite link)."""
    rows = await session.exec(
        select(AdviserRow.telegram_id).where(
            col(AdviserRow.active).is_(True), col(AdviserRow.telegram_id).is_not(None)
        )
    )
    return sorted(int(r) for r in rows.all() if r is not None)
