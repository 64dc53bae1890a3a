"""A fleet on one PostgreSQL, as deployed: ``bestbot run --role web`` and N ``--role worker``
processes, Telegram by webhook, 10,000 subscribers, 500 notices, 200 people chatting.

    .venv/bin/python benchmarks/bench_scaleout.py            # five runs (about 10 minutes)
    .venv/bin/python benchmarks/bench_scaleout.py --quick    # two small runs (under a minute)
    .venv/bin/python benchmarks/bench_scaleout.py --database-url postgresql://...

**Each run** gets a private PostgreSQL schema (dropped afterwards). ``bestbot subscribers
import`` loads the subscribers (one Telegram chat each). The feed server serves the notices on
two feeds, Find a Tender and Contracts Finder: real tenders from ``feeds/samples/``, each with
its own ocid and title, re-dated to today (``Workload``). Keywords are chosen with the real
matcher so that a few hundred subscribers match one to three notices each and the rest match
none. Then one web process and the run's workers start, and the fake Bot API pushes to the web
process the commands (``/help``, ``/privacy``, ``/keywords``, ``/settings``) that the chatting
users send over the first ``chat_seconds``, while the workers poll, match and send. The claim
lease is ``[database] claim_lease = "10s"`` (default 2 minutes), so a killed worker's work
is taken over within seconds.

**Checked in every run** (exit status 1 if any fails):

* every alert delivered exactly once: each ``delivery`` row is ``sent``; its ``message_ref``
  is a message in its chat that shows its notice (the notice's link); no chat sees a notice
  twice and no alert message shows a notice without a row; every match the matcher predicts
  became a row;
* no poll ran twice at once: per feed, the feed server never answered two requests together,
  and no poll began while another still had pages to read;
* no update handled twice or out of order: one inbox row ``done`` per pushed update, each
  chat's in ``update_id`` order (``storage.inbox.handled_order``), one reply per command, and
  each chat's replies in the order of its commands;
* the global send rate never above 30 msg/s: no 429 from the fake (it enforces Telegram's
  buckets: 30 a second overall, 1 a second per chat, bursts of 30 and 3), and at most 150
  ``sendMessage`` calls accepted in any sliding 5-second window. The most in any 1-second
  window is reported with how many such windows held more than 30, and how late the
  benchmark's own event loop (where the fake runs) woke: a stalled fake records requests
  that arrived apart as if they came together;
* every process stopped by SIGTERM exits 0 without a traceback.

**The runs**: 3 workers and 1 worker at Telegram's limits (the fake's token buckets, the
fleet's shared budget at 29 msg/s); the same with the fake's limits off and ``[telegram]
send_rate = 1000`` (the pipeline's own capacity); and 3 workers of which one gets SIGKILL
mid-run, while it holds claimed alerts and updates. There, nothing is lost, and what is
repeated is exactly what was in flight at the kill (messages Telegram had accepted whose row
was not yet marked), as ``benchmarks/bench_crash.py`` shows for one worker.

**Budget** (in-process, as the lead's first version): three PTB bots send 90 messages to 90
chats at Telegram's limits, each paced by its own ``AIORateLimiter`` (baseline) or all by the
shared ``SharedRateLimiter``: why a fleet needs one budget.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import os
import random
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore")

import psycopg  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from telegram.ext import AIORateLimiter, BaseRateLimiter, ExtBot  # noqa: E402

from benchmarks.bench_delivery import machine  # noqa: E402
from bot.telegram.budget import SharedRateLimiter  # noqa: E402
from feeds.notice import Notice, still_open  # noqa: E402
from feeds.ocds import parse_release  # noqa: E402
from matchers.index import Matcher  # noqa: E402
from matchers.lots import match_lots  # noqa: E402
from matchers.profile import parse_profile  # noqa: E402
from matchers.text import STOPWORDS  # noqa: E402
from storage.db import Database, upgrade_async  # noqa: E402
from storage.inbox import handled_order  # noqa: E402
from storage.models import (  # noqa: E402
    DeliveryRow,
    NoticeRow,
    NoticeVersionRow,
    SubscriberRow,
    TelegramInboxRow,
)
from tests.fakes.feed_server import SAMPLES, FeedServer, Source  # noqa: E402
from tests.fakes.flood import FloodLimits  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, SentMessage  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "bench-webhook-secret"
CHAT_BASE = 5_000_000  # subscriber k has Telegram chat CHAT_BASE + k
COMMANDS = ("/help", "/privacy", "/keywords", "/settings")
LEASE = "10s"
SEED = 20261202
_ID_NAMESPACE = uuid.UUID("6f1c7a52-3d0e-4b8e-9a55-5ca1e0b7e013")


# ------------------------------------------------------------------------------ sizes, runs


@dataclass(frozen=True)
class Size:
    subscribers: int
    notices: int
    cf_notices: int  # of which the Contracts Finder feed serves these
    matching: int  # subscribers given a keyword that hits 1-3 notices
    users: int  # subscribers who chat during the run
    commands: int  # commands each user sends
    chat_seconds: float  # over this long
    timeout: float  # a run that has not finished by then fails


FULL = Size(10_000, 500, 100, 400, 200, 4, 60.0, 900.0)
QUICK = Size(1_000, 60, 20, 40, 20, 3, 6.0, 150.0)


@dataclass(frozen=True)
class RunSpec:
    name: str
    workers: int
    limits: bool = True  # the fake's flood limits on, and the fleet's budget at 29 msg/s
    kill: bool = False  # SIGKILL one worker mid-run


FULL_RUNS = (
    RunSpec("3 workers", 3),
    RunSpec("1 worker", 1),
    RunSpec("3 workers, limits off", 3, limits=False),
    RunSpec("1 worker, limits off", 1, limits=False),
    RunSpec("3 workers, one killed", 3, kill=True),
)
QUICK_RUNS = (RunSpec("3 workers", 3), RunSpec("3 workers, one killed", 3, kill=True))


# ------------------------------------------------------------------------------ the workload


@dataclass
class Workload:
    """Everything a run feeds the fleet, built once (seeded) and reused by every run."""

    releases: dict[Source, list[dict[str, Any]]]
    urls: dict[str, str]  # notice ocid -> url (what an alert links to)
    people: list[dict[str, Any]]  # the import file
    predicted: set[tuple[int, str]]  # (chat, notice url) the matcher says will be alerted
    users: list[int]  # chats that send commands
    commands: dict[int, list[tuple[float, str]]]  # chat -> (seconds after start, command)

    @property
    def matching(self) -> int:
        return len({chat for chat, _ in self.predicted})


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def tender_pool() -> list[dict[str, Any]]:
    """The real tender releases of the bundled samples, one per title, in file order."""
    pool, titles = [], set()
    for path in sorted(SAMPLES.glob("*.json")):
        package = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(package, dict):
            continue
        for release in package.get("releases") or []:
            try:
                notice = parse_release(release)
            except ValueError:
                continue
            key = notice.title.strip().lower()
            if notice.kind == "tender" and key and key not in titles:
                titles.add(key)
                pool.append(release)
    return pool


def derive(release: dict[str, Any], n: int, cf: bool, now: datetime) -> dict[str, Any]:
    """Release ``n`` of a run: a real one with its own ocid, open for 30 more days."""
    out = copy.deepcopy(release)
    if cf:
        uid = uuid.uuid5(_ID_NAMESPACE, f"notice-{n}")
        out["ocid"], out["id"] = f"ocds-b5fd17-{uid}", f"{uid}-{n + 1}"
    else:
        out["ocid"], out["id"] = f"ocds-h6vhtk-b{n:05d}", f"{900000 + n:06d}-2026"
    when = now - timedelta(minutes=30) + timedelta(seconds=n)
    out["date"] = _iso(when)
    tender = out.setdefault("tender", {})
    tender["tenderPeriod"] = {
        **(tender.get("tenderPeriod") or {}),
        "endDate": _iso(now + timedelta(days=30)),
    }
    if "datePublished" in tender:
        tender["datePublished"] = _iso(when)
    return out


def _phrases(title: str) -> set[str]:
    words = [w for w in re.findall(r"[a-z]+", title.lower()) if len(w) > 3 and w not in STOPWORDS]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def build_workload(size: Size, now: datetime, seed: int = SEED) -> Workload:
    rng = random.Random(seed)
    releases: dict[Source, list[dict[str, Any]]] = {"fts": [], "cf": []}
    notices: list[Notice] = []
    fts_count = size.notices - size.cf_notices
    for release in tender_pool():
        if len(notices) == size.notices:
            break
        n = len(notices)
        derived = derive(release, n, cf=n >= fts_count, now=now)
        notice = parse_release(derived)
        if not still_open(notice, now + timedelta(hours=1)) or notice.url is None:
            continue
        notices.append(notice)
        releases["cf" if n >= fts_count else "fts"].append(derived)
    if len(notices) < size.notices:
        raise SystemExit(f"only {len(notices)} usable tenders in feeds/samples/")
    candidates = sorted(set().union(*(_phrases(n.title) for n in notices)))
    probes = [parse_profile({"id": str(i), "keywords": [c]}) for i, c in enumerate(candidates)]
    hits = Counter(m.match.profile_id for m in match_lots(Matcher(probes).match, notices, probes))
    few = [c for i, c in enumerate(candidates) if 1 <= hits[str(i)] <= 3]
    none = [c for i, c in enumerate(candidates) if hits[str(i)] == 0]
    people = []
    for k in range(size.subscribers):
        keywords = [rng.choice(few)] if k < size.matching else rng.sample(none, rng.randint(1, 2))
        people.append(
            {"telegram_id": CHAT_BASE + k, "name": f"Enterprise {k}", "keywords": keywords}
        )
    profiles = [
        parse_profile({"id": str(p["telegram_id"]), "keywords": p["keywords"]}) for p in people
    ]
    by_ocid = {n.ocid: n for n in notices}
    # as the service matches: each notice and each of its lots, alert tier
    predicted = {
        (int(m.match.profile_id), str(by_ocid[m.match.notice_ocid].url))
        for m in match_lots(Matcher(profiles).match, notices, profiles)
    }
    half = size.users // 2
    users = [CHAT_BASE + k for k in range(half)] + [
        CHAT_BASE + size.matching + k for k in range(size.users - half)
    ]
    commands = {}
    for chat in users:
        offsets = sorted(rng.uniform(0, size.chat_seconds) for _ in range(size.commands))
        for i in range(1, len(offsets)):
            offsets[i] = max(offsets[i], offsets[i - 1] + 1.5)  # people read the answer first
        commands[chat] = list(zip(offsets, rng.sample(COMMANDS, size.commands), strict=True))
    return Workload(
        releases=releases,
        urls={n.ocid: str(n.url) for n in notices},
        people=people,
        predicted=predicted,
        users=users,
        commands=commands,
    )


# ------------------------------------------------------------------------------ one run


@dataclass
class Kill:
    worker: str = ""
    after_alerts: int = 0
    claimed_alert_rows: int = 0  # rows the dead worker held, not marked sent
    claimed_updates: int = 0  # inbox updates it held, not done
    in_flight_alerts: int = 0  # of those rows, shown in their chat already (will repeat)
    in_flight_replies: int = 0  # of those updates, answered already (will repeat)


@dataclass
class RunResult:
    name: str
    workers: int
    limits: bool
    subscribers: int
    notices: int
    import_seconds: float = 0.0
    alert_rows: int = 0
    predicted_rows: int = 0
    unpredicted: int = 0  # rows not predicted + predictions without a row
    alert_messages: int = 0
    lost: int = 0
    wrong_ref: int = 0
    repeated_alerts: int = 0
    stray_alerts: int = 0
    updates: int = 0
    updates_done: int = 0
    inbox_rows: int = 0
    updates_out_of_order: int = 0
    replies: int = 0
    missing_replies: int = 0
    repeated_replies: int = 0
    replies_out_of_order: int = 0
    polls: dict[str, int] = field(default_factory=dict)
    overlapping_polls: int = 0
    polls_skipped: int = 0  # a worker found the feed's lease taken (another was polling it)
    max_feed_requests_at_once: int = 0
    max_per_second: int = 0  # the most sendMessage calls accepted in any 1-s window
    max_per_5_seconds: int = 0  # … in any 5-s window (the sustained rate, x 5)
    seconds_over_30: int = 0  # 1-s windows (one starting at each send) with more than 30
    flood_429s: int = 0
    webhook_retries: int = 0
    first_alert_seconds: float = 0.0  # after the processes were started
    alert_seconds: float = 0.0  # first alert to last
    alerts_per_second: float = 0.0
    messages_per_second: float = 0.0
    reply_latency: dict[str, float] = field(default_factory=dict)
    webhook_ms: dict[str, float] = field(default_factory=dict)  # the web process's answer
    fake_lag_ms: dict[str, float] = field(default_factory=dict)  # the fake's event loop
    by_worker: dict[str, int] = field(default_factory=dict)  # alert rows sent by each
    updates_by_worker: dict[str, int] = field(default_factory=dict)
    kill: Kill | None = None
    exit_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def problems(self) -> list[str]:
        """The correctness claims this run breaks (empty: all hold)."""
        out = list(self.exit_problems)
        repeats_allowed = self.kill.in_flight_alerts if self.kill else 0
        replies_allowed = self.kill.in_flight_replies if self.kill else 0
        checks = {
            "an alert was lost": self.lost == 0 and self.wrong_ref == 0,
            "the delivery rows are not the matches predicted": self.unpredicted == 0,
            "an alert was repeated beyond what was in flight at a kill": self.repeated_alerts
            == repeats_allowed,
            "an alert message showed a notice without a row": self.stray_alerts == 0,
            "an update was lost or stored twice": self.updates_done
            == self.inbox_rows
            == self.updates,
            "a chat's updates were handled out of order": self.updates_out_of_order == 0,
            "a command got no reply": self.missing_replies == 0,
            "a reply was repeated beyond what was in flight at a kill": self.repeated_replies
            == replies_allowed,
            "a chat's replies came out of order (or one was an error message)": (
                self.replies_out_of_order == 0
            ),
            "a feed was polled twice at once": self.overlapping_polls == 0
            and self.max_feed_requests_at_once <= 1,
            "Telegram's limits were hit (429)": not self.limits or self.flood_429s == 0,
            "more than 30 messages a second, sustained over 5 s": not self.limits
            or self.max_per_5_seconds <= 150,
        }
        return out + [what for what, ok in checks.items() if not ok]


class Fleet:
    """The run's processes: started, watched, killed, stopped."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.killed: set[str] = set()

    async def spawn(self, name: str, *args: str) -> asyncio.subprocess.Process:
        log = (self.logs / f"{name}.log").open("ab")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, env=self.env, cwd=str(REPO),
            stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        self.procs[name] = proc
        return proc

    def worker_id(self, name: str) -> str:
        return f"{socket.gethostname()}:{self.procs[name].pid}"

    def kill(self, name: str) -> None:
        self.killed.add(name)
        self.procs[name].send_signal(signal.SIGKILL)

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    async def stop(self) -> list[str]:
        """SIGTERM everything still running; the problems with how they ended."""
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        problems = []
        for name, proc in self.procs.items():
            try:
                code = await asyncio.wait_for(proc.wait(), timeout=60)
            except TimeoutError:
                proc.kill()
                code = await proc.wait()
                problems.append(f"{name} did not stop on SIGTERM")
            if name in self.killed:
                continue
            log = self.tail(name)
            if code != 0:
                problems.append(f"{name} exited {code}: {log[-800:]}")
            elif "Traceback" in (self.logs / f"{name}.log").read_text(errors="replace"):
                problems.append(f"{name} logged a traceback: {log[-800:]}")
        return problems


