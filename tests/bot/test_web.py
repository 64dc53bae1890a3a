"""The web server through aiohttp's test client and once as a real server: unsubscribe
links (GET confirms, POST acts), forged and foreign tokens, old links after an id is
reused, /healthz, limits, and no token in any log line."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlmodel import select

from bot import tokens
from bot.app import App
from bot.config import config_from_dict
from bot.web.server import build_web_app, redact_path, start_web
from storage.db import Database
from storage.models import SubscriberRow
from storage.subscribers import SubscriberInput, upsert_subscriber

SECRET = "web-test-secret-key-1234"
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


@dataclass
class Web:
    client: TestClient[Any, Any]
    app: App

    async def subscriber(self, email: str) -> SubscriberRow:
        async with self.app.db.session() as session:
            sub_id, _ = await upsert_subscriber(
                session, SubscriberInput("S", email, None, "instant", {"keywords": ["x"]})
            )
            row = await session.get(SubscriberRow, sub_id)
            assert row is not None
            return row

    def url(self, sub: SubscriberRow, purpose: str = "unsub") -> str:
        return f"/unsubscribe/{self.app.services.signer.sign(purpose, sub.public_id)}"

    async def email_active(self, sub: SubscriberRow) -> bool:
        async with self.app.db.session() as session:
            row = await session.get(SubscriberRow, sub.id)
            return bool(row and row.email_active)


@pytest.fixture
async def web(database: Database) -> AsyncIterator[Web]:
    config = config_from_dict(
        {"database": {"url": database.url}, "web": {"secret_key": SECRET}}, env={}
    )
    async with App(config) as app:
        async with TestClient(TestServer(build_web_app(app.services))) as client:
            yield Web(client, app)


def check_headers(resp: aiohttp.ClientResponse) -> None:
    assert resp.headers["Content-Security-Policy"].startswith(CSP)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_get_shows_a_confirm_form_and_does_not_unsubscribe(web: Web) -> None:
    sub = await web.subscriber("jane@example.org")
    resp = await web.client.get(web.url(sub))
    assert resp.status == 200 and resp.content_type == "text/html"
    check_headers(resp)
    page = await resp.text()
    assert '<form method="post">' in page and "j***@example.org" in page
    assert (await web.client.head(web.url(sub))).status == 200
    assert await web.email_active(sub)


async def test_the_address_is_escaped_on_the_page(web: Web) -> None:
    sub = await web.subscriber("<b>a&b</b>@example.org")
    page = await (await web.client.get(web.url(sub))).text()
    assert "&lt;***@example.org" in page and "<b>" not in page.split("<body>")[1]


async def test_one_click_post_unsubscribes_and_is_idempotent(web: Web) -> None:
    sub = await web.subscriber("jane@example.org")
    for _ in range(2):
        resp = await web.client.post(
            web.url(sub),
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status == 200
        check_headers(resp)
        assert "You're unsubscribed" in html.unescape(await resp.text())
    assert not await web.email_active(sub)


async def test_form_post_unsubscribes(web: Web) -> None:
    sub = await web.subscriber("jane@example.org")
    resp = await web.client.post(web.url(sub), data={"confirm": "yes"})
    assert resp.status == 200 and "You're unsubscribed" in html.unescape(await resp.text())
    assert not await web.email_active(sub)


async def test_an_unknown_subscriber_gets_the_same_friendly_pages(web: Web) -> None:
    path = f"/unsubscribe/{web.app.services.signer.sign('unsub', 'NoSuchSubscriber')}"
    assert '<form method="post">' in await (await web.client.get(path)).text()
    post = await web.client.post(path, data="List-Unsubscribe=One-Click")
    assert post.status == 200 and "You're unsubscribed" in html.unescape(await post.text())


@pytest.mark.parametrize(
    "path",
    [
        "/unsubscribe/1.forged",
        "/unsubscribe/garbage",
        "/unsubscribe/%00",
        "/unsubscribe/" + "x" * 500,
        "/unsubscribe/" + tokens.sign("another secret", "unsub", 1),
    ],
)
async def test_forged_tokens_get_a_plain_400(web: Web, path: str) -> None:
    sub = await web.subscriber("jane@example.org")
    for method in ("GET", "POST"):
        resp = await web.client.request(method, path, data="List-Unsubscribe=One-Click")
        assert resp.status == 400
        check_headers(resp)
        page = await resp.text()
        assert "This link is not valid" in page and "secret" not in page.lower()
    assert await web.email_active(sub)


async def test_a_token_for_another_purpose_is_refused(web: Web) -> None:
    sub = await web.subscriber("jane@example.org")
    resp = await web.client.post(web.url(sub, purpose="link"), data="List-Unsubscribe=One-Click")
    assert resp.status == 400 and await web.email_active(sub)


async def test_an_old_link_never_reaches_whoever_gets_a_reused_id(web: Web) -> None:
    """SQLite hands a deleted subscriber's id to the next one (and a restored PostgreSQL
    sequence can): links name the random
    public id, and old-style links (naming the integer id) only reach subscribers who
    existed when links changed."""
    first = await web.subscriber("first@example.org")
    old_link = web.url(first)
    async with web.app.db.session() as session:
        await session.delete(await session.get(SubscriberRow, first.id))
        if session.bind.dialect.name == "postgresql":  # a sequence never goes back by itself
            await session.exec(
                text("SELECT setval(pg_get_serial_sequence('subscriber', 'id'), :id, false)"),
                params={"id": first.id},
            )
    second = await web.subscriber("second@example.org")
    assert second.id == first.id  # the id was reused
    await web.client.post(old_link, data="List-Unsubscribe=One-Click")
    assert await web.email_active(second)
    legacy = f"/unsubscribe/{tokens.sign(SECRET, 'unsub', second.id or 0)}"
    await web.client.post(legacy, data="List-Unsubscribe=One-Click")
    assert await web.email_active(second)  # a new subscriber: old-style links don't reach them


async def test_old_style_links_still_work_for_subscribers_from_before(web: Web) -> None:
    sub = await web.subscriber("early@example.org")
    async with web.app.db.session() as session:
        row = (await session.exec(select(SubscriberRow).where(SubscriberRow.id == sub.id))).one()
        row.legacy_links = True  # what migration 0006 sets on rows that existed
        session.add(row)
    legacy = f"/unsubscribe/{tokens.sign(SECRET, 'unsub', sub.id or 0)}"
    resp = await web.client.post(legacy, data="List-Unsubscribe=One-Click")
    assert resp.status == 200 and not await web.email_active(sub)


async def test_healthz_reports_the_database_and_the_outboxes(web: Web) -> None:
    resp = await web.client.get("/healthz")
    assert resp.status == 200
    check_headers(resp)
    report = await resp.json()
    assert report["ok"] is True and report["database"] == "ok"
    assert report["outboxes"]["alerts"] == {"backlog": 0, "oldest_due_seconds": 0}
    working = web.app.services.db
    web.app.services.db = Database("postgresql://bestbot@127.0.0.1:1/unreachable")
    try:
        resp = await web.client.get("/healthz")
        report = await resp.json()
        assert resp.status == 503 and report["ok"] is False
        assert report["database"].startswith("unreachable")
    finally:
        await web.app.services.db.dispose()
        web.app.services.db = working


async def test_other_paths_and_methods(web: Web) -> None:
    sub = await web.subscriber("jane@example.org")
    resp = await web.client.get("/")
    assert resp.status == 404
    check_headers(resp)
    assert (await web.client.put(web.url(sub))).status == 405
    assert (await web.client.post("/healthz")).status == 405


async def test_large_bodies_are_refused(web: Web) -> None:
    sub = await web.subscriber("jane@example.org")
    resp = await web.client.post(web.url(sub), data="x" * (2 * 1024 * 1024))
    assert resp.status == 413 and await web.email_active(sub)


def test_redact_path() -> None:
    assert redact_path("/unsubscribe/12.abcDEF_-") == "/unsubscribe/…"
    assert redact_path("/enquiry/rate/abc.0.0.x") == "/enquiry/rate/…"
    assert redact_path("/healthz") == "/healthz"


async def test_real_server_never_logs_tokens(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_from_dict(
        {"database": {"url": database.url}, "web": {"secret_key": SECRET}}, env={}
    )
    async with App(config) as app:
        runner = await start_web(build_web_app(app.services), "127.0.0.1", 0)
        try:
            async with app.db.session() as session:
                sub_id, _ = await upsert_subscriber(
                    session, SubscriberInput("S", "j@example.org", None, "instant", {})
                )
                sub = await session.get(SubscriberRow, sub_id)
            assert sub is not None
            host, port = runner.addresses[0][:2]
            token = app.services.signer.sign("unsub", sub.public_id)
            with caplog.at_level(logging.DEBUG):
                async with aiohttp.ClientSession() as session:
                    async with session.post(
                        f"http://{host}:{port}/unsubscribe/{token}",
                        data="List-Unsubscribe=One-Click",
                    ) as resp:
                        assert resp.status == 200
                    async with session.get(f"http://{host}:{port}/unsubscribe/{token}x") as resp:
                        assert resp.status == 400
        finally:
            await runner.cleanup()
    access = [r.getMessage() for r in caplog.records if r.name == "bot.web.access"]
    assert any("POST /unsubscribe/… 200" in line for line in access)
    assert all(token not in r.getMessage() for r in caplog.records)
    assert all(token[-10:] not in r.getMessage() for r in caplog.records)
