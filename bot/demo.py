"""``bestbot demo``: the whole main job on the bundled real samples, with no credentials.

It polls every bundled sample file as a ``file`` feed into a fresh SQLite
database, imports a few sample subscribers, matches, renders and "sends":
Telegram messages are printed as a person would see them, emails are written as
``.eml`` files in ``./demo-outbox/``. The clock is set to the time of the
samples (January 2025) so their deadlines are still open, as they were then.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TextIO

from bot.app import App, CycleReport
from bot.config import Config, config_from_dict
from bot.render.model import TelegramMessage
from bot.subscriber_files import read_subscriber_file
from storage.reports import NoticeSummary, notice_summary
from storage.subscribers import upsert_subscriber

SAMPLES = Path(__file__).resolve().parent.parent / "feeds" / "samples"
DEMO_SUBSCRIBERS = Path(__file__).resolve().parent / "demo_data" / "subscribers.json"
DEMO_NOW = datetime(2025, 1, 21, 10, 0, tzinfo=UTC)
# The bluetail file's tags were rewritten (awards relabelled as tenders): not a fair demo.
SKIP_SAMPLES = {"cf_bluetail_json_1_1_raw_2019-2020.jsonl"}
_TAG = re.compile(r"<a href=\"([^\"]*)\">(.*?)</a>|<[^>]+>", re.S)


def sample_files() -> list[Path]:
    files = [p for p in sorted(SAMPLES.iterdir()) if p.suffix in {".json", ".jsonl", ".csv"}]
    return [p for p in files if p.name not in SKIP_SAMPLES]


def demo_config(workdir: Path) -> Config:
    feeds = [{"name": p.stem[:60], "kind": "file", "path": str(p)} for p in sample_files()]
    return config_from_dict(
        {
            "database": {"url": f"sqlite:///{workdir / 'demo.sqlite3'}"},
            "web": {
                "public_url": "https://bestbot.example.org",
                "secret_key": "demo-only-secret-key-not-for-production",
            },
            "email": {"from_address": "SEEM alerts <alerts@seem.example.org>"},
            "alerts": {"quiet_hours": "off"},
            "feeds": feeds,
        },
        env={},
    )


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


class ConsoleTelegram:
    """A Telegram channel that prints each message instead of sending it."""

    def __init__(self, out: TextIO, names: dict[int, str]) -> None:
        self.out, self.names, self.sent = out, names, 0

    async def send(self, chat_id: int, message: TelegramMessage) -> int:
        self.sent += 1
        who = self.names.get(chat_id, str(chat_id))
        print(f"\n── Telegram to {who} " + "─" * 20, file=self.out)
        print(as_plain(message.text), file=self.out)
        for row in message.buttons:
            print("   " + "  ".join(f"[ {b.text} ]" for b in row), file=self.out)
        return self.sent


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


async def run_demo(outbox_dir: Path, out: TextIO = sys.stdout) -> CycleReport:
    """Run the main job once on the samples; return its report (``outbox_dir`` must exist)."""
    with tempfile.TemporaryDirectory(prefix="bestbot-demo-") as tmp:
        config = demo_config(Path(tmp))
        people = read_subscriber_file(DEMO_SUBSCRIBERS)
        names = {p.telegram_chat_id: p.name or "" for p in people if p.telegram_chat_id}
        telegram, email = ConsoleTelegram(out, names), EmlOutbox(outbox_dir)
        clock = DemoClock(DEMO_NOW)
        async with App(config, telegram=telegram, email=email.session, clock=clock) as app:
            async with app.db.session() as session:
                for person in people:
                    await upsert_subscriber(session, person)
            print(
                f"bestbot demo: {len(sample_files())} bundled sample files, "
                f"{len(people)} sample subscribers, clock set to {DEMO_NOW:%d %b %Y %H:%M} UTC",
                file=out,
            )
            report = await app.cycle()
            # Daily and weekly digests fall due later: move the one demo clock on a week.
            clock.now = DEMO_NOW + timedelta(days=7)
            report.dispatch.add(await app.dispatch())
            async with app.db.session() as session:
                stored = await notice_summary(session, DEMO_NOW)
        print_summary(report, telegram.sent, email.files, outbox_dir, out)
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
    print(f"telegram:         {telegram} messages printed above", file=out)
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
    import logging

    logging.getLogger("bot").setLevel(logging.WARNING)  # the summary says what happened
    outbox_dir = Path(outbox)
    if outbox_dir.exists():
        shutil.rmtree(outbox_dir)
    outbox_dir.mkdir(parents=True)
    asyncio.run(run_demo(outbox_dir))
    return 0
