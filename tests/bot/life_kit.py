"""Shared pieces of the procurement-life tests: real-shaped FTS releases (built from the
bundled samples by ``tests/feeds/uk_profile_releases.py``) written as file feeds, the
composed App run one cycle at a time against the fake Bot API and an SMTP sink."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.app import App, channels
from bot.config import config_from_dict
from storage.db import Database
from storage.models import DeliveryRow, ProfileRow
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram
from tests.feeds import uk_profile_releases as uk

Release = dict[str, Any]


def restamp(
    release: Release,
    notice_id: str,
    code: str,
    doc_type: str,
    published: str,
    tag: Sequence[str],
    *,
    where: str = "tender",
) -> Release:
    """The next notice of the same procurement, as FTS publishes it: a new release id and
    date, and its notice document (``noticeType`` ``code``) under ``where``."""
    release = copy.deepcopy(release)
    release["id"], release["tag"], release["date"] = notice_id, list(tag), published
    block = release.setdefault(where, {})
    block["documents"] = [
        *[d for d in block.get("documents", []) if d.get("id") != notice_id],
        uk.notice_doc(notice_id, code, doc_type, f"{code} notice", published),
    ]
    return release


def heat_network_life() -> dict[str, Release]:
    """Northumberland's heat networks procurement from pipeline to termination: the real UK1
    (dated earlier, so the sequence runs UK1, UK2, UK3, UK4, UK12), the UK2 and UK3 built
    on it, then the tender and its termination."""
    uk1 = uk.uk1_pipeline()
    uk1["date"] = "2026-03-02T10:00:00+00:00"
    for block in (uk1.get("planning", {}), uk1.get("tender", {})):
        for doc in block.get("documents", []):
            if doc.get("noticeType"):
                doc["datePublished"] = uk1["date"]
    uk3 = uk.uk3_planned()
    uk4 = restamp(
        uk3, "052000-2026", "UK4", "tenderNotice", "2026-06-01T10:00:00+01:00", ["tender"]
    )
    uk4["tender"]["status"] = "active"
    uk4["tender"]["tenderPeriod"] = {"endDate": "2026-07-10T12:00:00+01:00"}
    uk4["tender"].pop("communication", None)
    uk12 = restamp(
        uk4,
        "058000-2026",
        "UK12",
        "tenderCancellationNotice",
        "2026-06-20T16:00:00+01:00",
        ["tenderCancellation"],
    )
    return {"UK1": uk1, "UK2": uk.uk2_engagement(), "UK3": uk3, "UK4": uk4, "UK12": uk12}


def dynamic_market_life() -> dict[str, Release]:
    """Central Bedfordshire's supported living dynamic market, UK13 to UK16 (the real tender
    it is built on shares its ocid with other fixtures: this life gets its own)."""
    builders = {
        "UK13": uk.uk13_dm_intention,
        "UK14": uk.uk14_dm_established,
        "UK15": uk.uk15_dm_modified,
        "UK16": uk.uk16_dm_ceased,
    }
    out = {}
    for code, build in builders.items():
        release = build()
        release["ocid"] = "ocds-h6vhtk-0dm001"
        out[code] = release
    return out


def write_feed(tmp_path: Path, name: str, *releases: Release) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"releases": list(releases)}), encoding="utf-8")
    return path


def life_config(fake: FakeTelegram, smtp: SmtpSink, database: Database, feed: Path | None) -> Any:
    feeds = [{"name": "fts-file", "kind": "file", "path": str(feed)}] if feed else []
    return config_from_dict(
        {
            "database": {"url": database.url},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "email": {
                "from_address": "BEST Procurement alerts <alerts@seem.example.org>",
                "smtp_host": smtp.hostname,
                "smtp_port": smtp.port,
                "starttls": False,
            },
            "web": {"public_url": "https://alerts.example.org", "secret_key": "s" * 32},
            "feeds": feeds,
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )


async def cycle(config: Any, clock: datetime) -> Any:
    """One run of the main job (poll, match, deliver) at ``clock``."""
    async with (
        channels(config, receive=False) as (_bot, telegram, email),
        App(config, clock=lambda: clock, telegram=telegram, email=email) as app,
    ):
        return await app.cycle()


async def subscribe(
    db: Database,
    *,
    chat: int | None = None,
    email: str | None = None,
    keywords: Sequence[str],
    frequency: str = "instant",
    **profile: Any,
) -> int:
    async with db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name=None,
                email=email,
                telegram_chat_id=chat,
                frequency=frequency,
                profile={"keywords": list(keywords), **profile},
            ),
        )
    return sub_id


async def set_profile(db: Database, sub_id: int, **values: Any) -> None:
    async with db.session() as session:
        query = select(ProfileRow).where(ProfileRow.subscriber_id == sub_id)
        row = (await session.exec(query)).one()
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


async def deliveries(db: Database, **where: Any) -> list[DeliveryRow]:
    async with db.session() as session:
        rows = list((await session.exec(select(DeliveryRow).order_by(DeliveryRow.id))).all())
    return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


def struck(message: Any) -> str:
    """The text of a message's strikethrough entities, joined (what a person sees crossed
    out)."""
    text = message.text.encode("utf-16-le")
    parts = []
    for entity in message.entities:
        if entity["type"] == "strikethrough":
            start, length = entity["offset"] * 2, entity["length"] * 2
            parts.append(text[start : start + length].decode("utf-16-le"))
    return "\n".join(parts)
