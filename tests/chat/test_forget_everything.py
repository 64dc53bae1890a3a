"""Issue #18.8: /forget deletes every row that names the person, in every table.

Through the real bot: someone who only ever asked a question (never subscribed), and a
subscriber who asked one too, each /forget; then every table of the database is read
whole and searched for their chat id, their name and their words. Someone else's rows stay.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

from bot.chat.core import data
from tests.chat.conftest import ANN, BEN, Chat

ANN_ASKS = "How do we bid for the Loughborough school meals contract?"
BEN_ASKS = "Can a CIC with two staff bid for grounds maintenance in Derby?"
OTHER_ASKS = "Who do we ask about the Leicester framework lots?"


async def _dump(chat: Chat) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as plain values."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with chat.db.session() as session:
        connection = await session.connection()  # Core rows: plain tables, not models
        for table in SQLModel.metadata.sorted_tables:
            result = await connection.execute(sa_select(table))
            out[table.name] = [dict(row._mapping) for row in result]
    return out


def _naming(dump: dict[str, list[dict[str, Any]]], *marks: str | int) -> list[str]:
    """``table.column`` of every cell that holds one of ``marks`` (a number as a whole
    number, a text anywhere in it)."""
    found = []
    for table, rows in dump.items():
        for row in rows:
            for column, value in row.items():
                text = str(value)
                for mark in marks:
                    pattern = rf"(?<![\w.]){mark}(?![\w.])" if isinstance(mark, int) else None
                    if (pattern and re.search(pattern, text)) or (
                        isinstance(mark, str) and mark in text
                    ):
                        found.append(f"{table}.{column}")
    return sorted(set(found))


async def _forget(chat: Chat, uid: int) -> str:
    ask = await chat.send(uid, "/forget")
    assert "Delete everything?" in ask.text, ask.text
    assert await chat.press(uid, ask, data("fg", "y")) == "Deleted"
    return chat.current(ask).text


async def test_someone_who_only_asked_is_forgotten_everywhere(chat: Chat) -> None:
    await chat.onboard(ANN, "school meals")  # someone else, who must be untouched
    await chat.send(ANN, f"/ask {OTHER_ASKS}")
    reply = await chat.send(BEN, f"/ask {BEN_ASKS}")
    assert "ENQ-" in reply.text
    assert BEN_ASKS in str(await _dump(chat))
    doc = await chat.send(BEN, "/mydata")  # what is held is shown, not denied
    assert doc.document is not None and BEN_ASKS in doc.document.data.decode()
    done = await _forget(chat, BEN)
    assert "deleted" in done
    left = _naming(await _dump(chat), BEN, "Ben", BEN_ASKS[:30])
    assert left == [], left
    assert OTHER_ASKS in str(await _dump(chat))  # Ann's question is still there
    assert await chat.subscriber(ANN) is not None
    assert "nothing to delete" in (await chat.send(BEN, "/forget")).text


async def test_a_subscriber_who_asked_is_forgotten_everywhere(chat: Chat) -> None:
    await chat.onboard(ANN, "school meals")
    await chat.send(ANN, f"/ask {ANN_ASKS}")
    await chat.onboard(BEN, "grounds maintenance")
    await chat.send(BEN, f"/ask {BEN_ASKS}")
    await _forget(chat, ANN)
    left = _naming(await _dump(chat), ANN, "Ann", ANN_ASKS[:30], "school meals")
    assert left == [], left
    assert BEN_ASKS in str(await _dump(chat)) and await chat.subscriber(BEN) is not None
