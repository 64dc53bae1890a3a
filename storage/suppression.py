"""Addresses never to mail again, checked before every email send.

An address lands here when a server refuses it at send time as non-existent (a 5xx for the
recipient), when a hard bounce arrives, after repeated soft bounces, or when its owner
complains. Stored lower-cased; lookups are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SuppressionRow
from storage.types import utcnow


def _key(address: str) -> str:
    return address.strip().lower()


async def suppress(session: AsyncSession, address: str, reason: str, detail: str = "") -> None:
    """Add ``address`` (idempotent: the first reason is kept)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(SuppressionRow).values(
        address=_key(address), reason=reason[:20], detail=detail[:1000], created_at=utcnow()
    )
    await session.exec(stmt.on_conflict_do_nothing())


async def suppressed(session: AsyncSession, addresses: Iterable[str]) -> set[str]:
    """The lower-cased addresses of ``addresses`` that must not be mailed."""
    keys = {_key(a) for a in addresses if a}
    if not keys:
        return set()
    rows = await session.exec(
        select(SuppressionRow.address).where(col(SuppressionRow.address).in_(list(keys)))
    )
    return set(rows.all())


async def list_suppressions(session: AsyncSession) -> list[SuppressionRow]:
    rows = await session.exec(select(SuppressionRow).order_by(col(SuppressionRow.created_at)))
    return list(rows.all())
