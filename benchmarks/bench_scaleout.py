"""Scale-out on one PostgreSQL: webhook inbox throughput by number of workers, and the shared
send budget against per-process pacing — each against its baseline in the same run.

    .venv/bin/python benchmarks/bench_scaleout.py [--quick] [--database-url URL]

1. **Updates.** The fake Bot API pushes ``chats × per_chat`` updates (``/privacy``, answered
   with one message) to bestbot's web server; 1, 2 and 4 inbox workers (each its own App and
   PTB application, as separate worker processes would have) handle them. Baseline: one
   process by long polling. Checked each time: every update handled once, each chat in order.
2. **Sending.** Three workers send 90 messages to 90 chats at Telegram's real limits, paced
   by the shared budget (``SharedRateLimiter``) or each by its own ``AIORateLimiter``
   (baseline): messages per second and 429s received.

Needs PostgreSQL (default ``postgresql://postgres@127.0.0.1:5432/test``; each run uses a
private schema it drops afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

import psycopg  # noqa: E402
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot  # noqa: E402

from bot import routes  # noqa: E402
from bot.app import App, channels  # noqa: E402
from bot.config import Config, config_from_dict  # noqa: E402
from bot.telegram.application import start_receiving  # noqa: E402
from bot.telegram.budget import SharedRateLimiter  # noqa: E402
from bot.telegram.webhook import InboxWorker, register_webhook  # noqa: E402
from bot.web.server import build_web_app, start_web  # noqa: E402
from storage.db import Database, upgrade_async  # noqa: E402
from storage.inbox import handled_order  # noqa: E402
from tests.fakes.flood import FloodLimits  # noqa: E402
from tests.fakes.harness import register_fake, running_bot, settle  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def private_schema(base: str) -> AsyncIterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(fake: FakeTelegram, url: str, *, webhook: bool, port: int = 0) -> Config:
    telegram: dict[str, object] = {"token": fake.token, "base_url": fake.base_url}
    if webhook:
        telegram |= {"mode": "webhook", "webhook_secret": "bench-secret"}
    return config_from_dict(
        {
            "database": {"url": url},
            "telegram": telegram,
            "web": {
                "host": "127.0.0.1",
                "port": port or 8080,
                "public_url": "https://bot.bench.example",
                "secret_key": "b" * 32,
            },
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )


def _send_updates(fake: FakeTelegram, chats: list[int], per_chat: int) -> None:
    for _ in range(per_chat):
        for uid in chats:
            fake.user_sends(uid, "/privacy")


async def _all_replied(fake: FakeTelegram, chats: list[int], per_chat: int) -> None:
    for uid in chats:
        await fake.wait_for_messages(uid, per_chat, timeout=300)


async def polling_baseline(base: str, chats: list[int], per_chat: int) -> dict[str, object]:
    async with private_schema(base) as url, FakeTelegram(limits=FloodLimits.off()) as fake:
        for uid in chats:
            fake.add_user(uid)
        register_fake(fake)
        async with running_bot(_config(fake, url, webhook=False)) as running:
            started = time.perf_counter()
            _send_updates(fake, chats, per_chat)
            await _all_replied(fake, chats, per_chat)
            await settle(fake, running, 300)
            seconds = time.perf_counter() - started
    total = len(chats) * per_chat
    return {
        "setup": "long polling, 1 process",
        "updates": total,
        "seconds": seconds,
        "per_second": total / seconds,
        "handled_once": True,
        "in_order": True,
    }


async def webhook_fleet(
    base: str, chats: list[int], per_chat: int, workers: int
) -> dict[str, object]:
    async with private_schema(base) as url, FakeTelegram(limits=FloodLimits.off()) as fake:
        for uid in chats:
            fake.add_user(uid)
        await upgrade_async(url)
        port = _port()
        config = _config(fake, url, webhook=True, port=port)
        stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            web = await stack.enter_async_context(App(config, worker_id="web"))
            runner = await start_web(build_web_app(web.services), "127.0.0.1", port)
            stack.push_async_callback(runner.cleanup)
            fake.deliver_webhooks_to = f"http://127.0.0.1:{port}"
            inboxes, tasks = [], []
            for n in range(workers):
                bot_app, tg, _ = await stack.enter_async_context(channels(config, receive=True))
                assert bot_app is not None
                app = await stack.enter_async_context(
                    App(config, telegram=tg, worker_id=f"w{n}", bot_application=bot_app)
                )
                routes.install(bot_app, app.services)
                await start_receiving(bot_app, polling=False)
                await register_webhook(bot_app, app.services)
                inbox = InboxWorker(bot_app, app.services, idle_pause=0.02)
                inboxes.append(inbox)
                tasks.append(asyncio.create_task(inbox.run(stop)))
            started = time.perf_counter()
            _send_updates(fake, chats, per_chat)
            await _all_replied(fake, chats, per_chat)
            seconds = time.perf_counter() - started
            stop.set()
            await asyncio.gather(*tasks)
            db = Database(url)
            try:
                async with db.session() as session:
                    order = await handled_order(session)
            finally:
                await db.dispose()
    total = len(chats) * per_chat
    in_order = all(
        [u for c, u, _ in order if c == uid] == sorted(u for c, u, _ in order if c == uid)
        for uid in chats
    )
    return {
        "setup": f"webhook, {workers} worker(s)",
        "updates": total,
        "seconds": seconds,
        "per_second": total / seconds,
        "handled_once": len(order) == total,
        "in_order": in_order,
        "by_worker": [w.handled for w in inboxes],
    }


async def sending(base: str, shared: bool) -> dict[str, object]:
    chats = list(range(9001, 9091))
    async with private_schema(base) as url, FakeTelegram(limits=FloodLimits()) as fake:
        await upgrade_async(url)
        for uid in chats:
            fake.add_user(uid)
        limiters: list[BaseRateLimiter[int]] = [
            SharedRateLimiter(url) if shared else AIORateLimiter(overall_max_rate=29, max_retries=8)
            for _ in range(3)
        ]
        bots = [ExtBot(fake.token, base_url=fake.base_url, rate_limiter=lim) for lim in limiters]
        for bot in bots:
            await bot.initialize()
        started = time.perf_counter()
        await asyncio.gather(
            *(bots[n % 3].send_message(chat, f"alert {chat}") for n, chat in enumerate(chats))
        )
        seconds = time.perf_counter() - started
        for bot in bots:
            await bot.shutdown()
    return {
        "setup": "shared budget" if shared else "per-process AIORateLimiter (baseline)",
        "messages": len(fake.sent),
        "seconds": seconds,
        "per_second": len(fake.sent) / seconds,
        "429s": fake.flood_errors,
    }


async def run(base: str, quick: bool) -> dict[str, object]:
    chats = list(range(6001, 6001 + (10 if quick else 40)))
    per_chat = 3 if quick else 10
    updates = [await polling_baseline(base, chats, per_chat)]
    for workers in (1, 2) if quick else (1, 2, 4):
        updates.append(await webhook_fleet(base, chats, per_chat, workers))
    send = [await sending(base, shared=False), await sending(base, shared=True)]
    return {
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}",
        "updates": updates,
        "sending": send,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer chats and workers")
    parser.add_argument(
        "--database-url", default=os.environ.get("BESTBOT_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args(argv)
    result: Any = asyncio.run(run(args.database_url, args.quick))
    print(json.dumps(result, indent=2))
    ok = all(u["handled_once"] and u["in_order"] for u in result["updates"])
    shared = result["sending"][1]
    ok = ok and shared["429s"] == 0 and shared["messages"] == 90
    print("\nOK" if ok else "\nFAILED: an update was lost, doubled or out of order, or a 429")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
