"""What the chat settings read and write: conversation state, profiles, email codes, the
flood counter, linking, and the data-rights operations (export, forget).

Why it is shaped like this:

* Conversation state lives in ``chat_state`` (one row per chat), never in process memory, so
  a restart or another worker behind a webhook continues the same conversation.
* The flood counter is one atomic upsert per update (``INSERT .. ON CONFLICT DO UPDATE ..
  RETURNING``), so several workers share one count per user without a lock.
* Forgetting deletes the subscriber row; every table about a subscriber has an
  ``ON DELETE CASCADE`` foreign key, and the few rows keyed by chat or user id (conversation
  state, flood counter) are deleted explicitly. The export lists every table that names a
  subscriber, explicitly (enquiries through :func:`storage.enquiries.export_for_subscriber`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, bindparam, case, delete, inspect, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enquiries import export_for_subscriber, forget_enquirer
from storage.models import (
    ChatStateRow,
    ChatThrottleRow,
    DeliveryRow,
    EmailCodeRow,
    FeedbackRow,
    ForecastShownRow,
    MessageRow,
    NoticeRow,
    PartnerInterestRow,
    ProfileRow,
    SubscriberRow,
    TelegramInboxRow,
)
from storage.partners import export_interest
from storage.types import UTCDateTime, utcnow


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


# --------------------------------------------------------------------------- conversation


async def get_state(session: AsyncSession, chat_id: int) -> ChatStateRow | None:
    return await session.get(ChatStateRow, chat_id, populate_existing=True)


async def set_state(
    session: AsyncSession,
    chat_id: int,
    step: str,
    data: dict[str, Any] | None = None,
    *,
    expires_at: datetime | None = None,
) -> None:
    """Set the chat's conversation step (replacing any earlier one: one step at a time)."""
    insert = _insert(session)
    values = {
        "chat_id": chat_id,
        "step": step,
        "data": data or {},
        "updated_at": utcnow(),
        "expires_at": expires_at,
    }
    stmt = insert(ChatStateRow).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["chat_id"],
        set_={
            "step": stmt.excluded.step,
            "data": stmt.excluded.data,
            "updated_at": stmt.excluded.updated_at,
            "expires_at": stmt.excluded.expires_at,
        },
    )
    await session.exec(stmt)


async def take_state(
    session: AsyncSession, chat_id: int, step: str, now: datetime
) -> dict[str, Any] | None:
    """The data of the chat's ``step`` if that is the step it is at (then it is cleared);
    None when the chat is at another step, none, or the step has lapsed."""
    row = await get_state(session, chat_id)
    if row is None or row.step != step:
        return None
    await clear_state(session, chat_id)
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return dict(row.data or {})


async def clear_state(session: AsyncSession, chat_id: int) -> None:
    await session.exec(delete(ChatStateRow).where(col(ChatStateRow.chat_id) == chat_id))


# --------------------------------------------------------------------------- subscribers


async def subscriber_for_chat(session: AsyncSession, chat_id: int) -> SubscriberRow | None:
    query = select(SubscriberRow).where(SubscriberRow.telegram_chat_id == chat_id)
    return (await session.exec(query)).first()


async def profile_of(session: AsyncSession, subscriber_id: int) -> ProfileRow:
    """The subscriber's profile, created empty when missing (not yet flushed)."""
    query = select(ProfileRow).where(ProfileRow.subscriber_id == subscriber_id)
    found = (await session.exec(query)).first()
    if found is None:
        found = ProfileRow(subscriber_id=subscriber_id)
        session.add(found)
    return found


async def create_chat_subscriber(
    session: AsyncSession,
    chat_id: int,
    name: str | None,
    profile: dict[str, Any],
    *,
    frequency: str = "instant",
    digest_hour: int = 8,
    weekly_day: int = 0,
) -> SubscriberRow:
    """A new Telegram subscriber for ``chat_id`` with ``profile`` and the service's defaults
    for how often and when (``[alerts] default_frequency``, ``digest_hour``, ``weekly_day``)."""
    sub = SubscriberRow(
        name=name,
        telegram_chat_id=chat_id,
        telegram_active=True,
        frequency=frequency,
        digest_hour=digest_hour,
        weekly_day=weekly_day,
    )
    session.add(sub)
    await session.flush()
    assert sub.id is not None
    session.add(ProfileRow(subscriber_id=sub.id, **profile))
    await session.flush()
    return sub


def touch(profile: ProfileRow) -> None:
    profile.updated_at = utcnow()


