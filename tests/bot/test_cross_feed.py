"""One procurement published on both feeds is alerted once, and its updates reach the same
people, whichever feed the change arrives on."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.app import App
from bot.config import config_from_dict
from storage.db import Database
from storage.models import DeliveryRow, NoticeRow
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"
OCID = "ocds-b5fd17-8e9e80b5-0a39-4580-a5f2-2b35442a9378"  # Hampshire catering tender
NOW = datetime(2025, 1, 23, 18, 0, tzinfo=UTC)


class Recorder:
    """A Telegram channel that records what it would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.edits: list[tuple[int, int, str]] = []

    async def send(self, chat_id: int, message: Any) -> int:
        if message.edit_of is not None:
            self.edits.append((chat_id, message.edit_of, message.text))
            return int(message.edit_of)
        self.sent.append((chat_id, message.text))
        return len(self.sent)


def _write(tmp_path: Path, name: str, release: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"releases": [release]}), encoding="utf-8")
    return path


def _releases(tmp_path: Path) -> tuple[Path, Path, Path]:
    package = json.loads(SAMPLE.read_text(encoding="utf-8"))
    (cf,) = [r for r in package["releases"] if r["ocid"] == OCID]
    fts = copy.deepcopy(cf)  # the same tender as Find a Tender would carry it
    fts["ocid"], fts["id"] = "ocds-h6vhtk-04f1a2", "ocds-h6vhtk-04f1a2-1"
    moved = copy.deepcopy(fts)  # later, the buyer moves the deadline on Find a Tender only
    moved["id"] += "-2"
    moved["date"] = "2025-01-24T10:00:00Z"
    moved["tender"]["tenderPeriod"]["endDate"] = "2025-03-14T13:00:00Z"
    return (
        _write(tmp_path, "cf.json", cf),
        _write(tmp_path, "fts.json", fts),
        _write(tmp_path, "fts-moved.json", moved),
    )


async def test_same_tender_on_both_feeds_alerts_once_and_updates_once(
    database: Database, tmp_path: Path
) -> None:
    cf, fts, moved = _releases(tmp_path)
    async with database.session() as session:
        await upsert_subscriber(
            session,
            SubscriberInput(None, None, 501, "instant", {"keywords": ["catering"]}),
        )

    def config(*paths: Path) -> Any:
        feeds = [{"name": p.stem, "kind": "file", "path": str(p)} for p in paths]
        return config_from_dict(
            {
                "database": {"url": database.url},
                "web": {"secret_key": "cross-feed-secret-key"},
                "alerts": {"quiet_hours": "off"},
                "feeds": feeds,
            },
            env={},
        )

    telegram = Recorder()
    async with App(config(cf, fts), telegram=telegram, clock=lambda: NOW) as service:
        first = await service.cycle()
    assert first.ok
    assert len(telegram.sent) == 1 and "Hampshire Primary Cluster 4" in telegram.sent[0][1]

    later = datetime(2025, 1, 24, 10, 5, tzinfo=UTC)
    async with App(config(moved), telegram=telegram, clock=lambda: later) as service:
        await service.cycle()
    assert len(telegram.sent) == 2
    assert "deadline moved from 7 Mar to 14 Mar" in telegram.sent[1][1]
    # and the first alert is edited in place, once
    ((chat, message_id, text),) = telegram.edits
    assert (chat, message_id) == (501, 1)
    assert text.startswith("📝 <b>Changed</b>: deadline moved from 7 Mar to 14 Mar")

    async with database.session() as session:
        notices = (await session.exec(select(NoticeRow))).all()
        rows = (await session.exec(select(DeliveryRow))).all()
    (canonical,) = [n for n in notices if n.duplicate_of is None]
    assert len(notices) == 2 and all(r.notice_id == canonical.id for r in rows)
