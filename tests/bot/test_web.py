"""The HTTP server: unsubscribe (GET shows, POST acts), forged tokens, health, headers, logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.tokens import sign
from bot.web import build_web_app, redact_path, start_web

SECRET = "web-test-secret"


class Store:
    def __init__(self) -> None:
        self.subscribed = {1: "j***@example.org", 2: "<b>a&b</b>@example.org"}
        self.calls: list[int] = []
        self.fail = False

    async def unsubscribe(self, subscriber_id: int) -> bool:
        self.calls.append(subscriber_id)
        if self.fail:
            raise RuntimeError("database down")
        return self.subscribed.pop(subscriber_id, None) is not None

    async def describe(self, subscriber_id: int) -> str | None:
        return self.subscribed.get(subscriber_id)


class Health:
    def __init__(self) -> None:
        self.report: dict[str, Any] = {"ok": True, "outbox_pending": 3}
        self.fail = False

    async def __call__(self) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("secret detail")
        return self.report


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def health() -> Health:
    return Health()


@pytest.fixture
async def client(store: Store, health: Health) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_web_app(secret=SECRET, store=store, health=health)
    async with TestClient(TestServer(app)) as c:
        yield c


def url(subscriber_id: int, purpose: str = "unsub") -> str:
    return f"/unsubscribe/{sign(SECRET, purpose, subscriber_id)}"


CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


def check_headers(resp: aiohttp.ClientResponse) -> None:
    assert resp.headers["Content-Security-Policy"].startswith(CSP)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_get_shows_a_confirm_form_and_does_not_unsubscribe(
    client: TestClient[Any, Any], store: Store
) -> None:
    resp = await client.get(url(1))
    assert resp.status == 200
    assert resp.content_type == "text/html"
    check_headers(resp)
    page = await resp.text()
    assert '<form method="post">' in page
    assert "j***@example.org" in page
    assert store.calls == []
    head = await client.head(url(1))
    assert head.status == 200
    assert store.calls == []


async def test_description_is_escaped(client: TestClient[Any, Any]) -> None:
    page = await (await client.get(url(2))).text()
    assert "&lt;b&gt;a&amp;b&lt;/b&gt;@example.org" in page
    assert "<b>a&b</b>" not in page


async def test_one_click_post_unsubscribes_and_is_idempotent(
    client: TestClient[Any, Any], store: Store
) -> None:
    for _ in range(2):
        resp = await client.post(
            url(1),
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status == 200
        check_headers(resp)
        assert "You're unsubscribed" in (await resp.text())
    assert store.calls == [1, 1]
    assert 1 not in store.subscribed


async def test_form_post_unsubscribes(client: TestClient[Any, Any], store: Store) -> None:
    resp = await client.post(url(2), data={"confirm": "yes"})
    assert resp.status == 200
    assert "You're unsubscribed" in await resp.text()
    assert store.calls == [2]


async def test_unknown_subscriber_gets_the_same_friendly_pages(
    client: TestClient[Any, Any], store: Store
) -> None:
    get = await client.get(url(99))
    assert get.status == 200
    assert '<form method="post">' in await get.text()
    post = await client.post(url(99), data="List-Unsubscribe=One-Click")
    assert post.status == 200
    assert "You're unsubscribed" in await post.text()
    assert store.calls == [99]


@pytest.mark.parametrize(
    "path",
    [
        "/unsubscribe/1.forged",
        "/unsubscribe/garbage",
        "/unsubscribe/%00",
        "/unsubscribe/" + "x" * 500,
        "/unsubscribe/" + sign("another secret", "unsub", 1),
    ],
)
async def test_forged_tokens_get_a_plain_400(
    client: TestClient[Any, Any], store: Store, path: str
) -> None:
    for method in ("GET", "POST"):
        resp = await client.request(method, path, data="List-Unsubscribe=One-Click")
        assert resp.status == 400
        check_headers(resp)
        page = await resp.text()
        assert "This link is not valid" in page
        assert "secret" not in page.lower()
    assert store.calls == []


async def test_a_token_for_another_purpose_is_refused(
    client: TestClient[Any, Any], store: Store
) -> None:
    resp = await client.post(url(1, purpose="link"), data="List-Unsubscribe=One-Click")
    assert resp.status == 400
    assert store.calls == []


async def test_store_failure_is_a_retryable_page(
    client: TestClient[Any, Any], store: Store
) -> None:
    store.fail = True
    resp = await client.post(url(1), data="List-Unsubscribe=One-Click")
    assert resp.status == 503
    assert "database down" not in await resp.text()


async def test_healthz(client: TestClient[Any, Any], health: Health) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"ok": True, "outbox_pending": 3}
    check_headers(resp)
    health.report = {"ok": False, "database": "unreachable"}
    resp = await client.get("/healthz")
    assert resp.status == 503
    assert (await resp.json())["database"] == "unreachable"
    health.fail = True
    resp = await client.get("/healthz")
    assert resp.status == 503
    assert await resp.json() == {"ok": False, "error": "health check failed"}


async def test_other_paths_and_methods(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/")
    assert resp.status == 404
    check_headers(resp)
    resp = await client.put(url(1))
    assert resp.status == 405
    check_headers(resp)
    resp = await client.post("/healthz")
    assert resp.status == 405


async def test_large_bodies_are_refused(client: TestClient[Any, Any], store: Store) -> None:
    resp = await client.post(url(1), data="x" * 100_000)
    assert resp.status == 413
    assert store.calls == []


def test_redact_path() -> None:
    assert redact_path("/unsubscribe/12.abcDEF_-") == "/unsubscribe/…"
    assert redact_path("/healthz") == "/healthz"


async def test_real_server_never_logs_tokens(
    store: Store, health: Health, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_web_app(secret=SECRET, store=store, health=health)
    runner = await start_web(app, "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        token = sign(SECRET, "unsub", 1)
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
    assert store.calls == [1]
    access = [r.getMessage() for r in caplog.records if r.name == "bot.web.access"]
    assert any("POST /unsubscribe/… 200" in line for line in access)
    assert all(token not in r.getMessage() for r in caplog.records)
    assert all(token[-10:] not in r.getMessage() for r in caplog.records)
