"""Importing a file a chunk at a time (``upsert_subscribers``) ends exactly as importing its
rows one by one (``upsert_subscriber``): same subscribers, same profiles, same counts — with
rows that repeat a person, change an address, match a stored subscriber by email or by
chat, and chunks that split a person's rows apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from storage import subscribers as store
from storage.db import Database, upgrade_async
from storage.models import ProfileRow, SubscriberRow
from storage.subscribers import SubscriberInput, upsert_subscriber, upsert_subscribers


def _item(
    name: str | None,
    email: str | None = None,
    chat: int | None = None,
    keywords: tuple[str, ...] = ("grounds maintenance",),
    frequency: str = "instant",
    **profile: Any,
) -> SubscriberInput:
    return SubscriberInput(
        name=name,
        email=email,
        telegram_chat_id=chat,
        frequency=frequency,
        profile={"keywords": list(keywords), **profile},
    )


STORED = [
    _item("Riverside Community Farm", email="hello@riverside.example", keywords=("horticulture",)),
    _item("Canal Boat CIC", chat=5001, keywords=("canal", "boat hire")),
]
FILE = [
    _item("New Leaf Catering", email="orders@newleaf.example", keywords=("catering", "meals")),
    _item("Fixers Co-op", chat=5002, keywords=("property repairs",), regions=["UKF"]),
    # the stored subscriber, by email, now also on Telegram, weekly
    _item("Riverside Farm CIC", email="hello@riverside.example", chat=5003, frequency="weekly"),
    # the stored Telegram subscriber gains an address
    _item(None, email="crew@canalboat.example", chat=5001, keywords=("boat hire",)),
    # a repeat of a row of this file, by chat id: an update, not a second subscriber
    _item("Fixers Co-operative", chat=5002, keywords=("roof repairs", "gutters")),
    # found by its new address (given two rows up), with a different chat id
    _item("Canal Boat CIC", email="crew@canalboat.example", chat=5004),
    _item("Youth Link", email="team@youthlink.example", keywords=("youth work",), vcse_only=True),
    _item("Youth Link", email="team@youthlink.example", keywords=("youth work", "mentoring")),
    _item("Solo Translator", chat=5005, keywords=("BSL", "interpreting"), min_value=1000),
]


def _state(rows: list[tuple[SubscriberRow, ProfileRow | None]]) -> list[tuple[Any, ...]]:
    """What an import decides, without the ids and times it makes up."""
    out = []
    for sub, profile in rows:
        kept = profile.model_dump(exclude={"id", "subscriber_id", "updated_at"}) if profile else {}
        out.append(
            (
                sub.name,
                sub.email,
                sub.email_active,
                sub.email_verified,
                sub.telegram_chat_id,
                sub.telegram_active,
                sub.frequency,
                sorted(kept.items()),
            )
        )
    return sorted(out, key=repr)


async def _import(db: Database, bulk: bool) -> tuple[tuple[int, int], list[tuple[Any, ...]]]:
    async with db.session() as session:
        for item in STORED:
            await upsert_subscriber(session, item)
    async with db.session() as session:
        if bulk:
            counts = await upsert_subscribers(session, FILE)
        else:
            created = updated = 0
            for item in FILE:
                _, new = await upsert_subscriber(session, item)
                created, updated = created + new, updated + (not new)
            counts = (created, updated)
    async with db.session() as session:
        rows = await session.exec(
            select(SubscriberRow, ProfileRow).join(
                ProfileRow, col(ProfileRow.subscriber_id) == col(SubscriberRow.id), isouter=True
            )
        )
        return counts, _state(list(rows.all()))


@pytest.mark.parametrize("chunk", [1, 3, 500])
async def test_bulk_import_ends_as_one_by_one(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "IMPORT_CHUNK", chunk)
    urls = [f"sqlite:///{tmp_path / name}" for name in ("bulk.sqlite3", "one.sqlite3")]
    for url in urls:
        await upgrade_async(url)
    bulk_db, one_db = Database(urls[0]), Database(urls[1])
    try:
        bulk = await _import(bulk_db, bulk=True)
        one = await _import(one_db, bulk=False)
    finally:
        await bulk_db.dispose()
        await one_db.dispose()
    assert bulk == one
    counts, state = bulk
    assert counts == (4, 5)  # 5 updates of rows stored before or earlier in the file
    assert len(state) == 2 + 4


async def test_bulk_import_on_either_database(database: Database) -> None:
    counts, state = await _import(database, bulk=True)
    assert counts == (4, 5)
    by_name = {row[0]: row for row in state}
    farm = by_name["Riverside Farm CIC"]
    assert farm[1:7] == ("hello@riverside.example", True, True, 5003, True, "weekly")
    fixers = by_name["Fixers Co-operative"]
    assert ("keywords", ["roof repairs", "gutters"]) in fixers[7]
    assert ("regions", ["UKF"]) in fixers[7]  # kept from the first row: not in the second
    canal = by_name["Canal Boat CIC"]
    assert canal[1] == "crew@canalboat.example" and canal[4] == 5004
    assert "Youth Link" in by_name and len(state) == 6