@contextlib.asynccontextmanager
async def private_schema(base: str) -> AsyncIterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config_text(url: str, fake: FakeTelegram, feeds: FeedServer, port: int, limits: bool) -> str:
    return f"""
[database]
url = "{url}"
claim_lease = "{LEASE}"
[telegram]
token = "{fake.token}"
base_url = "{fake.base_url}"
mode = "webhook"
webhook_secret = "{SECRET}"
send_rate = {29 if limits else 1000}
[web]
host = "127.0.0.1"
port = {port}
public_url = "https://bot.bench.example"
secret_key = "bench-secret-key-0123456789abcdef"
[alerts]
quiet_hours = "off"
group_within = "1s"
nudge = false
[[feeds]]
name = "fts"
kind = "find_a_tender"
url = "{feeds.fts_url}"
every = "30s"
[[feeds]]
name = "cf"
kind = "contracts_finder"
url = "{feeds.cf_url}"
every = "30s"
"""


class Watch:
    """What the fake has received, read incrementally: alert messages vs replies, per chat,
    with the time the fake accepted each."""

    def __init__(self, fake: FakeTelegram, urls: dict[str, str]) -> None:
        self.fake = fake
        self.urls = urls  # ocid -> url
        self.links = set(urls.values())
        self.alerts: list[tuple[SentMessage, float]] = []
        self.replies: dict[int, list[tuple[SentMessage, float]]] = defaultdict(list)
        self._seen = 0
        self._requests = 0
        self._times: list[float] = []

    def update(self) -> None:
        requests = self.fake.requests
        for record in requests[self._requests :]:
            if record.method.lower() == "sendmessage" and record.status == 200:
                self._times.append(record.at)
        self._requests = len(requests)
        sent = [m for m in self.fake.sent[self._seen :]]
        self._seen += len(sent)
        for n, message in enumerate(sent, self._seen - len(sent)):
            at = self._times[n] if n < len(self._times) else time.monotonic()
            if self.links & set(message.links):
                self.alerts.append((message, at))
            else:
                self.replies[message.chat_id].append((message, at))

    @property
    def send_times(self) -> list[float]:
        return self._times


