"""Crash safety of the outbox: ``kill -9`` a delivering worker, restart, count lost and repeated.

    .venv/bin/python benchmarks/bench_crash.py              # 10 runs: 60 x 10 alerts, 2 kills each
    .venv/bin/python benchmarks/bench_crash.py --quick      # 1 run: 40 x 5 alerts, 2 kills
    .venv/bin/python benchmarks/bench_crash.py --subscribers 400 --per-subscriber 1 --runs 5

Each run queues ``--per-subscriber`` alerts (different real notices, each with its own link) for
each of ``--subscribers`` subscribers in a SQLite file database, subscriber by subscriber, so a
subscriber's alerts are claimed together and go out as one grouped message. The fake Bot API
(``tests.fakes.FakeTelegram``, Telegram's limits) runs in this process. A worker runs in a
*separate process* (this file with ``--worker``): the real ``Courier`` draining the
``AlertOutbox`` (wired by ``bot.app.build_services``) through ``TelegramSender`` and the PTB
``Bot`` with ``AIORateLimiter`` (opened by ``bot.app.channels``). Once the fake has received a
seeded random number of messages the worker gets ``SIGKILL``; after its claim lease
(``--lease``, short) has expired a fresh worker goes on, and is killed in turn, ``--kills``
times; the last worker finishes the job.

At each kill it records, from the fake and the database:

* ``in flight``: messages Telegram accepted whose id no ``sent`` row carries as its
  ``message_ref`` (and which no earlier kill left behind): exactly the messages a restart must
  repeat, with the alerts they showed (read off the message's links);
* ``claimed, unmarked``: rows claimed by the dead worker and not marked sent (a loose bound:
  the courier claims a whole batch at once);
* the courier's ``concurrency``: no more messages than this can be between "Telegram
  accepted it" and "marked sent" at any moment, so it bounds the repeats.

It asserts, per run: zero lost (every row ``sent``, every alert shown in its chat, and each
row's ``message_ref`` the message that showed it), at most ``concurrency`` messages in flight
per kill, and the repeats equal to what was in flight: repeated messages = in-flight messages,
and repeated alerts = the alerts those messages showed.
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
    delivered,
    drain,
    fake_user_setup,
    machine,
    populate,
    tally,
    wrong_refs,
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
class Kill:
    after: int  # the kill was sent once the fake had this many messages
    received: int  # messages the fake had once the worker was dead
    in_flight: int  # messages accepted at the kill that no sent row refers to (this kill's)
    in_flight_alerts: int  # alerts those messages showed
    claimed_unmarked: int  # rows the dead worker had claimed and not marked
    lease_wait: float  # seconds waited for the dead worker's claims to expire


@dataclass
class RunResult:
    run: int
    subscribers: int
    alerts: int
    kills: list[Kill]
    bound: int  # the courier's concurrency
    messages: int  # messages the fake accepted in the whole run
    lost: int  # alerts never shown, rows not sent, or rows whose ref is not their message
    repeated_messages: int  # accepted messages no sent row refers to
    duplicates: int  # extra showings of an alert
    rows_not_sent: int
    seconds: float  # whole run: first worker start to last worker done

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.rows_not_sent == 0
            and all(k.in_flight <= self.bound for k in self.kills)
            and self.repeated_messages == sum(k.in_flight for k in self.kills)
            and self.duplicates == sum(k.in_flight_alerts for k in self.kills)
        )


@dataclass
class Options:
    subscribers: int = 60
    per_subscriber: int = 10
    runs: int = 10
    kills: int = 2
    quick: bool = False
    lease: float = 2.0
    concurrency: int | None = None
    seed: int = 20260401

    @property
    def alerts(self) -> int:
        return self.subscribers * self.per_subscriber


async def _row_states(db: Database) -> dict[int, tuple[str, bool, str | None]]:
    """delivery id -> (status, claimed, message_ref)."""
    async with db.session() as session:
        rows = await session.exec(
            select(
                DeliveryRow.id,
                DeliveryRow.status,
                DeliveryRow.claimed_until,
                DeliveryRow.message_ref,
            )
        )
        return {
            int(rid): (status, until is not None, ref)
            for rid, status, until, ref in rows.all()
            if rid
        }


def _orphans(
    fake: FakeTelegram, pop: Population, states: dict[int, tuple[str, bool, str | None]]
) -> dict[tuple[int, int], int]:
    """Accepted messages no sent row refers to -> how many queued alerts each showed."""
    referenced = {(q.chat, states[q.row_id][2]) for q in pop.rows if states[q.row_id][0] == SENT}
    by_chat = pop.rows_by_chat
    found = {}
    for m in delivered(fake):
        if (m.chat_id, str(m.message_id)) not in referenced:
            links = set(m.links)
            found[(m.chat_id, m.message_id)] = sum(
                1 for q in by_chat.get(m.chat_id, ()) if q.url in links
            )
    return found


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


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def kill_points(opts: Options, rng: random.Random) -> list[int]:
    """``opts.kills`` distinct message counts, well inside the run, in order."""
    messages = opts.subscribers
    margin = max(2, messages // 10)
    return sorted(rng.sample(range(margin, messages - margin), opts.kills))


async def _kill_at(fake: FakeTelegram, url: str, opts: Options, log: Path, target: int) -> None:
    """Start a worker and SIGKILL it once the fake holds ``target`` messages."""
    worker = await _start_worker(fake, url, opts, log)
    try:
        await fake.wait_until(
            lambda: len(delivered(fake)) >= target or worker.returncode is not None,
            timeout=120,
            what=f"{target} messages before the kill",
        )
    finally:
        if worker.returncode is None:
            os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()
    if worker.returncode != -signal.SIGKILL:
        raise RuntimeError(f"worker ended before the kill: {_tail(log)}")


async def one_run(
    run_no: int, opts: Options, rng: random.Random, workdir: Path, bound: int
) -> RunResult:
    url = f"sqlite:///{workdir / f'crash-{run_no}.sqlite3'}"
    log = workdir / f"worker-{run_no}.log"
    await upgrade_async(url)
    db = Database(url)
    try:
        pop = await populate(db, opts.subscribers, per_subscriber=opts.per_subscriber)
        limits = FloodLimits().scaled(10) if opts.quick else FloodLimits()
        kills: list[Kill] = []
        seen: dict[tuple[int, int], int] = {}
        async with FakeTelegram(limits=limits) as fake:
            fake_user_setup(fake, pop.chats)
            start = time.perf_counter()
            for after in kill_points(opts, rng):
                # Each worker sends at least one message of its own before it is killed.
                target = max(after, len(delivered(fake)) + 1)
                await _kill_at(fake, url, opts, log, target)
                await asyncio.sleep(0.3)  # let the fake finish any request it had received
                states = await _row_states(db)
                orphans = _orphans(fake, pop, states)
                new = {key: n for key, n in orphans.items() if key not in seen}
                seen.update(new)
                lease_wait = await _claims_expire_in(db)
                kills.append(
                    Kill(
                        after=target,
                        received=len(delivered(fake)),
                        in_flight=len(new),
                        in_flight_alerts=sum(new.values()),
                        claimed_unmarked=sum(
                            1 for s, claimed, _ in states.values() if s != SENT and claimed
                        ),
                        lease_wait=lease_wait,
                    )
                )
                await asyncio.sleep(lease_wait + 0.05)
            last = await _start_worker(fake, url, opts, log)
            rc = await last.wait()
            if rc != 0:
                raise RuntimeError(f"restarted worker failed ({rc}): {_tail(log)}")
            seconds = time.perf_counter() - start
            shown = tally(fake, pop)
            final = await _row_states(db)
            wrong = await wrong_refs(db, fake, pop)
            repeated = _orphans(fake, pop, final)
            messages = len(delivered(fake))
        not_sent = sum(1 for s, _, _ in final.values() if s != SENT)
        return RunResult(
            run=run_no,
            subscribers=opts.subscribers,
            alerts=opts.alerts,
            kills=kills,
            bound=bound,
            messages=messages,
            lost=max(shown.lost, wrong, not_sent),
            repeated_messages=len(repeated),
            duplicates=shown.duplicated,
            rows_not_sent=not_sent,
            seconds=seconds,
        )
    finally:
        await db.dispose()


def problem(opts: Options) -> str | None:
    """Why these options can't make a fair run, or None."""
    batch = CourierSettings().batch_size
    if opts.per_subscriber < 1 or batch % opts.per_subscriber:
        # A subscriber split across two batches would wait out the grouping window (1 min).
        return f"--per-subscriber must divide the courier's batch size ({batch})"
    if opts.subscribers - 2 * max(2, opts.subscribers // 10) < opts.kills:
        return f"--subscribers {opts.subscribers} leaves no room for {opts.kills} kills"
    return None


async def run(opts: Options) -> list[RunResult]:
    if (why := problem(opts)) is not None:
        raise ValueError(why)
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
        f"crash: {opts.runs} runs x {opts.subscribers} subscribers x {opts.per_subscriber} "
        f"alerts ({opts.alerts} alerts, one grouped message per subscriber), "
        f"{opts.kills} SIGKILLs per run, SQLite file, fake Bot API at {limits} limits, "
        f"lease {opts.lease:g} s, seed {opts.seed}"
    )
    print(f"machine: {machine()}")
    header = (
        f"{'run':>3} {'kill':>4} {'kill at':>7} {'recv':>5} {'in flight':>9} {'alerts':>6} "
        f"{'claimed':>7} {'bound':>5} {'lease s':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        for i, k in enumerate(r.kills, start=1):
            print(
                f"{r.run:>3} {i:>4} {k.after:>7} {k.received:>5} {k.in_flight:>9} "
                f"{k.in_flight_alerts:>6} {k.claimed_unmarked:>7} {r.bound:>5} "
                f"{k.lease_wait:>7.2f}"
            )
    print(
        "in flight = messages accepted at the kill that no sent row refers to (alerts: what "
        "they showed); claimed = rows claimed by the dead worker and not marked; "
        "bound = courier concurrency"
    )
    header = (
        f"{'run':>3} {'msgs':>5} {'lost':>4} {'rep msgs':>8} {'rep alerts':>10} "
        f"{'= in flight':>11} {'run s':>6}  ok"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        flight = f"{sum(k.in_flight for k in r.kills)}/{sum(k.in_flight_alerts for k in r.kills)}"
        print(
            f"{r.run:>3} {r.messages:>5} {r.lost:>4} {r.repeated_messages:>8} "
            f"{r.duplicates:>10} {flight:>11} {r.seconds:>6.1f}  {'yes' if r.ok else 'NO'}"
        )
    kills = [k for r in results for k in r.kills]
    print(
        f"total: {sum(r.lost for r in results)} alerts lost in {len(kills)} kills; "
        f"{sum(r.repeated_messages for r in results)} messages repeated "
        f"(max {max((k.in_flight for k in kills), default=0)} per kill, bound "
        f"{results[0].bound if results else '-'}), "
        f"{sum(r.duplicates for r in results)} alerts repeated of "
        f"{sum(r.alerts for r in results)}"
    )
    print("correctness:", "OK" if all(r.ok for r in results) else "FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1 run of 40 x 5 alerts (tests)")
    parser.add_argument("--subscribers", type=int, help="subscribers (default 60, quick 40)")
    parser.add_argument(
        "--per-subscriber", type=int, help="alerts per subscriber (default 10, quick 5)"
    )
    parser.add_argument("--runs", type=int, help="runs (default 10, quick 1)")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs per run (default 2)")
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
        subscribers=args.subscribers or (40 if args.quick else 60),
        per_subscriber=args.per_subscriber or (5 if args.quick else 10),
        runs=args.runs or (1 if args.quick else 10),
        kills=args.kills,
        quick=args.quick,
        lease=args.lease,
        concurrency=args.concurrency,
        seed=args.seed,
    )
    if (why := problem(opts)) is not None:
        parser.error(why)
    results = asyncio.run(run(opts))
    if args.json:
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in results], indent=2))
    else:
        print_table(opts, results)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
