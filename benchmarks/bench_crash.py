"""Crash safety of the outbox: ``kill -9`` a dispatching worker, restart, count lost and repeated.

    .venv/bin/python benchmarks/bench_crash.py              # 5 runs of 400 alerts (about 2 min)
    .venv/bin/python benchmarks/bench_crash.py --quick      # 2 runs of 90 alerts, for tests

Each run queues one alert for each of ``--alerts`` subscribers in a SQLite file database and
starts the fake Bot API (``tests.fakes.FakeTelegram``, Telegram's limits) in this process. A
worker runs in a *separate process* (this file with ``--worker``): the real ``Courier`` draining
the ``AlertOutbox`` (wired by ``bot.app.build_services``) through ``TelegramSender`` and the PTB
``Bot`` with ``AIORateLimiter`` (opened by ``bot.app.channels``). Once the
fake has received a random number of messages the worker gets ``SIGKILL``; after its claim
lease (``--lease``, short) has expired a fresh worker finishes the job.

At the kill it records, from the fake and the database:

* ``delivered, unmarked``: chats that got their message but whose row is not ``sent``: these
  are exactly the messages a restart must repeat (the in-flight ones);
* ``claimed, unmarked``: rows claimed by the dead worker and not marked sent (a loose bound:
  the courier claims a whole batch at once);
* the courier's ``concurrency``: no more messages than this can be between "Telegram
  accepted it" and "marked sent" at any moment, so it bounds the repeats.

It asserts, per run: zero lost (every chat got the alert, every row ``sent``), duplicates no
more than the concurrency bound, and duplicates equal to ``delivered, unmarked``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

SELF = Path(__file__).resolve()
REPO = SELF.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import func  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from benchmarks.bench_delivery import (  # noqa: E402
    Population,
    alert_delivery,
    count_messages,
    drain,
    fake_user_setup,
    machine,
    populate,
)
from bot.app import channels  # noqa: E402
from bot.config import config_from_dict  # noqa: E402
from bot.delivery.courier import CourierSettings  # noqa: E402
from storage.db import Database, upgrade_async  # noqa: E402
from storage.models import DeliveryRow  # noqa: E402
from storage.outbox import PENDING, SENT  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.fakes.flood import FloodLimits  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

# ------------------------------------------------------------------------------- the worker


async def _work(args: argparse.Namespace) -> dict[str, Any]:
    config = config_from_dict(
        {
            "database": {"url": args.db},
            "telegram": {"token": args.token, "base_url": args.bot_url},
            "alerts": {"quiet_hours": "off"},
            "web": {"secret_key": "c" * 32},
        },
        env={},
    )
    settings = replace(CourierSettings(), lease=timedelta(seconds=args.lease))
    if args.concurrency:
        settings = replace(settings, concurrency=args.concurrency)
    db = Database(args.db)
    try:
        async with channels(config, receive=False) as (_app, sender, _email):
            assert sender is not None
            delivery = alert_delivery(
                config, db, sender, worker_id=f"crash-worker-{os.getpid()}", settings=settings
            )
            report = await drain(delivery, db, give_up_after=300)
    finally:
        await db.dispose()
    return asdict(report)


def worker_main(args: argparse.Namespace) -> int:
    """The separate dispatching process the parent kills."""
    report = asyncio.run(_work(args))
    print(json.dumps(report), flush=True)
    return 0


# ------------------------------------------------------------------------------- the parent


@dataclass
class RunResult:
    run: int
    alerts: int
    kill_after: int  # the kill was sent once the fake had this many messages
    received_at_kill: int  # messages the fake had when the worker was dead
    delivered_unmarked: int  # in flight at the kill: delivered, row not marked sent
    claimed_unmarked: int  # rows the dead worker had claimed and not marked
    bound: int  # the courier's concurrency
    lost: int
    duplicates: int
    rows_not_sent: int
    lease_wait: float  # seconds waited for the dead worker's claims to expire
    seconds: float  # whole run: first worker start to second worker done

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.rows_not_sent == 0
            and self.duplicates <= self.bound
            and self.duplicates == self.delivered_unmarked
        )


@dataclass
class Options:
    alerts: int = 400
    runs: int = 5
    quick: bool = False
    lease: float = 2.0
    concurrency: int | None = None
    seed: int = 20260401


async def _row_states(db: Database) -> dict[int, tuple[str, bool]]:
    """delivery id -> (status, claimed)."""
    async with db.session() as session:
        rows = await session.exec(
            select(DeliveryRow.id, DeliveryRow.status, DeliveryRow.claimed_until)
        )
        return {int(rid): (status, until is not None) for rid, status, until in rows.all() if rid}


async def _claims_expire_in(db: Database) -> float:
    async with db.session() as session:
        latest = (
            await session.exec(
                select(func.max(DeliveryRow.claimed_until)).where(
                    DeliveryRow.status == PENDING, col(DeliveryRow.claimed_until).is_not(None)
                )
            )
        ).one()
    return max((latest - utcnow()).total_seconds(), 0.0) if latest else 0.0


async def _start_worker(
    fake: FakeTelegram, url: str, opts: Options, log: Path
) -> asyncio.subprocess.Process:
    cmd = [
        sys.executable,
        str(SELF),
        "--worker",
        "--db",
        url,
        "--bot-url",
        fake.base_url,
        "--token",
        fake.token,
        "--lease",
        str(opts.lease),
    ]
    if opts.concurrency:
        cmd += ["--concurrency", str(opts.concurrency)]
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=err, cwd=str(REPO)
        )


async def one_run(
    run_no: int, opts: Options, rng: random.Random, workdir: Path, bound: int
) -> RunResult:
    url = f"sqlite:///{workdir / f'crash-{run_no}.sqlite3'}"
    log = workdir / f"worker-{run_no}.log"
    await upgrade_async(url)
    db = Database(url)
    try:
        pop: Population = await populate(db, opts.alerts)
        limits = FloodLimits().scaled(10) if opts.quick else FloodLimits()
        margin = max(1, opts.alerts // 20)
        kill_after = rng.randint(margin, opts.alerts - margin)
        async with FakeTelegram(limits=limits) as fake:
            fake_user_setup(fake, pop.chats)
            start = time.perf_counter()
            first = await _start_worker(fake, url, opts, log)
            try:
                await fake.wait_until(
                    lambda: len(fake.sent) >= kill_after or first.returncode is not None,
                    timeout=120,
                    what=f"{kill_after} messages before the kill",
                )
            finally:
                if first.returncode is None:
                    os.kill(first.pid, signal.SIGKILL)
                await first.wait()
            if first.returncode != -signal.SIGKILL:
                raise RuntimeError(f"worker ended before the kill: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.3)  # let the fake finish any request it had fully received
            received = Counter(m.chat_id for m in fake.sent)
            states = await _row_states(db)
            delivered_unmarked = sum(
                1
                for chat, rid in pop.rows_by_chat.items()
                if received[chat] and states[rid][0] != SENT
            )
            claimed_unmarked = sum(1 for s, claimed in states.values() if s != SENT and claimed)
            lease_wait = await _claims_expire_in(db)
            await asyncio.sleep(lease_wait + 0.05)
            second = await _start_worker(fake, url, opts, log)
            rc = await second.wait()
            if rc != 0:
                raise RuntimeError(f"restarted worker failed ({rc}): {log.read_text()[-2000:]}")
            seconds = time.perf_counter() - start
            lost, duplicates, _ = count_messages(fake, pop.chats)
            final = await _row_states(db)
        return RunResult(
            run=run_no,
            alerts=opts.alerts,
            kill_after=kill_after,
            received_at_kill=sum(received.values()),
            delivered_unmarked=delivered_unmarked,
            claimed_unmarked=claimed_unmarked,
            bound=bound,
            lost=lost,
            duplicates=duplicates,
            rows_not_sent=sum(1 for s, _ in final.values() if s != SENT),
            lease_wait=lease_wait,
            seconds=seconds,
        )
    finally:
        await db.dispose()


async def run(opts: Options) -> list[RunResult]:
    rng = random.Random(opts.seed)
    bound = opts.concurrency or CourierSettings().concurrency
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        for run_no in range(1, opts.runs + 1):
            results.append(await one_run(run_no, opts, rng, Path(tmp), bound))
    return results


def print_table(opts: Options, results: list[RunResult]) -> None:
    limits = "Telegram x10 (quick)" if opts.quick else "Telegram"
    print(
        f"crash: {opts.runs} runs x {opts.alerts} alerts, SQLite file, fake Bot API at {limits} "
        f"limits, worker killed with SIGKILL, lease {opts.lease:g} s, seed {opts.seed}"
    )
    print(f"machine: {machine()}")
    header = (
        f"{'run':>3} {'kill at':>7} {'recv@kill':>9} {'in flight':>9} {'claimed':>7} "
        f"{'bound':>5} {'lost':>4} {'dups':>4} {'lease s':>7} {'run s':>6}  ok"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.run:>3} {r.kill_after:>7} {r.received_at_kill:>9} {r.delivered_unmarked:>9} "
            f"{r.claimed_unmarked:>7} {r.bound:>5} {r.lost:>4} {r.duplicates:>4} "
            f"{r.lease_wait:>7.2f} {r.seconds:>6.1f}  {'yes' if r.ok else 'NO'}"
        )
    print(
        "in flight = delivered but not marked sent at the kill; claimed = claimed by the dead "
        "worker and not marked; bound = courier concurrency"
    )
    total_dups = sum(r.duplicates for r in results)
    print(
        f"total: {sum(r.lost for r in results)} lost, {total_dups} duplicates in "
        f"{len(results)} kills (max {max((r.duplicates for r in results), default=0)} per kill)"
    )
    print("correctness:", "OK" if all(r.ok for r in results) else "FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2 runs of 90 alerts (tests)")
    parser.add_argument("--alerts", type=int, help="alerts per run (default 400, quick 90)")
    parser.add_argument("--runs", type=int, help="kills (default 5, quick 2)")
    parser.add_argument("--lease", type=float, default=2.0, help="claim lease in seconds")
    parser.add_argument("--concurrency", type=int, help="CourierSettings.concurrency override")
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    worker = parser.add_argument_group("worker process (started by the benchmark)")
    worker.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    worker.add_argument("--db", help=argparse.SUPPRESS)
    worker.add_argument("--bot-url", help=argparse.SUPPRESS)
    worker.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)
    opts = Options(
        alerts=args.alerts or (90 if args.quick else 400),
        runs=args.runs or (2 if args.quick else 5),
        quick=args.quick,
        lease=args.lease,
        concurrency=args.concurrency,
        seed=args.seed,
    )
    results = asyncio.run(run(opts))
    if args.json:
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in results], indent=2))
    else:
        print_table(opts, results)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
