"""``bestbot demo``: the product as a person meets it, offline, in under a minute.

What it shows, on one demo clock (Fri 24 Jan 2025, 10:00 UTC — the time of the bundled
samples, so every date reads as it did then):

1. **A first conversation.** A new enterprise (Sam, of a Nottingham catering co-op) opens
   the bot and answers its questions, through the real Application and the in-repo fake
   Bot API (``tests/fakes/telegram_api.py``, served on 127.0.0.1): the transcript is what a
   phone would show, buttons included.
2. **The main job.** Every bundled real sample published by that time is polled as a
   ``file`` feed, plus a few illustrative East Midlands notices
   (``bot/demo_data/east_midlands_notices.json``: made up, marked as such); sample
   enterprises from the East Midlands (``bot/demo_data/subscribers.json``), each with its
   regions, are matched. Sam gets a grouped message and presses a numbered button; Homeward
   Care gets one rich single alert with its "why".
3. **A week later** the same clock moves on seven days and the daily and weekly digests go
   out: Telegram digests are printed, and every email (a digest among them) is written as
   ``.eml`` to ``./demo-outbox/`` and its text printed.

Nothing leaves the machine: the fake Bot API listens on loopback, email goes to files.
"""

from __future__ import annotations

import email
import email.policy
import html
import importlib
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TextIO

from bot.app import CycleReport
from bot.config import Config, config_from_dict
from bot.subscriber_files import read_subscriber_file
from storage.reports import NoticeSummary, notice_summary
from storage.subscribers import upsert_subscriber

SAMPLES = Path(__file__).resolve().parent.parent / "feeds" / "samples"
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
DEMO_SUBSCRIBERS = DEMO_DATA / "subscribers.json"
DEMO_NOTICES = DEMO_DATA / "east_midlands_notices.json"
DEMO_NOW = datetime(2025, 1, 24, 10, 0, tzinfo=UTC)
LATER = timedelta(days=7)
#: Samples the demo leaves out. The bluetail file's tags were rewritten (awards relabelled
#: as tenders): not a fair demo. The others were published after the demo clock — a notice
#: from March 2025 or from 2026 could not be alerted on 24 Jan 2025 ("653 days left").
SKIP_SAMPLES = {
    "cf_bluetail_json_1_1_raw_2019-2020.jsonl",
    "cf_cfserver1_release_literals_2025-03-11.json",
    "s2w_cfserver1_release_literals_2025-02.json",
    "fts_032703-2026_UK4_tender.json",
    "fts_037689-2026_UK1_pipeline.json",
    "fts_release_package_2026-10-06_limit4.json",
}
SAM = 700010
SAM_NAME = "Sam"
#: What Sam types and taps, in order. A press names a button by what it says (``a|b``: the
#: first of those there is); a press whose button is not there is skipped, so the script
#: still runs when the conversation offers other choices.
SAM_SCRIPT: tuple[tuple[str, str], ...] = (
    ("send", "/start"),
    ("send", "school meals, community catering, holiday food"),
    ("press", "Next|Done|✅ Looks good"),
    ("press", "Instant"),
)
SAM_AFTER_ALERT = "👎"  # on the item that only shares a word, if there is one; else 👍 1
_TAG = re.compile(r"<a href=\"([^\"]*)\">(.*?)</a>|<[^>]+>", re.S)
_QUIET_LOGGERS = ("bot", "httpx", "telegram", "apscheduler", "aiohttp", "tests")


def sample_files() -> list[Path]:
    files = [p for p in sorted(SAMPLES.iterdir()) if p.suffix in {".json", ".jsonl", ".csv"}]
    return [p for p in files if p.name not in SKIP_SAMPLES] + [DEMO_NOTICES]


