"""One user's flood must not stall everybody (issue #10.4).

    .venv/bin/python benchmarks/bench_flood.py [--quick]

One user sends 100 commands at once; straight after, 20 other users send one command each.
Measured: each other user's reply time (from their command to the bot's answer), median and
worst, through the real PTB Application and handlers against the fake Bot API (Telegram's
flood limits scaled ×20, SQLite). bestbot handles chats concurrently and each chat in order
(``PerChatUpdateProcessor``); the baseline in the same run is one update at a time (PTB's
default). Target: median and worst under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from telegram.ext import SimpleUpdateProcessor  # noqa: E402

import bot.telegram.application as application  # noqa: E402
from bot.config import config_from_dict  # noqa: E402
from storage.db import upgrade_async  # noqa: E402
from tests.fakes.flood import FloodLimits  # noqa: E402
from tests.fakes.harness import register_fake, running_bot  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

PER_CHAT = application.PerChatUpdateProcessor
FLOODER = 7000
OTHERS = list(range(7001, 7021))


async def one_run(per_chat: bool, flood: int) -> dict[str, Any]:
    # The baseline swaps in PTB's own processor with one slot: updates strictly in arrival
    # order, one at a time (PTB's default), so everybody queues behind the flood.
    application.PerChatUpdateProcessor = (  # type: ignore[misc]
        PER_CHAT if per_chat else (lambda _n: SimpleUpdateProcessor(1))
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'flood.sqlite3'}"
        await upgrade_async(url)
        async with FakeTelegram(limits=FloodLimits().scaled(20)) as fake:
            for uid in (FLOODER, *OTHERS):
                fake.add_user(uid, f"User {uid}")
            register_fake(fake)
            config = config_from_dict(
                {
                    "database": {"url": url},
                    "telegram": {"token": fake.token, "base_url": fake.base_url},
                    "web": {"secret_key": "f" * 32},
                    "alerts": {"quiet_hours": "off"},
                },
                env={},
            )
            async with running_bot(config):
                for _ in range(flood):
                    fake.user_sends(FLOODER, "/help")
                sent_at = {}
                for uid in OTHERS:
                    sent_at[uid] = time.monotonic()
                    fake.user_sends(uid, "/privacy")
                waits = []
                for uid in OTHERS:
                    await fake.wait_for_messages(uid, 1, timeout=300)
                    waits.append(_answered_at(fake, uid) - sent_at[uid])
    return {
        "setup": "per-chat concurrent (bestbot)" if per_chat else "one at a time (baseline)",
        "median_s": statistics.median(waits),
        "worst_s": max(waits),
    }


def _answered_at(fake: FakeTelegram, chat: int) -> float:
    """When the fake accepted the bot's reply (time.monotonic, the fake's clock)."""
    for record in fake.requests:
        if (
            record.method == "sendMessage"
            and record.status == 200
            and str(record.params.get("chat_id")) == str(chat)
        ):
            return record.at
    raise AssertionError(f"no reply to {chat}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a flood of 30 instead of 100")
    args = parser.parse_args(argv)
    flood = 30 if args.quick else 100
    baseline = asyncio.run(one_run(False, flood))
    ours = asyncio.run(one_run(True, flood))
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "flood": flood,
        "others": len(OTHERS),
        "runs": [baseline, ours],
    }
    print(json.dumps(result, indent=2))
    ok = ours["median_s"] < 2.0 and ours["worst_s"] < 2.0
    print("\nOK" if ok else "\nFAILED: other users waited 2 s or more")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
