"""Logging set-up, and the redaction every log record goes through.

Secrets must never reach a log line — not the bot token (PTB's debug lines carry it in
every request URL), not a password in a database or SMTP URL, not a signed link (an
unsubscribe or manage token is a credential). Redaction happens where records are *made*
(a log-record factory), so it covers every logger, handler and test capture alike, and
the exception text of a traceback too:

* every secret the service was configured with (:func:`protect`), wherever it appears;
* anything shaped like a Telegram bot token (``123456:AA…``, also inside ``/bot123456:AA…``);
* the password part of ``scheme://user:password@host`` URLs;
* bestbot's signed link tokens, new and old style.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable

__all__ = ["protect", "redact", "setup_logging"]

MASK = "***"
# No \b before the digits: in a Bot API URL the token follows "bot" (``/bot123:AA…``).
_BOT_TOKEN = re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}")
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)(?P<pw>[^@\s/]+)(?=@)", re.I)
_LINK_TOKEN = re.compile(
    r"\b[A-Za-z0-9]{1,40}[.-][0-9a-z]{1,8}[.-][0-9a-z]{1,8}[.-][A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])"
)
_LEGACY_TOKEN = re.compile(r"\b\d{1,19}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")

_secrets: set[str] = set()
_lock = threading.Lock()


def protect(secrets: Iterable[str | None]) -> None:
    """Mask these strings in every log record from now on (short ones are ignored: a
    four-letter "secret" would mask ordinary words)."""
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= 6)


def redact(text: str) -> str:
    """``text`` with every secret and credential-shaped string masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _BOT_TOKEN.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    text = _LINK_TOKEN.sub(MASK, text)
    return _LEGACY_TOKEN.sub(MASK, text)


_previous_factory = logging.getLogRecordFactory()


def _factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the record readable, never crash logging
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    return record


def install() -> None:
    """Make every record go through :func:`redact` (idempotent)."""
    if logging.getLogRecordFactory() is not _factory:
        logging.setLogRecordFactory(_factory)


#: Libraries whose debug lines carry what people wrote and what was sent to them (every
#: update, every request's parameters): with ``-v`` they still log at INFO — ``-v`` is
#: bestbot's own detail, not a transcript of its users.
CONTENT_LOGGERS = ("telegram", "httpx", "httpcore", "aiosmtplib", "aiohttp", "asyncio")
#: Database drivers log every statement with its values (addresses, names, questions,
#: codes) from INFO down: they stay at WARNING, ``-v`` or not.
SQL_LOGGERS = ("sqlalchemy", "aiosqlite", "psycopg")
#: Libraries that are too chatty at INFO for everyday logs.
NOISY_LOGGERS = ("alembic", "httpx", "apscheduler", "telegram.ext.Updater")


def setup_logging(verbose: bool) -> None:
    """The CLI's logging: one line a record on stderr, redacted; quiet libraries."""
    install()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in SQL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if verbose:
        for name in CONTENT_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
    else:
        for noisy in NOISY_LOGGERS:
            logging.getLogger(noisy).setLevel(logging.WARNING)


install()
