"""The masks of :mod:`bot.logs` on the shapes secrets take in real log lines (the process
test, ``test_secrets_in_output``, proves no secret gets through; these pin each shape)."""

from __future__ import annotations

import logging

import pytest

from bot.links import Signer, start_payload
from bot.logs import MASK, redact, setup_logging

TOKEN = "123456789:AAFakeTokenForTheTestsOnly_0123456789"


@pytest.mark.parametrize(
    "line",
    [
        f"POST http://127.0.0.1:8081/bot{TOKEN}/getMe 200",  # PTB and httpx: after "bot"
        f"Set Bot API File URL: https://api.telegram.org/file/bot{TOKEN}",
        f"token={TOKEN}",
        f"({TOKEN})",
    ],
)
def test_a_bot_token_is_masked_wherever_it_sits(line: str) -> None:
    shown = redact(line)
    assert TOKEN not in shown and TOKEN.split(":")[1] not in shown and MASK in shown


def test_passwords_in_urls_and_signed_links_are_masked() -> None:
    assert redact("postgresql://bob:hunter2@db/x") == f"postgresql://bob:{MASK}@db/x"
    token = Signer("k" * 32).sign("unsub", "S02f52gW3SedSbIq9CgmSF")
    assert token not in redact(f"GET /unsubscribe/{token} 200")
    assert start_payload(token) not in redact(f"/start {start_payload(token)}")


def test_verbose_logging_keeps_sql_and_payloads_out() -> None:
    """``-v``: bestbot's own debug lines, but no SQL with its values and no update dumps."""
    setup_logging(verbose=True)
    try:
        assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
        assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("telegram.ext.ExtBot").getEffectiveLevel() == logging.INFO
    finally:
        for name in ("telegram", "httpx", "httpcore", "aiosmtplib", "aiohttp", "asyncio"):
            logging.getLogger(name).setLevel(logging.NOTSET)