async def _count(db: Database, query: Any) -> int:
    async with db.session() as session:
        return int((await session.exec(query)).one())


async def _claims_of(
    db: Database, worker: str, urls: dict[str, str]
) -> tuple[list[tuple[int, str]], list[int]]:
    """(chat, notice url) of the alert rows ``worker`` holds unsent; the chats of its updates."""
    async with db.session() as session:
        rows = await session.exec(
            select(SubscriberRow.telegram_chat_id, NoticeRow.ocid)
            .select_from(DeliveryRow)
            .join(SubscriberRow, col(SubscriberRow.id) == col(DeliveryRow.subscriber_id))
            .join(NoticeRow, col(NoticeRow.id) == col(DeliveryRow.notice_id))
            .where(DeliveryRow.status == "pending", DeliveryRow.claimed_by == worker)
        )
        alerts = [(int(chat or 0), urls.get(ocid, ocid)) for chat, ocid in rows.all()]
        updates = await session.exec(
            select(TelegramInboxRow.chat_key).where(
                TelegramInboxRow.status == "pending", TelegramInboxRow.claimed_by == worker
            )
        )
        return alerts, [int(c) for c in updates.all()]


async def _most_claims(db: Database, fleet: Fleet, workers: list[str], urls: dict[str, str]) -> str:
    counts = {}
    for name in workers:
        alerts, updates = await _claims_of(db, fleet.worker_id(name), urls)
        counts[name] = len(alerts) + len(updates)
    return max(workers, key=lambda n: counts[n])


