"""The one callback-data codec: every inline button's data is packed and read here.

Telegram gives a button 1–64 bytes of ``callback_data`` and hands it back on a press — and
any client can send any bytes, so data is *read* defensively (anything malformed is None,
never an error) and nothing in it is trusted beyond "which button was this": handlers check
every id against the database and the presser's role.

Format: ``action[:arg]…`` with ``action`` a short lower-case word and each argument a short
token of ``[A-Za-z0-9_.+-]``. Families in use (see :mod:`bot.routes`):

* alert buttons ``fb+:<delivery>``, ``fb-``, ``mute:<delivery>:<keyword index>``, ``undo``,
  ``rem``, ``ask``;
* settings ``s:<step>[:<arg>…]``;
* enquiries ``e:<enquiry>:<verb>[:<arg>]:<tag>`` — **signed** (:func:`sign`): the tag is an
  HMAC of the data and the chat the button was sent to, so a button copied into another
  chat, or data typed by hand, is refused before anything is looked up.

Keywords travel as their index, never as text, so data always fits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = ["CALLBACK_DATA_LIMIT", "TAG_LENGTH", "Callback", "pack", "sign", "unpack", "verify"]

CALLBACK_DATA_LIMIT = 64
_ACTION = re.compile(r"[a-z][a-z0-9_+\-]{0,11}")
_ARG = re.compile(r"[A-Za-z0-9_.+\-]{1,40}")
_ID = re.compile(r"0|[1-9][0-9]{0,18}")
TAG_LENGTH = 8
"""Characters of the signature tag: 48 bits, enough that guessing one press in a chat is
hopeless, short enough that an enquiry button's data stays far below 64 bytes."""


@dataclass(frozen=True)
class Callback:
    """A pressed button's data, read back: the action and its arguments as text."""

    action: str
    args: tuple[str, ...] = ()

    def id(self, index: int = 0) -> int | None:
        """Argument ``index`` as a canonical non-negative id, else None."""
        if index >= len(self.args) or not _ID.fullmatch(self.args[index]):
            return None
        return int(self.args[index])

    def arg(self, index: int) -> str:
        return self.args[index] if index < len(self.args) else ""


def pack(action: str, *args: str | int) -> str:
    """Callback data for a button; ``ValueError`` for anything that could not be read back
    or that breaks Telegram's 64-byte limit (a programming error, caught by the tests)."""
    if not _ACTION.fullmatch(action):
        raise ValueError(f"bad callback action {action!r}")
    parts = [action]
    for arg in args:
        if isinstance(arg, bool):
            raise ValueError(f"bad callback argument {arg!r}")
        text = str(arg)
        if isinstance(arg, int) and not 0 <= arg < 10**19:
            raise ValueError(f"bad callback id {arg!r}")
        if not _ARG.fullmatch(text):
            raise ValueError(f"bad callback argument {text!r}")
        parts.append(text)
    data = ":".join(parts)
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data too long ({len(data.encode())} bytes): {data!r}")
    return data


def unpack(data: object) -> Callback | None:
    """The :class:`Callback` in ``data``, or None for anything malformed or oversized."""
    if not isinstance(data, str) or not data or len(data.encode()) > CALLBACK_DATA_LIMIT:
        return None
    action, *args = data.split(":")
    if not _ACTION.fullmatch(action) or not all(_ARG.fullmatch(a) for a in args):
        return None
    return Callback(action, tuple(args))


def _tag(key: bytes, chat_id: int, data: str) -> str:
    digest = hmac.new(key, f"bestbot-button\x00{chat_id}\x00{data}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()[:TAG_LENGTH]


def sign(key: bytes, chat_id: int, data: str) -> str:
    """``data`` with a tag binding it to the chat it is sent to (``ValueError`` when the
    signed data would not fit, like :func:`pack`)."""
    signed = f"{data}:{_tag(key, chat_id, data)}"
    if unpack(signed) is None:
        raise ValueError(f"callback data too long to sign: {data!r}")
    return signed


def verify(key: bytes, chat_id: int, data: object) -> Callback | None:
    """The :class:`Callback` of signed ``data`` pressed in ``chat_id`` (tag removed), or None
    when it is malformed, unsigned, or signed for another chat."""
    parsed = unpack(data)
    if parsed is None or not parsed.args:
        return None
    assert isinstance(data, str)
    body, _, tag = data.rpartition(":")
    if not hmac.compare_digest(tag, _tag(key, chat_id, body)):
        return None
    return Callback(parsed.action, parsed.args[:-1])
