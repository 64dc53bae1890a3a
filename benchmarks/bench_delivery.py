"""Alert delivery through the outbox at Telegram's flood limits, against the fake Bot API.

    .venv/bin/python benchmarks/bench_delivery.py            # 1,000 alerts (about 4 min)
    .venv/bin/python benchmarks/bench_delivery.py --quick    # 60 alerts, for tests
    .venv/bin/python benchmarks/bench_delivery.py --database-url postgresql://postgres@127.0.0.1:5432/test

Each alert goes to its own subscriber (1,000 distinct private chats), each carrying a real notice
from ``feeds/samples/`` (those with a link: the link shows which alert a message carried)
stored with ``storage.notices.store_notice``. The real parts do the work: ``Courier`` drains
the ``AlertOutbox`` (both built by ``bot.app.build_services``, the composition root): it claims
the rows, renders them and sends them through ``TelegramSender`` and python-telegram-bot's
``Bot`` with ``AIORateLimiter`` (``bot.telegram.application``, opened by ``bot.app.channels``),
to ``tests.fakes.FakeTelegram`` on loopback enforcing Telegram's limits (30 messages/s overall
with a burst of 30, 1 message/s per chat). The flood-limit floor for 1,000 messages is
therefore about 32-33 s; the benchmark reports the achieved rate as a share of 30 messages/s.

Phases, in one run so the ratios hold on a noisy machine:

1. ``outbox``   the courier at Telegram's limits (the figure that matters);
2. ``naive``    the same 1,000 messages (same HTML, same buttons) sent by a sequential loop of
                ``bot.send_message`` with no database at all, through the same rate limiter
                (it sleeps out any 429 the limiter gives up on and sends again);
3. ``flood``    both again against a Bot API that allows only half the documented rate
                (``--flood-rate``, 15 messages/s): bestbot paces at 29/s, so it is refused
                with 429s all the way through and must wait each one out without losing or
                repeating a message (real time in quick mode too);
4. ``outbox (capacity)`` and ``naive (capacity)``: both again with the fake's limits switched
                off and no rate limiter, to show how far below the pipeline's own capacity the
                30 messages/s ceiling is, and what the outbox costs per message.

It asserts for every phase: zero lost (every delivery row ``sent``, and every alert's notice
reached its chat in exactly one message, the one whose id is the row's ``message_ref``), zero
duplicated, zero 400s, and that any 429 was retried rather than dropped. Timings are reported,
not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import event, func, update  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.error import RetryAfter  # noqa: E402
from telegram.ext import AIORateLimiter, ApplicationBuilder  # noqa: E402

from bot.app import build_services, channels  # noqa: E402
from bot.config import Config, config_from_dict  # noqa: E402
from bot.delivery.alerts import AlertOutbox  # noqa: E402
from bot.delivery.courier import Courier, CourierSettings, DeliveryReport  # noqa: E402
from bot.delivery.telegram import TelegramSender  # noqa: E402
from bot.render.text import safe_url  # noqa: E402
from bot.telegram.application import OVERALL_RATE  # noqa: E402
from feeds.local import parse_file  # noqa: E402
from feeds.notice import Notice  # noqa: E402
from storage.db import Database, is_sqlite, upgrade_async  # noqa: E402
from storage.models import DeliveryRow, SubscriberRow  # noqa: E402
from storage.notices import load_notices, store_notice  # noqa: E402
from storage.outbox import PENDING, SENT, NewDelivery, enqueue  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.fakes.flood import FloodLimits  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, SentMessage  # noqa: E402

SAMPLES = REPO / "feeds" / "samples"
CHAT_BASE = 700_000_000  # chat ids CHAT_BASE + 1 .. CHAT_BASE + n
CEILING = 30.0  # Telegram's overall limit, messages per second
FLOOD_RATE = 15.0  # the flood phases' Bot API: half the documented rate, 429s above it
TARGET_SHARE = 0.90


# ------------------------------------------------------------------------------- the data


def sample_notices() -> list[Notice]:
    """Every release in the bundled real samples, one per (source, ocid), in a fixed order."""
    seen: set[tuple[str, str]] = set()
    notices: list[Notice] = []
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix not in {".json", ".jsonl", ".csv"}:
            continue
        for notice in parse_file(path).notices:
            key = (notice.source, notice.ocid)
            if key not in seen:
                seen.add(key)
                notices.append(notice)
    return notices


@dataclass(frozen=True)
class Queued:
    """One queued alert: its row, its chat, and the link its message must carry."""

    row_id: int
    chat: int
    url: str


@dataclass(frozen=True)
class Population:
    """What was queued: every alert, each with a notice whose link no other alert of that
    chat has, so what a message carried can be read off its links."""

    rows: tuple[Queued, ...]

    @property
    def chats(self) -> list[int]:
        return sorted({q.chat for q in self.rows})

    @property
    def rows_by_chat(self) -> dict[int, list[Queued]]:
        by_chat: dict[int, list[Queued]] = defaultdict(list)
        for q in self.rows:
            by_chat[q.chat].append(q)
        return dict(by_chat)


async def populate(
    db: Database, n: int, *, per_subscriber: int = 1, chat_base: int = CHAT_BASE
) -> Population:
    """``n`` Telegram subscribers, each with ``per_subscriber`` due alerts for different real
    notices (queued subscriber by subscriber, so one subscriber's alerts are claimed together
    and go out as one grouped message, as the courier sends them)."""
    linked = [notice for notice in sample_notices() if safe_url(notice.url) is not None]
    notices = linked[: n * per_subscriber]
    async with db.session() as session:
        stored = [await store_notice(session, notice) for notice in notices]
    async with db.session() as session:
        loaded = await load_notices(session, list({s.canonical_id for s in stored}))
    # One stored notice per link: cross-source duplicates share a canonical notice.
    by_url: dict[str, tuple[int, int]] = {}
    for result in stored:
        url = safe_url(loaded[result.canonical_id].url)
        if url is not None:
            by_url.setdefault(url, (result.canonical_id, result.version))
    pool = list(by_url.items())
    assert len(pool) >= per_subscriber, "not enough sample notices with distinct links"
    now = utcnow()
    async with db.session() as session:
        subs = [
            SubscriberRow(
                name=f"Enterprise {i}",
                telegram_chat_id=chat_base + i,
                telegram_active=True,
                frequency="instant",
            )
            for i in range(1, n + 1)
        ]
        session.add_all(subs)
        await session.flush()
        deliveries = []
        for i, sub in enumerate(subs):
            assert sub.id is not None
            for j in range(per_subscriber):
                _url, (notice_id, version) = pool[(i * per_subscriber + j) % len(pool)]
                deliveries.append(
                    NewDelivery(
                        subscriber_id=sub.id,
                        notice_id=notice_id,
                        version=version,
                        channel="telegram",
                        due_at=now - timedelta(seconds=1),
                        score=90,
                        reasons=["matched “services” in the title"],
                        keywords=["services"],
                    )
                )
        await enqueue(session, deliveries)
    url_of = {notice_id: url for url, (notice_id, _v) in pool}
    async with db.session() as session:
        rows = await session.exec(
            select(SubscriberRow.telegram_chat_id, DeliveryRow.id, DeliveryRow.notice_id)
            .join(DeliveryRow, col(DeliveryRow.subscriber_id) == col(SubscriberRow.id))
            .order_by(col(DeliveryRow.id))
        )
        queued = tuple(
            Queued(int(rid), int(chat), url_of[nid])
            for chat, rid, nid in rows.all()
            if chat and rid
        )
    assert len(queued) == n * per_subscriber, "every alert has its own delivery row"
    return Population(queued)


async def reset_outbox(db: Database) -> None:
    """Make every delivery pending and unclaimed again (for the next phase)."""
    async with db.session() as session:
        await session.exec(
            update(DeliveryRow).values(
                status=PENDING,
                claimed_by=None,
                claimed_until=None,
                sent_at=None,
                message_ref=None,
                attempts=0,
                last_error=None,
            )
        )


async def status_counts(db: Database) -> Counter[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(DeliveryRow.status, func.count()).group_by(col(DeliveryRow.status))
        )
        return Counter({status: int(count) for status, count in rows.all()})


async def message_refs(db: Database) -> dict[int, str | None]:
    async with db.session() as session:
        rows = await session.exec(select(DeliveryRow.id, DeliveryRow.message_ref))
        return {int(rid): ref for rid, ref in rows.all() if rid is not None}


@dataclass(frozen=True)
class Delivery:
    """The alert path of one process: the courier and the outbox it drains."""

    courier: Courier
    alerts: AlertOutbox


def alert_delivery(
    config: Config,
    db: Database,
    sender: TelegramSender,
    *,
    worker_id: str,
    settings: CourierSettings | None = None,
) -> Delivery:
    """The courier and alert outbox exactly as ``bot.app.build_services`` wires them.

    ``settings`` replaces the courier's (the benchmarks vary concurrency, batch and lease);
    everything else, from the retry policy to the grouping window, is production's.
    """
    services = build_services(
        config,
        config.secret_key,
        clock=utcnow,
        worker_id=worker_id,
        telegram=sender,
        email=None,
        db=db,
    )
    if settings is not None:
        services.courier.settings = settings
    return Delivery(services.courier, services.alerts)


async def drain(
    delivery: Delivery, db: Database, *, give_up_after: float = 600.0
) -> DeliveryReport:
    """Deliver until no row is pending, waiting out retries (what the service loop does)."""
    total = DeliveryReport()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    while True:
        total.add(await delivery.courier.drain(delivery.alerts))
        async with db.session() as session:
            waiting = await session.exec(
                select(func.min(DeliveryRow.due_at), func.max(DeliveryRow.claimed_until)).where(
                    DeliveryRow.status == PENDING
                )
            )
            next_due, claimed_until = waiting.one()
        if next_due is None:
            return total
        if loop.time() > deadline:
            raise TimeoutError("rows still pending after the timeout")
        wake = max(next_due, claimed_until or next_due)
        await asyncio.sleep(min(max((wake - utcnow()).total_seconds(), 0.05), 5.0))


# ------------------------------------------------------------------------------- databases


@asynccontextmanager
async def database(url: str | None, workdir: Path) -> AsyncIterator[Database]:
    """A migrated database: a SQLite file in ``workdir``, or a private PostgreSQL schema."""
    schema: str | None = None
    conninfo = ""
    if url is None:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    elif not is_sqlite(url):
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        await upgrade_async(url)
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()
    finally:
        if schema is not None:
            import psycopg

            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def backend_name(url: str | None) -> str:
    return "sqlite (file, WAL)" if url is None or is_sqlite(url) else "postgresql"


# ------------------------------------------------------------------------------- phases


@dataclass
class PhaseResult:
    name: str
    limits: str
    messages: int
    seconds: float
    sent_requests: int  # sendMessage requests seen by the fake
    http_status: dict[int, int]
    lost: int
    duplicated: int
    wrong_ref: int  # rows whose message_ref is not the id of the message their chat got
    rows_not_sent: int
    courier_retries: int  # 429s that reached the courier (re-queued, not dropped)
    commits: int = 0  # database transactions committed while delivering
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def flood_429(self) -> int:
        return self.http_status.get(429, 0)

    @property
    def bad_400(self) -> int:
        return self.http_status.get(400, 0)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.bad_400 == 0
            and self.wrong_ref == 0
            and self.rows_not_sent == 0
        )


def _count_commits(counter: Counter[str]) -> Callable[[Any], None]:
    def on_commit(_conn: Any) -> None:
        counter["commit"] += 1

    return on_commit


def fake_user_setup(fake: FakeTelegram, chats: Sequence[int]) -> None:
    for chat in chats:
        fake.add_user(chat)  # started: the private chat exists


@dataclass(frozen=True)
class Tally:
    """What the chats received, alert by alert (read from the messages' links)."""

    lost: int  # alerts whose notice reached no message of their chat
    duplicated: int  # extra showings of an alert, plus messages to chats nobody queued for
    shown: dict[int, int]  # row id -> messages of its chat that showed its notice


def tally(fake: FakeTelegram, pop: Population) -> Tally:
    """Count every alert's showings in what the fake accepted."""
    shown = {q.row_id: 0 for q in pop.rows}
    by_chat = pop.rows_by_chat
    stray = 0
    for m in delivered(fake):
        queued = by_chat.get(m.chat_id)
        if queued is None:
            stray += 1
            continue
        links = set(m.links)
        for q in queued:
            if q.url in links:
                shown[q.row_id] += 1
    lost = sum(1 for c in shown.values() if c == 0)
    duplicated = sum(c - 1 for c in shown.values() if c > 1) + stray
    return Tally(lost, duplicated, shown)


def delivered(fake: FakeTelegram) -> list[SentMessage]:
    """The messages the fake accepted (answered 200) from ``sendMessage``."""
    return [m for m in fake.sent if m.method.lower() == "sendmessage"]


async def wrong_refs(db: Database, fake: FakeTelegram, pop: Population) -> int:
    """Rows whose ``message_ref`` is not a message of their chat that shows their notice."""
    refs = await message_refs(db)
    messages = {(m.chat_id, str(m.message_id)): set(m.links) for m in delivered(fake)}
    return sum(
        1 for q in pop.rows if q.url not in messages.get((q.chat, refs.get(q.row_id) or ""), ())
    )


def send_statuses(fake: FakeTelegram) -> dict[int, int]:
    return dict(Counter(r.status for r in fake.requests if r.method.lower() == "sendmessage"))


def bench_config(fake: FakeTelegram, db: Database) -> Config:
    return config_from_dict(
        {
            "database": {"url": db.url},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "alerts": {"quiet_hours": "off"},
            "web": {"secret_key": "b" * 32},
        },
        env={},
    )


async def outbox_phase(
    db: Database,
    pop: Population,
    limits: FloodLimits,
    settings: CourierSettings,
    *,
    rate_limited: bool,
    name: str,
    limiter_rate: float | None = None,
    prepare: Callable[[FakeTelegram], None] | None = None,
) -> tuple[PhaseResult, list[tuple[int, str, dict[str, Any] | None]]]:
    """The real courier and alert outbox; the result, and what was sent (for the naive phase).

    ``prepare`` may script the fake first (e.g. inject 429s) to test the retry paths.
    """
    await reset_outbox(db)
    async with FakeTelegram(limits=limits) as fake:
        fake_user_setup(fake, pop.chats)
        if prepare is not None:
            prepare(fake)
        async with _bot(fake, db, rate_limited=rate_limited, limiter_rate=limiter_rate) as bot:
            delivery = alert_delivery(
                bench_config(fake, db),
                db,
                TelegramSender(bot),
                worker_id=f"bench-{os.getpid()}",
                settings=settings,
            )
            commits = Counter[str]()
            listener = _count_commits(commits)
            event.listen(db.engine.sync_engine, "commit", listener)
            try:
                start = time.perf_counter()
                report = await drain(delivery, db)
                seconds = time.perf_counter() - start
            finally:
                event.remove(db.engine.sync_engine, "commit", listener)
        shown = tally(fake, pop)
        wrong = await wrong_refs(db, fake, pop)
        statuses = await status_counts(db)
        sent = [(m.chat_id, m.raw_text, m.reply_markup) for m in fake.sent]
        result = PhaseResult(
            name=name,
            limits=_limits_label(limits, rate_limited, limiter_rate),
            messages=len(fake.sent),
            seconds=seconds,
            sent_requests=len(fake.calls("sendMessage")),
            http_status=send_statuses(fake),
            lost=shown.lost,
            duplicated=shown.duplicated,
            wrong_ref=wrong,
            rows_not_sent=sum(c for s, c in statuses.items() if s != SENT),
            courier_retries=report.retried,
            commits=commits["commit"],
        )
    return result, sent


async def naive_phase(
    db: Database,
    pop: Population,
    limits: FloodLimits,
    payloads: Sequence[tuple[int, str, dict[str, Any] | None]],
    *,
    rate_limited: bool,
    name: str,
    limiter_rate: float | None = None,
) -> PhaseResult:
    """The same messages by a plain sequential loop of ``bot.send_message``: no outbox."""
    retries = 0
    async with FakeTelegram(limits=limits) as fake:
        fake_user_setup(fake, pop.chats)
        async with _bot(fake, db, rate_limited=rate_limited, limiter_rate=limiter_rate) as bot:
            start = time.perf_counter()
            for chat, text, markup in payloads:
                while True:
                    try:
                        await bot.send_message(
                            chat_id=chat,
                            text=text,
                            parse_mode=ParseMode.HTML,
                            reply_markup=InlineKeyboardMarkup.de_json(markup, bot)
                            if markup
                            else None,
                            link_preview_options=LinkPreviewOptions(is_disabled=True),
                        )
                        break
                    except RetryAfter as exc:  # only if the rate limiter gave up
                        retries += 1
                        await asyncio.sleep(retry_seconds(exc))
            seconds = time.perf_counter() - start
        shown = tally(fake, pop)
        return PhaseResult(
            name=name,
            limits=_limits_label(limits, rate_limited, limiter_rate),
            messages=len(fake.sent),
            seconds=seconds,
            sent_requests=len(fake.calls("sendMessage")),
            http_status=send_statuses(fake),
            lost=shown.lost,
            duplicated=shown.duplicated,
            wrong_ref=0,
            rows_not_sent=0,
            courier_retries=retries,
        )


def retry_seconds(exc: RetryAfter) -> float:
    value: Any = getattr(exc, "_retry_after", None) or exc.retry_after
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


@asynccontextmanager
async def _bot(
    fake: FakeTelegram, db: Database, *, rate_limited: bool, limiter_rate: float | None = None
) -> AsyncIterator[Bot]:
    """bestbot's own PTB application (with AIORateLimiter), or a bare one for capacity runs.

    ``limiter_rate`` replaces bestbot's limiter by one pacing at that many messages/s overall
    (an experiment: everything else as in ``bot.telegram.application.build_application``).
    """
    if rate_limited and not limiter_rate:
        async with channels(bench_config(fake, db), receive=False) as (app, _sender, _email):
            assert app is not None
            yield app.bot
        return
    builder: Any = ApplicationBuilder().token(fake.token).base_url(fake.base_url)
    if rate_limited:
        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=limiter_rate or CEILING, max_retries=3)
        )
    bare = builder.build()
    await bare.initialize()
    try:
        yield bare.bot
    finally:
        await bare.shutdown()