async def _kill_mid_run(
    db: Database, fleet: Fleet, watch: Watch, workers: list[str], after: int, kill: Kill
) -> None:
    """SIGKILL the worker holding the most claims once ``after`` alerts have gone out; note
    what it held and what of that Telegram had already accepted (those will repeat)."""
    while len(watch.alerts) < after:
        await asyncio.sleep(0.05)
        watch.update()
    victim = await _most_claims(db, fleet, workers, watch.urls)
    fleet.kill(victim)
    await fleet.procs[victim].wait()
    await asyncio.sleep(0.5)  # whatever it had sent has reached the fake
    watch.update()
    alerts, update_chats = await _claims_of(db, fleet.worker_id(victim), watch.urls)
    shown = {(m.chat_id, url) for m, _ in watch.alerts for url in m.links}
    async with db.session() as session:
        done = Counter(chat for chat, _, _ in await handled_order(session))
    kill.worker = victim
    kill.after_alerts = len(watch.alerts)
    kill.claimed_alert_rows = len(alerts)
    kill.claimed_updates = len(update_chats)
    kill.in_flight_alerts = sum(1 for pair in alerts if pair in shown)
    kill.in_flight_replies = sum(
        1 for chat in update_chats if len(watch.replies[chat]) > done[chat]
    )


