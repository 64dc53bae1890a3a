"""Subscribers and their profiles: import, list, unsubscribe.

Imports are idempotent by email address (or Telegram chat id): importing the
same file twice updates the profiles instead of creating duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProfileRow, SubscriberRow
from storage.outbox import cancel_pending_for
from storage.types import utcnow

PROFILE_FIELDS = (
    "keywords",
    "exclude",
    "cpv",
    "regions",
    "stages",
    "min_value",
    "max_value",
    "vcse_only",
    "sme_only",
    "local_only",
)


@dataclass(frozen=True, slots=True)
class SubscriberInput:
    """A validated subscriber to create or update (from a CSV row or profile JSON)."""

    name: str | None
    email: str | None
    telegram_chat_id: int | None
    frequency: str
    profile: dict[str, Any] = field(default_factory=dict)


async def upsert_subscriber(session: AsyncSession, item: SubscriberInput) -> tuple[int, bool]:
    """Create or update one subscriber and its profile; returns (id, created)."""
    sub = await _find(session, item)
    created = sub is None
    if sub is None:
        sub = SubscriberRow()
    sub.name = item.name or sub.name
    sub.frequency = item.frequency
    if item.email:
        sub.email = item.email
        sub.email_active = True
        sub.email_verified = True  # added by SEEM staff, who hold consent
    if item.telegram_chat_id is not None:
        sub.telegram_chat_id = item.telegram_chat_id
        sub.telegram_active = True
    session.add(sub)
    await session.flush()
    assert sub.id is not None
    profile = (
        await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub.id))
    ).first() or ProfileRow(subscriber_id=sub.id)
    for name in PROFILE_FIELDS:
        if name in item.profile:
            setattr(profile, name, item.profile[name])
    profile.updated_at = utcnow()
    session.add(profile)
    await session.flush()
    return sub.id, created


async def _find(session: AsyncSession, item: SubscriberInput) -> SubscriberRow | None:
    if item.email:
        found = (
            await session.exec(select(SubscriberRow).where(SubscriberRow.email == item.email))
        ).first()
        if found is not None:
            return found
    if item.telegram_chat_id is not None:
        return (
            await session.exec(
                select(SubscriberRow).where(SubscriberRow.telegram_chat_id == item.telegram_chat_id)
            )
        ).first()
    return None


async def list_subscribers(
    session: AsyncSession,
) -> Sequence[tuple[SubscriberRow, ProfileRow | None]]:
    rows = await session.exec(
        select(SubscriberRow, ProfileRow)
        .join(ProfileRow, col(ProfileRow.subscriber_id) == col(SubscriberRow.id), isouter=True)
        .order_by(col(SubscriberRow.id))
    )
    return list(rows.all())


async def unsubscribe_email(session: AsyncSession, subscriber_id: int) -> bool:
    """Stop email alerts at once (one-click unsubscribe); False if unknown."""
    sub = await session.get(SubscriberRow, subscriber_id)
    if sub is None:
        return False
    sub.email_active = False
    session.add(sub)
    await cancel_pending_for(session, subscriber_id, "email")
    return True


def mask_email(address: str | None) -> str | None:
    """``jane@example.org`` -> ``j***@example.org`` (shown on the unsubscribe page)."""
    if not address or "@" not in address:
        return None
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def count_subscribers(session: AsyncSession, *, channel: str) -> int:
    """Active, unpaused subscribers on a channel ("email" or "telegram")."""
    active = SubscriberRow.email_active if channel == "email" else SubscriberRow.telegram_active
    query = (
        select(func.count())
        .select_from(SubscriberRow)
        .where(col(active).is_(True), col(SubscriberRow.paused).is_(False))
    )
    return int((await session.exec(query)).one())
