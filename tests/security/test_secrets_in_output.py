"""Issue #17.6: no secret reaches a log line, an error message or an export.

Every secret bestbot is given or makes is used for real, by real processes with ``-v``
(PTB's debug lines carry the bot token in every request URL): the bot token, the database
password, the SMTP and IMAP passwords, the web secret key, and the credentials it signs —
the unsubscribe token and the "manage by Telegram" link in an alert email, the 6-digit
code it emails. Then every file the processes wrote (stderr and stdout of ``run``,
``subscribers list``, ``enquiries export``, a bad config, a database that is down) and
the ``/mydata`` document are searched for each one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from storage.db import Database
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, free_port, fresh_release

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
TOKEN = f"987654321:AA{secrets.token_urlsafe(30)[:33]}"
DB_PASSWORD = f"db-{secrets.token_hex(8)}"
SMTP_PASSWORD = f"smtp-{secrets.token_hex(8)}"
IMAP_PASSWORD = f"imap-{secrets.token_hex(8)}"
SECRET_KEY = f"key-{secrets.token_urlsafe(24)}"
READER = 8501  # a Telegram subscriber: alerts by Telegram
EVE = 8502  # opens the link from the emailed alert
EMAIL = "owner@enterprise.example.org"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, limits=FloodLimits().scaled(20)) as server:
        server.add_user(READER, "Rita")
        server.add_user(EVE, "Eve")
        yield server


def _with_password(url: str) -> str:
    """The test database's URL with a password in it (the CI server trusts local users,
    so any password connects — and it is the password that must never be shown)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    netloc = f"{user}:{DB_PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def _config(
    db_url: str, fake: FakeTelegram, smtp: SmtpSink, feed_url: str, port: int
) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "telegram": {
            "token": TOKEN,
            "base_url": fake.base_url,
            "bot_username": fake.bot_username,
        },
        "web": {"host": "127.0.0.1", "port": port, "secret_key": SECRET_KEY},
        "alerts": {"quiet_hours": "off", "group_within": "0s"},
        "email": {
            "from_address": "SEEM alerts <alerts@seem.example.org>",
            "smtp_host": smtp.hostname,
            "smtp_port": smtp.port,
            "smtp_username": "alerts",
            "smtp_password": SMTP_PASSWORD,
            "starttls": False,
            "timeout": "5s",
            "inbound": {
                "host": "127.0.0.1",
                "port": free_port(),  # nobody listens: every mailbox poll fails, and says so
                "ssl": False,
                "username": "enquiries",
                "password": IMAP_PASSWORD,
                "every": "1m",
            },
        },
        "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feed_url, "every": "1m"}],
    }


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_no_secret_in_any_log_error_or_export(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    db_url = database.url if database.url.startswith("sqlite") else _with_password(database.url)
    port = free_port()
    found: dict[str, str] = {}  # the credentials bestbot made, by name
    async with FeedServer() as feeds, SmtpSink(auth=("alerts", SMTP_PASSWORD)) as smtp:
        feeds.releases["fts"] = [fresh_release(1)]
        procs = Procs(tmp_path, _config(db_url, fake, smtp, feeds.fts_url, port))
        try:
            await procs.import_subscribers(
                [
                    {"email": EMAIL, "name": "Owner Ltd", "keywords": ["district heating"]},
                    {"telegram_id": READER, "name": "Rita", "keywords": ["district heating"]},
                ]
            )
            run = await procs.start("run", name="run", verbose=True)
            [alert] = await fake.wait_for_messages(READER, 1, timeout=45)
            [mail] = await smtp.wait_for_messages(1, timeout=30)
            assert mail.login == "alerts"
            found["unsubscribe token"] = _unsubscribe_token(mail.header("List-Unsubscribe"))
            found["manage link"] = _manage_payload(mail.text or "")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:
                path = f"/unsubscribe/{found['unsubscribe token']}"
                assert (await web.get(path)).status_code == 200
                assert (await web.get(path + "x")).status_code == 400
            # Eve opens the forwarded link: a code goes to the owner's address
            fake.user_sends(EVE, f"/start {found['manage link']}")
            await fake.wait_for_messages(EVE, 1, timeout=20)
            await smtp.wait_for_messages(2, timeout=20)
            found["email code"] = _code(smtp.messages[-1].text or "")
            fake.user_sends(EVE, "000000" if found["email code"] != "000000" else "111111")
            fake.user_sends(EVE, found["email code"])
            await fake.wait_for_messages(EVE, 3, timeout=20)
            fake.user_sends(EVE, "/mydata")
            [*_, export] = await fake.wait_for_messages(EVE, 4, timeout=20)
            assert export.document is not None
            (tmp_path / "mydata.json").write_bytes(export.document.data)
            assert await run.stop() == 0, run.stderr()[-3000:]

            await procs.run("subscribers", "list", name="subscribers-list")
            await procs.run("enquiries", "export", name="enquiries-export")
            # a config error with the password in a broken URL, and a database that is down
            broken = dict(procs.config, database={"url": f"postgresql//bob:{DB_PASSWORD}@db/x"})
            procs.write_config(broken)
            assert (await procs.run("poll", name="bad-config")).process.returncode == 2
            down = f"postgresql://bob:{DB_PASSWORD}@127.0.0.1:{free_port()}/x"
            procs.write_config(dict(procs.config, database={"url": down}))
            assert (await procs.run("poll", name="database-down")).process.returncode == 1
        finally:
            await procs.close()
    assert alert.text
    everything = {p.name: p.stderr() + p.output() for p in procs.started}
    everything["mydata.json"] = (tmp_path / "mydata.json").read_text()
    assert "telegram.ext" in everything["run"]  # -v really logged PTB's debug lines
    assert "/unsubscribe/" in everything["run"]  # the pages were logged, and the code tried
    wanted = {
        "bot token": TOKEN,
        "bot token's secret half": TOKEN.split(":", 1)[1],
        "SMTP password": SMTP_PASSWORD,
        "IMAP password": IMAP_PASSWORD,
        "database password": DB_PASSWORD,
        "web secret key": SECRET_KEY,
        **found,
    }
    leaks = [
        (what, where)
        for what, secret in wanted.items()
        for where, text in everything.items()
        if re.search(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", text)
    ]
    assert leaks == [], leaks


def _unsubscribe_token(header: str | None) -> str:
    found = re.search(r"/unsubscribe/([^>\s]+)>", header or "")
    assert found is not None, header
    return found.group(1)


def _manage_payload(text: str) -> str:
    found = re.search(r"\?start=([A-Za-z0-9_-]+)", text)
    assert found is not None, text[-1500:]
    return found.group(1)


def _code(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found is not None, text
    return found.group(1)
