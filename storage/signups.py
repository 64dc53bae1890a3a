"""Email sign-ups from the public web page, waiting for confirmation (double opt-in)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import EmailSignupRow, MessageRow


async def create_signup(
    session: AsyncSession,
    email: str,
    *,
    name: str | None,
    keywords: Sequence[str],
    regions: Sequence[str],
    frequency: str,
    now: datetime,
) -> EmailSignupRow:
    row = EmailSignupRow(
        email=email,
        name=name,
        keywords=list(keywords),
        regions=list(regions),
        frequency=frequency,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def signup_by_public_id(session: AsyncSession, public_id: str) -> EmailSignupRow | None:
    query = select(EmailSignupRow).where(EmailSignupRow.public_id == public_id)
    return (await session.exec(query)).first()


async def mails_to_since(
    session: AsyncSession, address: str, purposes: Sequence[str], since: datetime
) -> int:
    """How many messages of ``purposes`` were queued to ``address`` since ``since`` (so a
    public form cannot be used to flood somebody's inbox)."""
    query = (
        select(func.count())
        .select_from(MessageRow)
        .where(
            func.lower(col(MessageRow.email_to)) == address.strip().lower(),
            col(MessageRow.purpose).in_(list(purposes)),
            col(MessageRow.created_at) >= since,
        )
    )
    return int((await session.exec(query)).one())
