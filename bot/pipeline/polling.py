"""Polling one feed into the database, page by page, crash-safe.

Each page of notices is stored in one transaction together with the cursor that
follows it, so a crash re-reads at most one page and never skips one. A release
that can't be parsed (or stored safely) is logged with its id and skipped; the rest of
the page is stored. A poll takes the feed's database lease first, so two workers never
poll one feed at once; finding the lease taken is not a failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.errors import brief
from feeds.local import parse_file
from feeds.notice import Notice
from feeds.ocds import ParseProblem
from feeds.paging import FeedPage
from storage.cursors import record_poll_error, save_cursor
from storage.db import Database
from storage.notices import StoreResult, store_notice

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    """What one poll of one feed did (printed by ``bestbot poll``, logged by ``run``)."""

    feed: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    pages: int = 0
    error: str | None = None
    #: Why the poll did not run at all, when that is no failure (another worker has it).
    not_run: str | None = None
    problems: list[str] = field(default_factory=list)
    stored: list[StoreResult] = field(default_factory=list)

    def line(self) -> str:
        if self.not_run:
            return f"{self.feed}: not polled — {self.not_run}"
        text = (
            f"{self.feed}: {self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )
        return f"{text} — error: {self.error}" if self.error else text

    def count(self, result: StoreResult) -> None:
        self.stored.append(result)
        if result.status == "new":
            self.new += 1
        elif result.status == "changed":
            self.changed += 1
        else:
            self.unchanged += 1


async def store_page(
    db: Database,
    feed: str,
    notices: Sequence[Notice],
    problems: Sequence[ParseProblem],
    report: PollReport,
    *,
    cursor: str | None,
    watermark: datetime | None,
) -> None:
    """Store one page and its resume cursor in a single transaction."""
    for problem in problems:
        log.warning("%s: skipped %s", feed, problem)
        if len(report.problems) < 20:
            report.problems.append(str(problem)[:300])
    report.skipped += len(problems)
    # The page reads (is it stored?) then writes. On SQLite a deferred transaction that
    # does so fails at once with "database is locked" when another connection committed
    # between its first read and its first write (e.g. the sender claiming messages); a
    # write transaction from the start waits for the lock instead (busy timeout).
    async with db.write_session() as session:
        for notice in notices:
            report.count(await store_notice(session, notice))
        await save_cursor(
            session, feed, cursor=cursor, watermark=watermark, skipped=[str(p) for p in problems]
        )
    report.pages += 1


async def poll_pages(db: Database, feed: str, pages: AsyncIterator[FeedPage]) -> PollReport:
    """Consume a feed client's pages; a fetch error ends the poll but keeps what was stored."""
    report = PollReport(feed)
    try:
        async for page in pages:
            await store_page(
                db,
                feed,
                page.notices,
                page.problems,
                report,
                cursor=page.resume.dumps(),
                watermark=page.resume.since,
            )
    except Exception as exc:  # the service must carry on whatever a feed does
        report.error = brief(exc, 500)
        log.error("%s: poll stopped: %s", feed, report.error)
        async with db.write_session() as session:
            await record_poll_error(session, feed, report.error)
    return report


async def poll_file(db: Database, feed: str, path: str | Path) -> PollReport:
    """Import a local OCDS/CSV file as if it were a feed (the demo and imports use it)."""
    report = PollReport(feed)
    try:
        result = await asyncio.to_thread(parse_file, path)
    except Exception as exc:
        report.error = str(exc)[:500]
        async with db.write_session() as session:
            await record_poll_error(session, feed, report.error)
        return report
    await store_page(db, feed, result.notices, result.problems, report, cursor=None, watermark=None)
    return report