async def subscriber_by_email(session: AsyncSession, email: str) -> SubscriberRow | None:
    query = select(SubscriberRow).where(SubscriberRow.email == email)
    return (await session.exec(query)).first()


@dataclass(frozen=True, slots=True)
class LinkResult:
    subscriber: SubscriberRow
    already: bool  # this chat was linked to it before
    replaced: bool  # the chat's own earlier Telegram-only subscription was removed
    previous_chat: int | None = None  # the chat that managed it until now (to be told)


async def link_chat(session: AsyncSession, subscriber_id: int, chat_id: int) -> LinkResult | None:
    """Attach ``chat_id`` to an existing (email) subscriber; None if it no longer exists.

    If the chat already had its own subscriber, that one loses the chat: it is deleted when
    it has no email either (it would be an unreachable orphan), else it just keeps email.
    """
    sub = await session.get(SubscriberRow, subscriber_id)
    if sub is None:
        return None
    if sub.telegram_chat_id == chat_id:
        if not sub.telegram_active:
            sub.telegram_active = True
            session.add(sub)
        return LinkResult(sub, already=True, replaced=False)
    replaced = False
    other = await subscriber_for_chat(session, chat_id)
    if other is not None:
        if other.email:
            other.telegram_chat_id = None
            other.telegram_active = False
            session.add(other)
        else:
            await session.delete(other)
            replaced = True
        await session.flush()
    previous = sub.telegram_chat_id
    sub.telegram_chat_id = chat_id
    sub.telegram_active = True
    sub.link_version += 1  # control moved: every earlier link to it stops working
    session.add(sub)
    await session.flush()
    return LinkResult(sub, already=False, replaced=replaced, previous_chat=previous)


async def subscriber_by_public_id(session: AsyncSession, public_id: str) -> SubscriberRow | None:
    query = select(SubscriberRow).where(SubscriberRow.public_id == public_id)
    return (await session.exec(query)).first()


# --------------------------------------------------------------------------- email codes


async def put_email_code(
    session: AsyncSession, subscriber_id: int, email: str, code_hash: str, expires_at: datetime
) -> None:
    row = await session.get(EmailCodeRow, subscriber_id)
    if row is None:
        row = EmailCodeRow(
            subscriber_id=subscriber_id, email=email, code_hash=code_hash, expires_at=expires_at
        )
    else:
        row.email, row.code_hash, row.expires_at = email, code_hash, expires_at
        row.attempts, row.created_at = 0, utcnow()
    session.add(row)


async def email_code(session: AsyncSession, subscriber_id: int) -> EmailCodeRow | None:
    return await session.get(EmailCodeRow, subscriber_id)


async def drop_email_code(session: AsyncSession, subscriber_id: int) -> None:
    await session.exec(delete(EmailCodeRow).where(col(EmailCodeRow.subscriber_id) == subscriber_id))


# --------------------------------------------------------------------------- flood counter


@dataclass(frozen=True, slots=True)
class Hit:
    count: int  # updates from this user in the current window, this one included
    warn: bool  # this is the first update over the limit: tell the user once


async def throttle_hit(
    session: AsyncSession, user_id: int, now: datetime, window: timedelta, limit: int
) -> Hit:
    """Count one update from ``user_id`` in a fixed window shared by every worker."""
    table = ChatThrottleRow.__table__  # type: ignore[attr-defined]
    cutoff = bindparam("cutoff", now - window, type_=UTCDateTime())
    moment = bindparam("moment", now, type_=UTCDateTime())
    stale = table.c.window_start < cutoff
    insert = _insert(session)
    stmt = insert(ChatThrottleRow).values(user_id=user_id, window_start=now, count=1, warned=False)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            "count": case((stale, 1), else_=table.c.count + 1).cast(Integer),
            "warned": case((stale, False), else_=table.c.warned).cast(Boolean),
            "window_start": case((stale, moment), else_=table.c.window_start),
        },
    ).returning(table.c.count)
    count = int((await session.exec(stmt)).scalar_one())
    if count <= limit:
        return Hit(count, warn=False)
    claimed = await session.exec(
        update(ChatThrottleRow)
        .where(col(ChatThrottleRow.user_id) == user_id, col(ChatThrottleRow.warned).is_(False))
        .values(warned=True)
    )
    return Hit(count, warn=bool(claimed.rowcount))