async def _loop_lag(lags: list[float], every: float = 0.01) -> None:
    """How late this process's event loop wakes: the fake Bot API lives here, and a late
    loop would record requests that arrived apart as if they came together."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(every)
        lags.append(max(0.0, loop.time() - before - every))


async def _chat(fake: FakeTelegram, work: Workload, sent: dict[int, list[float]]) -> None:
    """The users type their commands at their own pace."""
    start = time.monotonic()
    timeline = sorted((t, chat, text) for chat, cmds in work.commands.items() for t, text in cmds)
    for offset, chat, text in timeline:
        delay = start + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[chat].append(time.monotonic())
        fake.user_sends(chat, text)


async def _unfinished(
    db: Database, fake: FakeTelegram, watch: Watch, work: Workload, total: int
) -> list[str]:
    """What the fleet has still to do, in words (empty when it is done): the timeout names it,
    so a slow run says whether matching, the outbox, the inbox or the replies lagged."""
    watch.update()
    left: list[str] = []
    if fake.pending_updates:
        left.append(f"{len(fake.pending_updates)} updates not yet pushed to the webhook")
    short = sum(len(watch.replies[chat]) < len(cmds) for chat, cmds in work.commands.items())
    if short:
        left.append(f"{short} users still waiting for a reply")
    matched = await _count(
        db, select(func.count()).where(col(NoticeVersionRow.matched_at).is_not(None))
    )
    if matched < total:
        left.append(f"{matched} of {total} notice versions matched")
    # "maybe" matches wait for the subscriber's weekly digest, days away: only what is due counts
    due = (DeliveryRow.status == "pending", col(DeliveryRow.due_at) <= datetime.now(UTC))
    pending = await _count(db, select(func.count()).where(*due))
    if pending:
        left.append(f"{pending} deliveries due and pending")
    inbox = await _count(db, select(func.count()).where(TelegramInboxRow.status == "pending"))
    if inbox:
        left.append(f"{inbox} inbox updates pending")
    return left


async def one_run(base: str, work: Workload, size: Size, spec: RunSpec, logs: Path) -> RunResult:
    result = RunResult(spec.name, spec.workers, spec.limits, size.subscribers, size.notices)
    started = time.perf_counter()
    limits = FloodLimits() if spec.limits else FloodLimits.off()
    async with (
        private_schema(base) as url,
        FakeTelegram(limits=limits) as fake,
        FeedServer(fts_page_size=100, cf_page_size=100, filter_by_date=True) as feeds,
    ):
        feeds.releases = {s: list(r) for s, r in work.releases.items()}
        feeds.latency = 0.2
        for person in work.people:
            fake.add_user(person["telegram_id"], person["name"])
        port = _free_port()
        fake.deliver_webhooks_to = f"http://127.0.0.1:{port}"
        run_dir = logs / re.sub(r"\W+", "-", spec.name)
        run_dir.mkdir(parents=True, exist_ok=True)
        config = run_dir / "bestbot.toml"
        config.write_text(_config_text(url, fake, feeds, port, spec.limits))
        people = run_dir / "people.json"
        people.write_text(json.dumps(work.people))
        fleet = Fleet({**os.environ, "BESTBOT_CONFIG": str(config)}, run_dir)
        await upgrade_async(url)
        t0 = time.perf_counter()
        importer = await fleet.spawn("import", "subscribers", "import", str(people))
        if await importer.wait() != 0:
            raise RuntimeError(f"import failed: {fleet.tail('import')}")
        result.import_seconds = time.perf_counter() - t0
        del fleet.procs["import"]
        db = Database(url)
        try:
            spawned = time.monotonic()
            await fleet.spawn("web", "run", "--role", "web")
            workers = [f"worker{n + 1}" for n in range(spec.workers)]
            for name in workers:
                await fleet.spawn(name, "run", "--role", "worker")
            watch = Watch(fake, work.urls)
            await fake.wait_until(lambda: bool(fake.webhook_url), 120, "the webhook to be set")
            sent_at: dict[int, list[float]] = defaultdict(list)
            lags: list[float] = []
            monitor = asyncio.create_task(_loop_lag(lags))
            tasks = [asyncio.create_task(_chat(fake, work, sent_at))]
            if spec.kill:
                result.kill = Kill()
                after = max(1, len(work.predicted) // 3)
                tasks.append(
                    asyncio.create_task(
                        _kill_mid_run(db, fleet, watch, workers, after, result.kill)
                    )
                )
            deadline = time.monotonic() + size.timeout
            try:
                while True:
                    if time.monotonic() > deadline:
                        left = await _unfinished(db, fake, watch, work, size.notices)
                        raise RuntimeError(
                            f"{spec.name}: not finished in {size.timeout:.0f} s: "
                            + ("; ".join(left) or "the last check found nothing left")
                        )
                    for proc_name, proc in fleet.procs.items():
                        if proc.returncode is not None and proc_name not in fleet.killed:
                            raise RuntimeError(f"{proc_name} died: {fleet.tail(proc_name)}")
                    if all(t.done() for t in tasks) and not await _unfinished(
                        db, fake, watch, work, size.notices
                    ):
                        before = len(fake.sent)
                        await asyncio.sleep(3.0)  # anything late (a repeat) would show now
                        if len(fake.sent) == before:
                            break
                    await asyncio.sleep(0.5)
                for task in tasks:
                    await task  # raise what a task raised
            finally:
                for task in [*tasks, monitor]:
                    task.cancel()
                result.exit_problems = await fleet.stop()
            lags.sort()
            if lags:
                result.fake_lag_ms = {
                    "p99": 1000 * lags[int(0.99 * (len(lags) - 1))],
                    "max": 1000 * lags[-1],
                }
            watch.update()
            (run_dir / "send_times.json").write_text(json.dumps(watch.send_times))
            await _analyse(result, db, fake, feeds, watch, work, sent_at, spawned, fleet, workers)
        finally:
            await db.dispose()
    result.seconds = time.perf_counter() - started
    return result


async def _analyse(
    result: RunResult,
    db: Database,
    fake: FakeTelegram,
    feeds: FeedServer,
    watch: Watch,
    work: Workload,
    sent_at: dict[int, list[float]],
    spawned: float,
    fleet: Fleet,
    workers: list[str],
) -> None:
    names = {fleet.worker_id(n): n for n in workers}
    async with db.session() as session:
        found = await session.exec(
            select(DeliveryRow, SubscriberRow.telegram_chat_id, NoticeRow.ocid)
            .join(SubscriberRow, col(SubscriberRow.id) == col(DeliveryRow.subscriber_id))
            .join(NoticeRow, col(NoticeRow.id) == col(DeliveryRow.notice_id))
            .where(DeliveryRow.kind == "alert")
        )
        rows = [
            (int(chat or 0), work.urls.get(ocid, ocid), d.status, d.message_ref, d.claimed_by)
            for d, chat, ocid in found.all()
        ]
        order = await handled_order(session)
        inbox = (
            await session.exec(select(TelegramInboxRow.status, TelegramInboxRow.claimed_by))
        ).all()
    _alerts(result, rows, watch, work, names)
    _updates(result, order, inbox, work, names)
    _replies(result, watch, work, sent_at)
    for source in ("fts", "cf"):
        result.polls[source] = len(feeds.windows(source))
        result.overlapping_polls += feeds.overlapping_polls(source)
        result.max_feed_requests_at_once = max(
            result.max_feed_requests_at_once, feeds.max_in_flight[source]
        )
    _logs(result, fleet, workers)
    result.max_per_second = max_in_window(watch.send_times, 1.0)
    result.max_per_5_seconds = max_in_window(watch.send_times, 5.0)
    result.seconds_over_30 = windows_over(watch.send_times, 1.0, 30)
    result.flood_429s = fake.flood_errors
    result.webhook_retries = sum(1 for _, status in fake.webhook_attempts if status != 200)
    times = sorted(at for _, at in watch.alerts)
    if times:
        result.first_alert_seconds = times[0] - spawned
        result.alert_seconds = times[-1] - times[0]
        span = max(result.alert_seconds, 1e-6)
        result.alerts_per_second = (len(times) - 1) / span if len(times) > 1 else 0.0
        during = [t for t in watch.send_times if times[0] <= t <= times[-1]]
        result.messages_per_second = (len(during) - 1) / span if len(during) > 1 else 0.0


def _logs(result: RunResult, fleet: Fleet, workers: list[str]) -> None:
    """What only the processes' logs tell: polls skipped for a lease held by another worker,
    and how long the web process took to store each pushed update and answer 200."""
    for name in workers:
        text = (fleet.logs / f"{name}.log").read_text(errors="replace")
        result.polls_skipped += text.count("another worker is polling it; skipped")
    web = (fleet.logs / "web.log").read_text(errors="replace")
    times = sorted(float(ms) for ms in re.findall(r"POST /telegram/webhook 200 ([\d.]+)ms", web))
    if times:
        result.webhook_ms = {
            "median": statistics.median(times),
            "p95": times[int(0.95 * (len(times) - 1))],
            "max": times[-1],
        }


def _alerts(
    result: RunResult,
    rows: Sequence[Any],
    watch: Watch,
    work: Workload,
    names: dict[str, str],
) -> None:
    by_chat: dict[int, list[SentMessage]] = defaultdict(list)
    for message, _ in watch.alerts:
        by_chat[message.chat_id].append(message)
    wanted = {(int(chat), str(url)) for chat, url, *_ in rows}
    result.alert_rows = len(rows)
    result.predicted_rows = len(work.predicted)
    result.unpredicted = len(wanted ^ work.predicted)
    result.alert_messages = len(watch.alerts)
    sent_by: Counter[str] = Counter()
    for chat, url, status, ref, worker in rows:
        shown = [m for m in by_chat[int(chat)] if url in m.links]
        if status != "sent" or not shown:
            result.lost += 1
        elif not any(str(m.message_id) == ref for m in shown):
            result.wrong_ref += 1
        result.repeated_alerts += max(0, len(shown) - 1)
        if status == "sent":
            sent_by[names.get(str(worker), str(worker))] += 1
    for chat, messages in by_chat.items():
        for message in messages:
            for url in set(message.links) & watch.links:
                if (chat, url) not in wanted:
                    result.stray_alerts += 1
    result.by_worker = dict(sorted(sent_by.items()))


def _updates(
    result: RunResult,
    order: Sequence[tuple[int, int, datetime | None]],
    inbox: Sequence[Any],
    work: Workload,
    names: dict[str, str],
) -> None:
    result.updates = sum(len(c) for c in work.commands.values())
    result.inbox_rows = len(inbox)
    result.updates_done = len(order)
    per_chat: dict[int, list[int]] = defaultdict(list)
    for chat, update_id, _ in order:
        per_chat[chat].append(update_id)
    result.updates_out_of_order = sum(1 for ids in per_chat.values() if ids != sorted(ids))
    handled = Counter(
        names.get(str(worker), str(worker)) for status, worker in inbox if status == "done"
    )
    result.updates_by_worker = dict(sorted(handled.items()))


def _signature(message: SentMessage) -> str:
    """How a reply opens, its numbers aside ("Your keywords (2 of 30)")."""
    first = (message.text.strip().splitlines() or [""])[0]
    return re.sub(r"\d+", "#", first)[:24]


def _replies(
    result: RunResult, watch: Watch, work: Workload, sent_at: dict[int, list[float]]
) -> None:
    """One reply per command, in the order of the commands: a command's replies all open
    alike (their first line), so a chat whose replies came out of order shows a command
    answered by another command's reply."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    latencies = []
    aligned: dict[int, list[tuple[str, SentMessage, float]]] = {}
    for chat, cmds in work.commands.items():
        replies = watch.replies[chat]
        result.replies += len(replies)
        collapsed: list[tuple[SentMessage, float]] = []
        for message, at in replies:
            if collapsed and _signature(collapsed[-1][0]) == _signature(message):
                result.repeated_replies += 1  # the same update answered twice in a row
                continue
            collapsed.append((message, at))
        result.missing_replies += max(0, len(cmds) - len(collapsed))
        aligned[chat] = [(text, m, at) for (_, text), (m, at) in zip(cmds, collapsed, strict=False)]
        for (_, text), (message, _) in zip(cmds, collapsed, strict=False):
            seen[text][_signature(message)] += 1
        for typed, (_, at) in zip(sent_at[chat], collapsed, strict=False):
            latencies.append(at - typed)
    # Each command's replies open alike, and no two commands' alike: then a chat whose
    # replies differ from its commands' usual ones got them out of order.
    usual = {text: sigs.most_common(1)[0][0] for text, sigs in seen.items()}
    if len(set(usual.values())) != len(usual):
        result.replies_out_of_order += 1
    for items in aligned.values():
        if any(_signature(m) != usual[text] for text, m, _ in items):
            result.replies_out_of_order += 1
    if latencies:
        latencies.sort()
        result.reply_latency = {
            "median": statistics.median(latencies),
            "p95": latencies[int(0.95 * (len(latencies) - 1))],
            "max": latencies[-1],
        }


