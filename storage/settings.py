"""Service-wide settings kept in the database."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AppSettingRow


async def get_or_create(session: AsyncSession, key: str, make: str) -> str:
    """The stored value of ``key``; stores ``make`` first if there is none (race-safe)."""
    row = await session.get(AppSettingRow, key)
    if row is not None:
        return row.value
    try:
        async with session.begin_nested():
            session.add(AppSettingRow(key=key, value=make))
    except IntegrityError:
        row = await session.get(AppSettingRow, key)
        assert row is not None
        return row.value
    return make
