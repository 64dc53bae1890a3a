"""Addresses never to mail again, checked before every email send.

An address lands here when a server refuses it at send time as non-existent (a 5xx for the
recipient), when a hard bounce arrives, after repeated soft bounces, or when its owner
complains. Stored lower-cased; lookups are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import EmailBounceRow, SubscriberRow, SuppressionRow
from storage.outbox import cancel_pending_for
from storage.types import utcnow

#: Why an address is suppressed, in the words admins see.
REASONS = {
    "gone": "refused as unknown when sending",
    "hard_bounce": "hard bounce",
    "soft_bounce": "repeated soft bounces",
    "complaint": "spam complaint",
}


def _key(address: str) -> str:
    return address.strip().lower()


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def suppress(
    session: AsyncSession,
    address: str,
    reason: str,
    detail: str = "",
    *,
    at: datetime | None = None,
) -> None:
    """Add ``address`` (idempotent: the first reason is kept)."""
    stmt = _insert(session)(SuppressionRow).values(
        address=_key(address), reason=reason[:20], detail=detail[:1000], created_at=at or utcnow()
    )
    await session.exec(stmt.on_conflict_do_nothing())


async def stop_mailing(session: AsyncSession, address: str) -> list[int]:
    """Switch off the email channel of every subscriber at ``address`` and cancel what
    waits for it; the ids of the subscribers changed."""
    query = select(SubscriberRow).where(func.lower(col(SubscriberRow.email)) == _key(address))
    changed: list[int] = []
    for sub in (await session.exec(query)).all():
        if sub.id is None:
            continue
        if sub.email_active:
            sub.email_active = False
            session.add(sub)
        await cancel_pending_for(session, sub.id, "email")
        changed.append(sub.id)
    return changed


async def record_bounce(
    session: AsyncSession,
    address: str,
    kind: str,
    *,
    report_id: str,
    status: str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> bool:
    """Store one report about ``address``; False when this report was stored before."""
    stmt = _insert(session)(EmailBounceRow).values(
        address=_key(address),
        kind=kind[:20],
        status=(status or None) and status[:20],
        detail=detail[:1000],
        report_id=report_id[:300],
        created_at=at or utcnow(),
    )
    result = await session.exec(stmt.on_conflict_do_nothing())
    return bool(result.rowcount)


async def bounces_since(session: AsyncSession, address: str, kind: str, since: datetime) -> int:
    """How many ``kind`` reports about ``address`` arrived since ``since``."""
    query = (
        select(func.count())
        .select_from(EmailBounceRow)
        .where(
            EmailBounceRow.address == _key(address),
            EmailBounceRow.kind == kind,
            col(EmailBounceRow.created_at) >= since,
        )
    )
    return int((await session.exec(query)).one())


async def suppression_counts(session: AsyncSession) -> dict[str, int]:
    """Suppressed addresses by reason (for /stats)."""
    query = select(SuppressionRow.reason, func.count()).group_by(col(SuppressionRow.reason))
    return {str(reason): int(n) for reason, n in (await session.exec(query)).all()}


async def suppression_of(session: AsyncSession, addresses: Iterable[str]) -> dict[str, str]:
    """address (lower-cased) -> reason, for those of ``addresses`` that are suppressed."""
    keys = {_key(a) for a in addresses if a}
    if not keys:
        return {}
    query = select(SuppressionRow.address, SuppressionRow.reason).where(
        col(SuppressionRow.address).in_(list(keys))
    )
    return {str(a): str(r) for a, r in (await session.exec(query)).all()}


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