# --------------------------------------------------------------------------- data rights


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in skip:
            continue
        value = getattr(obj, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


async def export_subscriber(session: AsyncSession, subscriber_id: int) -> dict[str, Any]:
    """Everything stored about one subscriber, as JSON-ready data (for ``/mydata``)."""
    sub = await session.get(SubscriberRow, subscriber_id)
    if sub is None:
        return {}
    profile = (
        await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == subscriber_id))
    ).first()
    feedback = await session.exec(
        select(FeedbackRow, NoticeRow.title)
        .join(NoticeRow, col(NoticeRow.id) == col(FeedbackRow.notice_id))
        .where(FeedbackRow.subscriber_id == subscriber_id)
        .order_by(col(FeedbackRow.id))
    )
    deliveries = await session.exec(
        select(DeliveryRow, NoticeRow.title)
        .join(NoticeRow, col(NoticeRow.id) == col(DeliveryRow.notice_id))
        .where(DeliveryRow.subscriber_id == subscriber_id)
        .order_by(col(DeliveryRow.id))
    )
    code = await session.get(EmailCodeRow, subscriber_id)
    state = (
        await session.get(ChatStateRow, sub.telegram_chat_id)
        if sub.telegram_chat_id is not None
        else None
    )
    data: dict[str, Any] = {
        "subscriber": _row(sub),
        "profile": _row(profile) if profile is not None else None,
        "feedback": [{**_row(f), "notice_title": t} for f, t in feedback],
        "deliveries": [
            {**_row(d, skip=("claimed_by", "claimed_until")), "notice_title": t}
            for d, t in deliveries
        ],
        "pending_email_verification": (
            _row(code, skip=("code_hash",)) if code is not None else None
        ),
        "conversation": _row(state) if state is not None else None,
    }
    data["enquiries"] = await export_for_subscriber(session, subscriber_id)
    data["open_to_partners"] = await export_interest(session, subscriber_id)
    forecasts = await session.exec(
        select(ForecastShownRow)
        .where(col(ForecastShownRow.subscriber_id) == subscriber_id)
        .order_by(col(ForecastShownRow.id))
    )
    data["retender_forecasts_shown"] = [_row(f) for f in forecasts]
    return data


async def forget_chat(session: AsyncSession, chat_id: int | None, user_id: int | None) -> int:
    """Delete every row about a chat that is not tied to a subscription: its questions to
    advisers (with their messages, events, timers and outgoing messages), the conversation
    in progress, the flood counter, messages still waiting to go to it, and the webhook
    updates it sent that are already handled. Returns how many enquiries went."""
    gone = 0
    if chat_id is not None:
        gone = await forget_enquirer(session, chat_id=chat_id)
        await clear_state(session, chat_id)
        await session.exec(delete(MessageRow).where(col(MessageRow.chat_id) == chat_id))
        await session.exec(
            delete(TelegramInboxRow).where(
                col(TelegramInboxRow.chat_key) == chat_id, col(TelegramInboxRow.status) != "pending"
            )
        )
    if user_id is not None:
        await session.exec(delete(ChatThrottleRow).where(col(ChatThrottleRow.user_id) == user_id))
    return gone


async def forget_subscriber(
    session: AsyncSession, subscriber_id: int, chat_id: int | None, user_id: int | None
) -> bool:
    """Delete the subscriber and every row about them; False if already gone."""
    sub = await session.get(SubscriberRow, subscriber_id)
    await forget_chat(session, chat_id, user_id)
    if sub is None:
        return False
    if sub.email:  # questions sent by email before the address was subscribed
        await forget_enquirer(session, email=sub.email)
    # Explicit deletes first (the database cascades too, but SQLite only with its pragma on).
    await session.exec(delete(DeliveryRow).where(col(DeliveryRow.subscriber_id) == subscriber_id))
    await session.exec(delete(FeedbackRow).where(col(FeedbackRow.subscriber_id) == subscriber_id))
    await session.exec(
        delete(PartnerInterestRow).where(col(PartnerInterestRow.subscriber_id) == subscriber_id)
    )
    await session.exec(
        delete(ForecastShownRow).where(col(ForecastShownRow.subscriber_id) == subscriber_id)
    )
    await session.exec(delete(ProfileRow).where(col(ProfileRow.subscriber_id) == subscriber_id))
    await session.exec(delete(EmailCodeRow).where(col(EmailCodeRow.subscriber_id) == subscriber_id))
    await session.exec(delete(SubscriberRow).where(col(SubscriberRow.id) == subscriber_id))
    return True