def _limits_label(limits: FloodLimits, rate_limited: bool, limiter_rate: float | None) -> str:
    if not limits.enabled:
        label = "off"
    elif limits.global_per_second != FloodLimits().global_per_second:
        label = f"flood: {limits.global_per_second * limits.time_scale:g}/s"
    elif limits.time_scale == 1.0:
        label = "Telegram"
    else:
        label = f"Telegram x{limits.time_scale:g}"
    if not rate_limited:
        return label + ", no limiter"
    return label + (f" + limiter {limiter_rate:g}/s" if limiter_rate else " + AIORateLimiter")


# ------------------------------------------------------------------------------- the run


@dataclass
class Options:
    alerts: int = 1000
    quick: bool = False
    database_url: str | None = None
    concurrency: int | None = None
    batch_size: int | None = None
    baseline: bool = True
    capacity: bool = True
    limiter_rate: float | None = None
    #: The flood phases' Bot API answers 429 above this many messages/s (0: no flood phases).
    flood_rate: float = FLOOD_RATE


@dataclass
class Result:
    alerts: int
    backend: str
    settings: dict[str, Any]
    phases: list[PhaseResult]
    setup_seconds: float

    @property
    def main(self) -> PhaseResult:
        return self.phases[0]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.phases)

    @property
    def floor_seconds(self) -> float:
        """The fastest the fake allows at Telegram's limits: a burst of 30, then 30/s."""
        return max(self.alerts - 30, 0) / CEILING

    def to_json(self) -> dict[str, Any]:
        return {
            "alerts": self.alerts,
            "backend": self.backend,
            "settings": self.settings,
            "setup_seconds": round(self.setup_seconds, 2),
            "phases": [
                {**asdict(p), "rate": round(p.rate, 2), "seconds": round(p.seconds, 3)}
                for p in self.phases
            ],
            "ok": self.ok,
        }