def windows_over(times: Sequence[float], width: float, limit: int) -> int:
    """How many windows of ``width`` seconds, one starting at each event, hold more than
    ``limit`` events."""
    ordered, over, hi = sorted(times), 0, 0
    for lo, t in enumerate(ordered):
        while hi < len(ordered) and ordered[hi] < t + width:
            hi += 1
        over += hi - lo > limit
    return over


def max_in_window(times: Sequence[float], width: float) -> int:
    """The most events in any window of ``width`` seconds (sliding, half-open)."""
    ordered, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# ------------------------------------------------------------------------------ the budget


async def sending(base: str, shared: bool) -> dict[str, Any]:
    """Three PTB bots send 90 messages to 90 chats at Telegram's limits (in this process)."""
    chats = list(range(9001, 9091))
    async with private_schema(base) as url, FakeTelegram(limits=FloodLimits()) as fake:
        await upgrade_async(url)
        for chat in chats:
            fake.add_user(chat)
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
        times = [
            r.at for r in fake.requests if r.method.lower() == "sendmessage" and r.status == 200
        ]
    return {
        "setup": "shared budget (SharedRateLimiter)"
        if shared
        else "own AIORateLimiter each (baseline)",
        "messages": len(fake.sent),
        "seconds": seconds,
        "per_second": len(fake.sent) / seconds,
        "max_per_second": max_in_window(times, 1.0),
        "429s": fake.flood_errors,
    }