def demo_config(workdir: Path, telegram: dict[str, Any] | None = None) -> Config:
    feeds = [{"name": p.stem[:60], "kind": "file", "path": str(p)} for p in sample_files()]
    data: dict[str, Any] = {
        "database": {"url": f"sqlite:///{workdir / 'demo.sqlite3'}"},
        "web": {
            "public_url": "https://bestbot.example.org",
            "secret_key": "demo-only-secret-key-not-for-production",
        },
        "email": {"from_address": "SEEM alerts <alerts@seem.example.org>"},
        "alerts": {"quiet_hours": "off"},
        "feeds": feeds,
    }
    if telegram is not None:
        data["telegram"] = telegram
    return config_from_dict(data, env={})


def as_plain(text: str) -> str:
    """Telegram HTML as a person sees it: links shown after their text, tags removed."""

    def repl(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f"{match.group(2)} <{html.unescape(match.group(1))}>"
        return ""

    return html.unescape(_TAG.sub(repl, text))


class DemoClock:
    """The demo's one clock: every part reads it, and the demo moves it on."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class EmlOutbox:
    """An email channel that writes each message to ``<dir>/NNN.eml``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: list[Path] = []

    async def send(self, message: EmailMessage) -> str:
        path = self.directory / f"{len(self.files) + 1:03d}.eml"
        path.write_bytes(bytes(message))
        self.files.append(path)
        return str(message.get("Message-ID", path.name))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[EmlOutbox]:
        yield self


def _fakes() -> tuple[Any, Any, Any]:
    """The fake Bot API and the harness that runs bestbot against it, from the repository
    checkout (they live with the tests; the demo borrows them rather than copying them)."""
    root = str(SAMPLES.parent.parent)  # the checkout this bot/ belongs to
    if (SAMPLES.parent.parent / "tests" / "fakes").is_dir() and root not in sys.path:
        sys.path.append(root)
    try:
        api = importlib.import_module("tests.fakes.telegram_api")
        harness = importlib.import_module("tests.fakes.harness")
        flood = importlib.import_module("tests.fakes.flood")
    except ImportError as exc:  # pragma: no cover - an installed package without tests/
        raise SystemExit(
            "bestbot demo needs the repository checkout (it uses tests/fakes): run it as "
            "`make demo` from the repository."
        ) from exc
    return api, harness, flood


@dataclass
class Phone:
    """What the people in the demo see: each chat's messages as a phone would show them."""

    fake: Any
    running: Any
    out: TextIO
    names: dict[int, str]
    printed: dict[int, int] = field(default_factory=dict)

    def _show(self, chat_id: int, message: Any) -> None:
        print(f"🤖 bestbot → {self.names.get(chat_id, chat_id)}:", file=self.out)
        for line in as_plain(message.raw_text).splitlines():
            print(f"   {line}", file=self.out)
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            print("   " + "  ".join(f"[ {b['text']} ]" for b in row), file=self.out)

    async def settle(self) -> None:
        _, harness, _ = _fakes()
        await harness.settle(self.fake, self.running)

    def new_messages(self, chat_id: int) -> list[Any]:
        messages = self.fake.messages(chat_id)
        start = self.printed.get(chat_id, 0)
        self.printed[chat_id] = len(messages)
        return list(messages[start:])

    async def show_new(self, chat_id: int) -> list[Any]:
        await self.settle()
        fresh = self.new_messages(chat_id)
        for message in fresh:
            self._show(chat_id, message)
        return fresh

    async def send(self, chat_id: int, text: str) -> None:
        print(f"\n👤 {self.names.get(chat_id, chat_id)}: {text}", file=self.out)
        self.fake.user_sends(chat_id, text)
        await self.show_new(chat_id)

    async def press(self, chat_id: int, label: str, message: Any | None = None) -> bool:
        """Press the first button containing ``label`` (on ``message``, else on the chat's
        latest message with one); False when there is none."""
        candidates = [message] if message is not None else reversed(self.fake.messages(chat_id))
        for candidate in candidates:
            current = self.fake.message(chat_id, candidate.message_id)
            for row in (current.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return await self._press(chat_id, current, button)
        return False

    async def _press(self, chat_id: int, message: Any, button: dict[str, Any]) -> bool:
        print(f"\n👤 {self.names.get(chat_id, chat_id)} taps [ {button['text']} ]", file=self.out)
        answered = len(self.fake.callback_answers)
        before = message.text
        self.fake.user_presses(chat_id, message.message_id, button["callback_data"])
        answers = await self.fake.wait_for_callback_answers(answered + 1)
        await self.settle()
        toast = answers[answered].text
        if toast:
            print(f"   (Telegram shows: “{toast}”)", file=self.out)
        edited = self.fake.message(chat_id, message.message_id)
        status = [ln for ln in edited.text.splitlines() if ln.startswith("▸")]
        if status and edited.text.startswith(before.split("\n\n▸")[0]):
            print(f"   (the message now ends: {status[-1]})", file=self.out)
        elif edited.text != before:
            print("   (the message changes to:)", file=self.out)
            self._show(chat_id, edited)
        await self.show_new(chat_id)
        return True


def _heading(title: str, out: TextIO) -> None:
    print(f"\n{'═' * 3} {title} {'═' * max(3, 64 - len(title))}", file=out)


async def _onboarding(phone: Phone, out: TextIO) -> None:
    _heading(f"1. {SAM_NAME} from a Nottingham catering co-op opens the bot", out)
    for step, text in SAM_SCRIPT:
        if step == "send":
            await phone.send(SAM, text)
            continue
        for label in text.split("|"):
            if await phone.press(SAM, label):
                break
        else:
            print(f"\n   (no “{text}” button this time: nothing to tap)", file=out)


async def _first_alerts(phone: Phone, app: Any, out: TextIO) -> CycleReport:
    _heading(f"2. The main job runs ({DEMO_NOW:%a %d %b %Y, %H:%M} UTC)", out)
    report: CycleReport = await app.cycle()
    await phone.settle()
    for chat_id in sorted(phone.names):
        fresh = phone.new_messages(chat_id)
        for message in fresh:
            print("", file=out)
            phone._show(chat_id, message)
        if chat_id == SAM and fresh:
            await _sam_reacts(phone, fresh[-1], out)
    return report


async def _sam_reacts(phone: Phone, message: Any, out: TextIO) -> None:
    """Sam marks the item that merely shares a word as not relevant (the toast names it),
    or, if every item fits, the first one as relevant."""
    text = message.text
    numbers = re.findall(r"^(\d+)\. (.+)$", text, flags=re.M)
    odd = next((n for n, title in numbers if "equipment" in title.lower()), None)
    if odd is not None:
        await phone.press(SAM, f"{SAM_AFTER_ALERT} {odd}", message)
    elif numbers:
        await phone.press(SAM, "👍 1", message)
    else:
        await phone.press(SAM, "Relevant", message)


def _print_emails(files: list[Path], out: TextIO, start: int = 0) -> None:
    for path in files[start:]:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        print(f"\n✉️  Email to {parsed['To']} — “{parsed['Subject']}” ({path.name})", file=out)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        for line in text.split("\n-- \n")[0].strip().splitlines():
            print(f"   {line}", file=out)


async def run_demo(outbox_dir: Path, out: TextIO = sys.stdout) -> CycleReport:
    """The whole demo (``outbox_dir`` must exist); returns the main job's report."""
    api, harness, flood = _fakes()
    people = read_subscriber_file(DEMO_SUBSCRIBERS)
    names = {p.telegram_chat_id: p.name or "" for p in people if p.telegram_chat_id}
    names[SAM] = SAM_NAME
    with tempfile.TemporaryDirectory(prefix="bestbot-demo-") as tmp:
        async with api.FakeTelegram(limits=flood.FloodLimits().scaled(20)) as fake:
            for chat_id, name in names.items():
                fake.add_user(chat_id, name.split(" (")[0])
            harness.register_fake(fake)
            telegram = {"token": fake.token, "base_url": fake.base_url}
            config = demo_config(Path(tmp), telegram)
            mail, clock = EmlOutbox(outbox_dir), DemoClock(DEMO_NOW)
            async with harness.running_bot(config, clock=clock, email=mail.session) as running:
                app = running.app
                async with app.db.session() as session:
                    for person in people:
                        await upsert_subscriber(session, person)
                print(
                    f"bestbot demo: {len(sample_files())} feed files ({len(sample_files()) - 1} "
                    f"real samples + illustrative East Midlands notices), {len(people)} sample "
                    f"enterprises and {SAM_NAME}; clock set to {DEMO_NOW:%a %d %b %Y %H:%M} UTC",
                    file=out,
                )
                phone = Phone(fake, running, out, names)
                await _onboarding(phone, out)
                report = await _first_alerts(phone, app, out)
                _print_emails(mail.files, out)
                emailed = len(mail.files)
                clock.now = DEMO_NOW + LATER
                _heading(f"3. A week later ({clock.now:%a %d %b %Y}): the digests", out)
                report.dispatch.add(await app.dispatch())
                await phone.settle()
                for chat_id in sorted(names):
                    for message in phone.new_messages(chat_id):
                        print("", file=out)
                        phone._show(chat_id, message)
                _print_emails(mail.files, out, emailed)
                async with app.db.session() as session:
                    stored = await notice_summary(session, DEMO_NOW)
                telegram_sent = sum(len(fake.messages(c)) for c in names)
        print_summary(report, telegram_sent, mail.files, outbox_dir, out)
        print_notices(stored, out)
        return report


def print_summary(
    report: CycleReport, telegram: int, emails: list[Path], outbox: Path, out: TextIO
) -> None:
    stored = sum(p.new + p.changed + p.unchanged for p in report.polls)
    skipped = sum(p.skipped for p in report.polls)
    m = report.matching
    print("\n══ Summary " + "═" * 40, file=out)
    for poll in report.polls:
        print(f"  {poll.line()}", file=out)
    print(
        f"notices stored:   {stored} from {len(report.polls)} files ({skipped} skipped)", file=out
    )
    print(f"matched:          {m.matches} matches over {m.notices} new notices", file=out)
    print(f"telegram:         {telegram} messages shown above", file=out)
    print(f"email:            {len(emails)} messages written to {outbox}/", file=out)
    errors = [p for p in report.polls if p.error]
    for poll in errors:
        print(f"feed problem:     {poll.line()}", file=out)


def print_notices(summary: NoticeSummary, out: TextIO) -> None:
    """What the database now holds: the issue's 'readable summary' of the notices."""
    from bot.render.phrases import region_name

    stages = ", ".join(f"{n} {stage}" for stage, n in summary.by_stage.most_common())
    print(f"\nby stage:         {stages}", file=out)
    regions = ", ".join(
        f"{n} {region_name(r) if r != 'not stated' else r}"
        for r, n in summary.by_region.most_common(8)
    )
    print(f"by region:        {regions}", file=out)
    print(
        f"suitability:      {summary.vcse_suitable} suitable for VCSEs, "
        f"{summary.sme_suitable} for SMEs; {summary.duplicates} seen on both feeds",
        file=out,
    )
    print(f"\nclosing soonest (as of {DEMO_NOW:%d %b %Y}):", file=out)
    for deadline, title, buyer in summary.closing_soonest:
        print(f"  {deadline:%a %d %b %Y}  {title[:70]} — {buyer or 'buyer not stated'}", file=out)


def main_demo(outbox: str = "demo-outbox") -> int:
    import asyncio

    for name in _QUIET_LOGGERS:  # the transcript and the summary say what happened
        logging.getLogger(name).setLevel(logging.WARNING)
    outbox_dir = Path(outbox)
    if outbox_dir.exists():
        shutil.rmtree(outbox_dir)
    outbox_dir.mkdir(parents=True)
    asyncio.run(run_demo(outbox_dir))
    return 0
