"""Connecting the small web server (unsubscribe, health) to the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import select

from storage.models import FeedCursorRow, SubscriberRow
from storage.subscribers import mask_email, unsubscribe_email

if TYPE_CHECKING:
    from bot.app import Service


class DatabaseUnsubscribeStore:
    """The web server's view of subscribers: unsubscribe and a masked address."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def unsubscribe(self, subscriber_id: int) -> bool:
        assert self.service.db is not None
        async with self.service.db.session() as session:
            return await unsubscribe_email(session, subscriber_id)

    async def describe(self, subscriber_id: int) -> str | None:
        assert self.service.db is not None
        async with self.service.db.session() as session:
            sub = await session.get(SubscriberRow, subscriber_id)
            return mask_email(sub.email) if sub else None


def health_check(service: Service) -> Any:
    async def health() -> dict[str, Any]:
        if service.db is None:
            return {"ok": False, "database": "not open"}
        try:
            async with service.db.session() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                cursors = (await session.exec(select(FeedCursorRow))).all()
        except Exception as exc:
            return {"ok": False, "database": type(exc).__name__}
        feeds = {
            c.feed: {
                "last_poll_at": c.last_poll_at.isoformat() if c.last_poll_at else None,
                "last_error": c.last_error,
            }
            for c in cursors
        }
        return {"ok": True, "database": "ok", "feeds": feeds}

    return health


@asynccontextmanager
async def web_server(service: Service) -> AsyncIterator[None]:
    """Serve ``[web]`` for the life of the block."""
    from bot.web import build_web_app, start_web

    web = service.config.web
    app = build_web_app(
        secret=service.config.secret_key,
        store=DatabaseUnsubscribeStore(service),
        health=health_check(service),
    )
    if service.enquiries is not None:
        from bot.enquiries.web import add_rating_routes

        add_rating_routes(app, service.enquiries)
    runner = await start_web(app, web.host, web.port)
    try:
        yield
    finally:
        await runner.cleanup()
