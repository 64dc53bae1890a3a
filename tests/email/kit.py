"""Shared pieces of the email tests: a DKIM key pair made with openssl, the config of an App
that mails a real SMTP sink, subscribers, and the Contracts Finder sample as a file feed."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.app import App, channels
from bot.config import Config, config_from_dict
from storage.db import Database
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.conftest import SAMPLES
from tests.fakes.smtp import SmtpSink

SAMPLE = SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"
TITLE = "Hampshire Primary Cluster 4 Catering Tender"
#: Just after the sample notice was published; it closes Fri 7 Mar 2025, 13:00.
CLOCK = datetime(2025, 1, 23, 18, 0, tzinfo=UTC)
PUBLIC_URL = "https://alerts.seem.example"
FROM = "alerts@seem.example"
BOUNCES = "bounces@seem.example"
SECRET = "s" * 32


@cache
def dkim_keys() -> tuple[str, str]:
    """(private key PEM, the ``p=`` value of its DNS record), an RSA-2048 pair from openssl."""
    folder = Path(tempfile.mkdtemp(prefix="bestbot-dkim-"))
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key.read_text(), base64.b64encode(der).decode("ascii")


def dkim_record() -> bytes:
    return f"v=DKIM1; k=rsa; p={dkim_keys()[1]}".encode()


def email_config(
    smtp: SmtpSink,
    database: Database,
    *,
    feed: Path = SAMPLE,
    brand: dict[str, str] | None = None,
    inbound: dict[str, Any] | None = None,
    **email: Any,
) -> Config:
    """An App config that mails ``smtp`` and reads the CF sample as its only feed."""
    values: dict[str, Any] = {
        "from_address": FROM,
        "smtp_host": smtp.hostname,
        "smtp_port": smtp.port,
        "starttls": False,
    }
    values.update(email)
    if inbound is not None:
        values["inbound"] = inbound
    return config_from_dict(
        {
            "brand": brand or {},
            "database": {"url": database.url},
            "email": values,
            "web": {"public_url": PUBLIC_URL, "secret_key": SECRET},
            "feeds": [{"name": "cf-sample", "kind": "file", "path": str(feed)}],
            "alerts": {"quiet_hours": "off"},
            "telegram": {"admin_ids": [4242]},
        },
        env={},
    )


async def subscribe(
    db: Database, address: str, keywords: list[str], frequency: str = "instant"
) -> int:
    async with db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name=None,
                email=address,
                telegram_chat_id=None,
                frequency=frequency,
                profile={"keywords": keywords},
            ),
        )
    return sub_id


async def cycle(config: Config, clock: datetime = CLOCK) -> Any:
    """One poll → match → send, as ``bestbot poll`` runs it."""
    async with (
        channels(config, receive=False) as (_bot, telegram, email),
        App(config, clock=lambda: clock, telegram=telegram, email=email) as app,
    ):
        return await app.cycle()
