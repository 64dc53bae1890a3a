"""``bestbot advisers import/list/invite`` and ``bestbot enquiries export`` through
``bot.cli.main``; the printed invite link, opened in Telegram, links the adviser once."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.enquiries.model import IncomingMessage
from storage import enquiries as store
from storage.db import Database
from tests.enquiries.enquiry_kit import ROSTER, SECRET, TENDER_Q, running
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
NEW_ADVISER = 9100
SOMEONE_ELSE = 9101


def _config(tmp_path: Path, database_url: str) -> str:
    path = tmp_path / "bestbot.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[web]\nsecret_key = "{SECRET}"\n\n'
        '[telegram]\nbot_username = "bestbot_test_bot"\n'
    )
    return str(path)


def test_advisers_import_list_invite_and_export(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, database_url)
    roster = [{k: v for k, v in a.items() if k != "telegram_id"} for a in ROSTER]
    roster[0]["telegram_id"] = 9001
    path = tmp_path / "advisers.json"
    path.write_text(json.dumps(roster))
    assert main(["--config", config, "advisers", "import", str(path)]) == 0
    assert "4 added, 0 updated" in capsys.readouterr().out
    assert main(["--config", config, "advisers", "import", str(path)]) == 0
    assert "0 added, 4 updated" in capsys.readouterr().out

    assert main(["--config", config, "advisers", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["id"] for a in listed] == ["duty", "fay", "tess", "tom"]
    fay = next(a for a in listed if a["id"] == "fay")
    assert fay["topics"] == ["finance", "funding"] and fay["telegram"] is False
    assert main(["--config", config, "advisers", "list"]) == 0
    table = capsys.readouterr().out
    assert "Tess Tendering" in table and "email" in table and "telegram" in table

    assert main(["--config", config, "advisers", "invite", "tom"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.me/bestbot_test_bot?start=adv-")
    token = link.partition("start=adv-")[2]
    assert main(["--config", config, "advisers", "invite", "nobody"]) == 2
    assert "no adviser with id 'nobody'" in capsys.readouterr().err

    (tmp_path / "bad.json").write_text('[{"id": "x", "topics": ["cooking"], "capacity": 1}]')
    assert main(["--config", config, "advisers", "import", str(tmp_path / "bad.json")]) == 2
    assert "unknown topic" in capsys.readouterr().err

    asyncio.run(_open_invite_and_ask(database_url, token))

    out = tmp_path / "enquiries.csv"
    assert main(["--config", config, "enquiries", "export", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1
    assert rows[0]["reference"] == "ENQ-000001" and rows[0]["topic"] == "tendering"
    assert rows[0]["adviser"] == "tess" and rows[0]["status"] == "open"
    assert main(["--config", config, "enquiries", "export"]) == 0
    assert capsys.readouterr().out.startswith("reference,channel,topic")
    assert TENDER_Q not in out.read_text()  # no message text in the export


async def _open_invite_and_ask(database_url: str, token: str) -> None:
    database = Database(database_url)
    try:
        async with FakeTelegram(limits=FloodLimits().scaled(20)) as fake:
            fake.add_user(NEW_ADVISER, "Tom")
            fake.add_user(SOMEONE_ELSE, "Sam")
            fake.add_user(7001, "Ann")
            async with running(fake, database) as bot:
                fake.user_starts(NEW_ADVISER, payload=f"adv-{token}")
                (welcome,) = await fake.wait_for_messages(NEW_ADVISER, 1)
                assert "Welcome, Tom Bids!" in welcome.text
                fake.user_starts(SOMEONE_ELSE, payload=f"adv-{token}")
                (refused,) = await fake.wait_for_messages(SOMEONE_ELSE, 1)
                assert "not valid or has already been used" in refused.text
                fake.user_starts(SOMEONE_ELSE, payload=f"adv-{token[:-2]}xx")
                forged = (await fake.wait_for_messages(SOMEONE_ELSE, 2))[-1]
                assert "not valid" in forged.text
                queue = await bot.send(NEW_ADVISER, "/queue")
                assert "queue is empty" in queue.text
                await bot.service.receive(
                    IncomingMessage(channel="telegram", text=TENDER_Q, telegram_chat_id=7001)
                )
            async with database.session() as session:
                tom = await store.adviser_by_code(session, "tom")
            assert tom is not None and tom.telegram_id == NEW_ADVISER
    finally:
        await database.dispose()