def flood_limits(rate: float) -> FloodLimits:
    """A Bot API stricter than bestbot's pacing: ``rate`` messages/s overall, burst ``rate``.

    Real time in quick mode too: the flood must be slower than the limiter's own 29/s."""
    return FloodLimits(global_per_second=rate, global_burst=max(1, int(rate)))


async def flood_phases(
    db: Database,
    pop: Population,
    settings: CourierSettings,
    payloads: Sequence[tuple[int, str, dict[str, Any] | None]],
    opts: Options,
) -> list[PhaseResult]:
    """A 429 flood: the courier and the naive loop against the same too-strict Bot API."""
    limits = flood_limits(opts.flood_rate)
    flood, _ = await outbox_phase(
        db, pop, limits, settings, rate_limited=True, name="flood (Courier)"
    )
    if not opts.baseline:
        return [flood]
    naive = await naive_phase(db, pop, limits, payloads, rate_limited=True, name="flood naive loop")
    return [flood, naive]


async def run(opts: Options) -> Result:
    import tempfile

    n = opts.alerts
    limits = FloodLimits().scaled(10) if opts.quick else FloodLimits()
    settings = CourierSettings()
    if opts.concurrency:
        settings = replace(settings, concurrency=opts.concurrency)
    if opts.batch_size:
        settings = replace(settings, batch_size=opts.batch_size)
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        async with database(opts.database_url, Path(tmp)) as db:
            start = time.perf_counter()
            pop = await populate(db, n)
            setup = time.perf_counter() - start
            phases = []
            main, payloads = await outbox_phase(
                db,
                pop,
                limits,
                settings,
                rate_limited=True,
                name="outbox (Courier)",
                limiter_rate=opts.limiter_rate,
            )
            phases.append(main)
            if opts.baseline:
                phases.append(
                    await naive_phase(
                        db,
                        pop,
                        limits,
                        payloads,
                        rate_limited=True,
                        name="naive send loop",
                        limiter_rate=opts.limiter_rate,
                    )
                )
            if opts.flood_rate:
                phases += await flood_phases(db, pop, settings, payloads, opts)
            if opts.capacity:
                off = FloodLimits.off()
                cap, _ = await outbox_phase(
                    db, pop, off, settings, rate_limited=False, name="outbox (capacity)"
                )
                phases.append(cap)
                if opts.baseline:
                    phases.append(
                        await naive_phase(
                            db, pop, off, payloads, rate_limited=False, name="naive (capacity)"
                        )
                    )
    shown = {
        "concurrency": settings.concurrency,
        "batch_size": settings.batch_size,
        "lease_s": settings.lease.total_seconds(),
        "limiter_msg_s": opts.limiter_rate or OVERALL_RATE,
        "flood_msg_s": opts.flood_rate,
    }
    return Result(n, backend_name(opts.database_url), shown, phases, setup)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def print_table(result: Result) -> None:
    print(
        f"delivery: {result.alerts} alerts to {result.alerts} chats, {result.backend}, "
        f"courier {result.settings}; setup {result.setup_seconds:.1f} s"
    )
    print(f"machine: {machine()}")
    header = (
        f"{'phase':<22} {'limits':<28} {'msgs':>5} {'wall s':>7} {'msg/s':>7} "
        f"{'of 30/s':>7} {'429':>4} {'400':>4} {'lost':>4} {'dup':>4} {'requeued':>8} "
        f"{'commits':>7}"
    )
    print(header)
    print("-" * len(header))
    for p in result.phases:
        share = f"{p.rate / CEILING:.0%}" if "Telegram" in p.limits else "-"
        print(
            f"{p.name:<22} {p.limits:<28} {p.messages:>5} {p.seconds:>7.2f} {p.rate:>7.1f} "
            f"{share:>7} {p.flood_429:>4} {p.bad_400:>4} {p.lost:>4} {p.duplicated:>4} "
            f"{p.courier_retries:>8} {p.commits if p.name.startswith('outbox') else '-':>7}"
        )
    main = result.main
    if main.limits.startswith("Telegram +"):
        print(
            f"flood-limit floor {result.floor_seconds:.1f} s (burst 30, then 30/s); "
            f"outbox took {main.seconds:.1f} s = {main.rate:.1f} msg/s = "
            f"{main.rate / CEILING:.0%} of 30 msg/s (target >= {TARGET_SHARE:.0%}): "
            + ("met" if main.rate >= TARGET_SHARE * CEILING else "NOT met")
        )
    by_name = {p.name: p for p in result.phases}
    naive = by_name.get("naive send loop")
    if naive:
        print(f"outbox / naive wall time at the limits: {main.seconds / naive.seconds:.2f}x")
    flood, naive_flood = by_name.get("flood (Courier)"), by_name.get("flood naive loop")
    if flood:
        rate = float(result.settings["flood_msg_s"])
        floor = max(result.alerts - flood_limits(rate).global_burst, 0) / rate
        line = (
            f"429 flood ({flood.limits}): outbox delivered {flood.messages}/{result.alerts} in "
            f"{flood.seconds:.1f} s (floor {floor:.1f} s) through {flood.flood_429} 429s, "
            f"{flood.courier_retries} re-queued by the courier"
        )
        if naive_flood:
            line += (
                f"; naive loop {naive_flood.seconds:.1f} s through {naive_flood.flood_429} 429s "
                f"= outbox / naive {flood.seconds / naive_flood.seconds:.2f}x"
            )
        print(line)
    cap, naive_cap = by_name.get("outbox (capacity)"), by_name.get("naive (capacity)")
    if cap and naive_cap:
        per_msg = (cap.seconds - naive_cap.seconds) / max(cap.messages, 1) * 1000
        print(
            f"unthrottled: outbox {cap.rate:.0f} msg/s vs naive loop {naive_cap.rate:.0f} msg/s "
            f"(outbox {per_msg:+.1f} ms/message wall; the outbox sends "
            f"{result.settings['concurrency']} at a time)"
        )
    print("correctness:", "OK (0 lost, 0 duplicated, 0 400s)" if result.ok else "FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="60 alerts at 10x limits (tests)")
    parser.add_argument("--alerts", type=int, help="number of alerts (default 1000, quick 60)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--concurrency", type=int, help="CourierSettings.concurrency override")
    parser.add_argument("--batch-size", type=int, help="CourierSettings.batch_size override")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive send loop")
    parser.add_argument("--no-capacity", action="store_true", help="skip the unthrottled runs")
    parser.add_argument(
        "--flood-rate",
        type=float,
        default=FLOOD_RATE,
        help="the flood phases' Bot API refuses above this msg/s (0: skip the flood phases)",
    )
    parser.add_argument(
        "--limiter-rate",
        type=float,
        help="experiment: pace AIORateLimiter at this overall msg/s instead of bestbot's 30",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    opts = Options(
        alerts=args.alerts or (60 if args.quick else 1000),
        quick=args.quick,
        database_url=args.database_url,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        baseline=not args.no_baseline,
        capacity=not args.no_capacity,
        limiter_rate=args.limiter_rate,
        flood_rate=args.flood_rate,
    )
    result = asyncio.run(run(opts))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print_table(result)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