# ------------------------------------------------------------------------------ the report


def print_report(
    size: Size, work: Workload, runs: list[RunResult], budget: list[dict[str, Any]]
) -> None:
    print(
        f"\nfleet: {size.subscribers:,} subscribers, {size.notices} notices "
        f"({size.notices - size.cf_notices} Find a Tender + {size.cf_notices} Contracts Finder), "
        f"{work.matching} subscribers matching {len(work.predicted)} alerts, "
        f"{size.users} users x {size.commands} commands; claim lease {LEASE}"
    )
    header = (
        "| run | import s | first alert s | alerts | msgs | alerts s | alerts/s | msgs/s "
        "| max in 1 s (windows > 30) | max in 5 s | 429s | lost | repeated | updates "
        "| out of order | reply p50/p95 s |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in runs:
        lat = r.reply_latency
        print(
            f"| {r.name} | {r.import_seconds:.1f} | {r.first_alert_seconds:.1f} | {r.alert_rows} "
            f"| {r.alert_messages} | {r.alert_seconds:.1f} | {r.alerts_per_second:.1f} "
            f"| {r.messages_per_second:.1f} | {r.max_per_second} ({r.seconds_over_30}) "
            f"| {r.max_per_5_seconds} | {r.flood_429s} | {r.lost} "
            f"| {r.repeated_alerts} | {r.updates_done}/{r.updates} "
            f"| {r.updates_out_of_order + r.replies_out_of_order} "
            f"| {lat.get('median', 0):.1f}/{lat.get('p95', 0):.1f} |"
        )
    for r in runs:
        web = r.webhook_ms
        print(
            f"  {r.name} ({r.seconds:.0f} s): polls {r.polls}, {r.polls_skipped} skipped (lease "
            f"taken), {r.overlapping_polls} overlapping, feed requests at once <= "
            f"{r.max_feed_requests_at_once}\n    alerts by worker {r.by_worker}, updates by "
            f"worker {r.updates_by_worker}\n    webhook answered in {web.get('median', 0):.0f}/"
            f"{web.get('p95', 0):.0f}/{web.get('max', 0):.0f} ms (p50/p95/max), "
            f"{r.webhook_retries} pushes retried; the fake's loop late by "
            f"{r.fake_lag_ms.get('p99', 0):.0f}/{r.fake_lag_ms.get('max', 0):.0f} ms (p99/max)"
        )
        if r.kill:
            k = r.kill
            print(
                f"  killed {k.worker} after {k.after_alerts} alerts holding "
                f"{k.claimed_alert_rows} alert rows and {k.claimed_updates} updates; in flight "
                f"{k.in_flight_alerts} alerts, "
                f"{k.in_flight_replies} replies; repeated {r.repeated_alerts} alerts, "
                f"{r.repeated_replies} replies"
            )
        for problem in r.problems():
            print(f"  FAILED: {problem}")
    if not budget:
        return
    print("\n| sending: 3 bots, 90 chats, Telegram's limits | s | msg/s | max in 1 s | 429s |")
    print("|---|---|---|---|---|")
    for b in budget:
        print(
            f"| {b['setup']} | {b['seconds']:.1f} | {b['per_second']:.1f} | {b['max_per_second']} "
            f"| {b['429s']} |"
        )


async def run(
    base: str, quick: bool, logs: Path, only: str | None = None
) -> tuple[Size, Workload, list[RunResult], list[dict[str, Any]]]:
    size = QUICK if quick else FULL
    work = build_workload(size, datetime.now(UTC))
    runs = []
    for spec in QUICK_RUNS if quick else FULL_RUNS:
        if only is not None and spec.name != only:
            continue
        print(f"run: {spec.name} ...", file=sys.stderr, flush=True)
        runs.append(await one_run(base, work, size, spec, logs))
    budget = []
    if not quick and only is None:
        budget = [await sending(base, shared=False), await sending(base, shared=True)]
    return size, work, runs, budget


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="two small runs (under a minute)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BESTBOT_BENCH_DATABASE_URL")
        or os.environ.get("BESTBOT_TEST_DATABASE_URL")
        or DEFAULT_URL,
    )
    parser.add_argument("--logs", help="keep the processes' logs and configs in this folder")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument(
        "--run", choices=[r.name for r in FULL_RUNS], help="only this run (no budget section)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
        logs = Path(args.logs) if args.logs else Path(tmp)
        size, work, runs, budget = asyncio.run(run(args.database_url, args.quick, logs, args.run))
    print(f"machine: {machine()}")
    print_report(size, work, runs, budget)
    if args.json:
        print(json.dumps({"runs": [asdict(r) for r in runs], "sending": budget}, indent=2))
    ok = all(not r.problems() for r in runs)
    if budget:
        shared = budget[1]
        ok = ok and shared["429s"] == 0 and shared["messages"] == 90
    print("\nOK" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
