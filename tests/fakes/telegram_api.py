"""A fake Telegram Bot API server on loopback, as strict as the real one where bots trip.

python-telegram-bot reaches it through ``base_url`` (``Bot(token, base_url=fake.base_url)``
or ``ApplicationBuilder().base_url(fake.base_url)``) and sees the real wire format: the
``{"ok": ..., "result" | "error_code", "description", "parameters"}`` envelope, form,
multipart or JSON requests, long-polled ``getUpdates``. Tests play users with the
``user_*`` methods and assert on the records (``sent``, ``edits``, ``callback_answers``,
``requests``). See ``tests/fakes/README.md`` for the full list.
"""

# ruff: noqa: ASYNC109  -- the wait_for_* helpers take ``timeout=`` on purpose: it reads best
# in tests and they raise AssertionError (with the last requests) rather than TimeoutError.
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes.flood import FloodControl, FloodLimits
from tests.fakes.telegram_html import EntityParseError, ParsedText, parse_html, utf16_len

DEFAULT_TOKEN = "123456789:AAFakeTokenForBestbotTests_0123456789"
BOT_USERNAME = "bestbot_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_KINDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
#: BotCommandScope types the Bot API knows.
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
SEND_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "sendmediagroup", "sendsticker"}
)
EDIT_METHODS = frozenset({"editmessagetext", "editmessagereplymarkup", "editmessagecaption"})

JSON = dict[str, Any]


class ApiError(Exception):
    """An error answer: HTTP status = ``error_code``, Telegram's ``description``."""

    def __init__(self, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# --- records ---------------------------------------------------------------------------------


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    filename: str | None
    mime_type: str | None
    data: bytes
    file_path: str


@dataclass
class SentMessage:
    """A message the bot sent, in its current state (edits update it, ``history`` keeps the
    earlier versions as ``(text, reply_markup)``)."""

    chat_id: int
    message_id: int
    method: str
    text: str  # text or caption as the user sees it, entities parsed
    raw_text: str  # as the bot sent it
    parse_mode: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    reply_to_message_id: int | None
    date: int
    document: StoredFile | None = None
    #: sendPhoto / sendMediaGroup: the picture as uploaded, and its album's id.
    photo: StoredFile | None = None
    media_group_id: str | None = None
    deleted: bool = False
    history: list[tuple[str, JSON | None]] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        return [e["url"] for e in self.entities if e["type"] == "text_link"]

    @property
    def buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button(self, text_contains: str) -> JSON:
        """The first inline button whose text contains ``text_contains``."""
        for b in self.buttons:
            if text_contains in b.get("text", ""):
                return b
        raise AssertionError(f"no button containing {text_contains!r} in {self.buttons}")


@dataclass
class EditRecord:
    chat_id: int
    message_id: int
    method: str
    text: str
    reply_markup: JSON | None


@dataclass
class CallbackAnswer:
    callback_query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class RequestRecord:
    method: str
    params: JSON
    status: int
    description: str | None
    at: float
    retry_after: float | None = None


@dataclass
class _User:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    started: bool = False
    blocked: bool = False
    deactivated: bool = False

    def as_dict(self) -> JSON:
        d: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d


@dataclass
class _Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    creator: int | None = None
    admins: set[int] = field(default_factory=set)
    members: set[int] = field(default_factory=set)
    bot_present: bool = True
    bot_is_admin: bool = False
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.type != "private"


@dataclass
class _Injected:
    method: str | None
    code: int
    description: str
    retry_after: float | None
    chat_id: int | None
    times: int


@dataclass
class _CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


# --- helpers for parameters ------------------------------------------------------------------


def _param_json(params: JSON, name: str, what: str | None = None) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as err:
            raise bad_request(f"can't parse {what or name} JSON object") from err
    return value


def _param_int(params: JSON, name: str, *, empty: str | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if empty:
            raise bad_request(empty)
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise bad_request(f"invalid {name} specified") from err


def _param_bool(params: JSON, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in {"true", "1"}
    return bool(value)


def _valid_http_url(url: str) -> bool:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme == "tg":
        return bool(parts.netloc or parts.path)
    host = parts.hostname or ""
    return parts.scheme in {"http", "https"} and "." in host and " " not in url


def _command_entities(text: str) -> list[JSON]:
    if not text.startswith("/"):
        return []
    end = 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_@"):
        end += 1
    return (
        [{"type": "bot_command", "offset": 0, "length": utf16_len(text[:end])}] if end > 1 else []
    )


# --- the server ------------------------------------------------------------------------------


class FakeTelegram:
    """The fake Bot API. Use ``async with FakeTelegram() as fake`` or the ``fake_telegram``
    fixture; point PTB at ``fake.base_url``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        limits: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "BestBot Test",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.clock = clock
        self._limits = limits or FloodLimits()
        self.flood = FloodControl(self._limits, clock)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

        self.users: dict[int, _User] = {}
        self.chats: dict[int, _Chat] = {}
        self.sent: list[SentMessage] = []
        self.edits: list[EditRecord] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.requests: list[RequestRecord] = []
        self.commands: dict[str, list[JSON]] = {}
        #: setMyDescription / setMyShortDescription, by language code ("" for the default)
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.files: dict[str, StoredFile] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        #: Where pushed updates really go: the webhook URL's scheme and host are replaced by
        #: this base (tests serve plain http on loopback; the configured URL stays https).
        self.deliver_webhooks_to: str | None = None
        #: Every push attempt: (update_id, HTTP status or 0 for a connection failure).
        self.webhook_attempts: list[tuple[int, int]] = []
        #: Seconds a method takes to answer (``{"sendmessage": 2.0}``): a slow Telegram.
        self.latency: dict[str, float] = {}
        self._pusher: asyncio.Task[None] | None = None
        self._stopping = False  # ends the webhook pusher even if a cancel is swallowed

        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._delivered_up_to = 0  # highest update_id returned by getUpdates
        self.delivered_count = 0  # updates returned by getUpdates (each once)
        self._confirmed_below = 0  # every update_id < this was confirmed by an offset
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._injected: list[_Injected] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._set_my_description,
            "getmydescription": self._get_my_description,
            "setmyshortdescription": self._set_my_short_description,
            "getmyshortdescription": self._get_my_short_description,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "getchatmembercount": self._get_chat_member_count,
            "getfile": self._get_file,
        }

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def limits(self) -> FloodLimits:
        return self._limits

    @limits.setter
    def limits(self, value: FloodLimits) -> None:
        self._limits = value
        self.flood = FloodControl(value, self.clock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._poll_generation += 1  # release long polls
        # Python 3.11's wait_for can swallow a cancel that lands as its future completes
        # (which _notify makes likely), so the pusher also watches this flag.
        self._stopping = True
        self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pusher
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- scripting users and chats -----------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = True,
    ) -> JSON:
        """Register a user; ``started=True`` means their private chat with the bot exists."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = self.users.get(user_id)
        if user is None:
            user = _User(user_id, first_name or f"User{user_id}", username, last_name)
            user.language_code = language_code
            self.users[user_id] = user
        else:
            user.first_name = first_name or user.first_name
            user.username = username or user.username
        if started:
            user.started = True
            if user_id not in self.chats:
                self.chats[user_id] = _Chat(user_id, "private")
        return user.as_dict()

    def user_starts(self, user_id: int, payload: str | None = None, **user: Any) -> JSON:
        """The user opens the bot and presses Start: sends ``/start [payload]``."""
        self.add_user(user_id, **user)
        return self.user_sends(user_id, f"/start {payload}" if payload else "/start")

    def user_blocks(self, user_id: int, *, notify: bool = True) -> None:
        """From now on sends to this user get 403; a ``my_chat_member`` update is queued."""
        user = self._user(user_id)
        user.blocked = True
        if notify:
            self._queue_chat_member_update(user_id, user_id, "member", "kicked")

    def user_unblocks(self, user_id: int) -> None:
        self._user(user_id).blocked = False

    def user_deactivates(self, user_id: int) -> None:
        """The account is deleted: 403 "user is deactivated"."""
        self._user(user_id).deactivated = True

    def add_group(
        self,
        chat_id: int,
        title: str = "Test group",
        *,
        admins: Iterable[int] = (),
        members: Iterable[int] = (),
        creator: int | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
        supergroup: bool | None = None,
    ) -> JSON:
        """A group the bot is in. Ids must be negative (supergroups are ``-100…``)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        admins = set(admins)
        if creator is None and admins:
            creator = min(admins)
        everyone = set(members) | admins | ({creator} if creator else set())
        for uid in everyone:
            if uid not in self.users:
                self.add_user(uid, started=False)
        is_super = chat_id <= -1_000_000_000_000 if supergroup is None else supergroup
        chat = _Chat(
            chat_id,
            "supergroup" if is_super else "group",
            title=title,
            username=username,
            creator=creator,
            admins=admins - ({creator} if creator else set()),
            members=everyone,
            bot_is_admin=bot_is_admin,
        )
        self.chats[chat_id] = chat
        return self._chat_dict(chat)

    def bot_removed_from(self, chat_id: int) -> None:
        """The bot was kicked from a group: sends get 403."""
        self.chats[chat_id].bot_present = False
        self._queue_chat_member_update(chat_id, None, "member", "kicked")

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        entities: Sequence[JSON] | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        """A user writes ``text`` to the bot (or in group ``chat_id``); queues the update
        and returns the message dict. ``/command`` entities are added like Telegram does."""
        msg = self._user_message(user_id, chat_id, reply_to, first_name, username)
        if text:
            msg["text"] = text
            ents = list(entities) if entities is not None else _command_entities(text)
            if ents:
                msg["entities"] = ents
        if extra:
            msg.update(extra)
        self._queue_update({"message": msg})
        return msg

    def user_sends_sticker(self, user_id: int, emoji: str = "👍", **kw: Any) -> JSON:
        fid = self._new_file_id()
        sticker = {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.user_sends(user_id, "", extra={"sticker": sticker}, **kw)

    def user_sends_photo(self, user_id: int, caption: str | None = None, **kw: Any) -> JSON:
        fid = self._new_file_id()
        photo = [{"file_id": fid, "file_unique_id": f"u{fid}", "width": 90, "height": 90}]
        extra: JSON = {"photo": photo}
        if caption:
            extra["caption"] = caption
        return self.user_sends(user_id, "", extra=extra, **kw)

    def user_sends_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        **kw: Any,
    ) -> JSON:
        stored = self._store_file(filename, mime_type, data, "documents")
        doc = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        extra: JSON = {"document": doc}
        if caption:
            extra["caption"] = caption
        return self.user_sends(user_id, "", extra=extra, **kw)

    def user_forwards(
        self, user_id: int, text: str, *, sender_name: str = "Someone", **kw: Any
    ) -> JSON:
        """A user forwards a message (from a user hiding their account) to the bot."""
        origin = {
            "type": "hidden_user",
            "date": int(time.time()) - 60,
            "sender_user_name": sender_name,
        }
        return self.user_sends(user_id, text, extra={"forward_origin": origin}, **kw)

    def user_presses(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> str:
        """A user presses the inline button carrying ``callback_data`` on a bot message;
        queues a ``callback_query`` update and returns its id. The button must exist."""
        chat_id = user_id if chat_id is None else chat_id
        chat = self.chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        if msg is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
        if callback_data not in [b.get("callback_data") for row in rows for b in row]:
            raise ValueError(f"message {message_id} has no button with data {callback_data!r}")
        user = self._user(user_id)
        qid = f"{self.bot_id}{next(self._callback_ids):08d}"
        self._callbacks[qid] = _CallbackQuery(qid, user_id, chat_id, message_id, callback_data)
        query = {
            "id": qid,
            "from": user.as_dict(),
            "message": msg,
            "chat_instance": f"ci{abs(chat_id)}",
            "data": callback_data,
        }
        self._queue_update({"callback_query": query})
        return qid

    def inject_error(
        self,
        method: str | None,
        code: int,
        description: str | None = None,
        *,
        retry_after: float | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (any method if None; only for
        ``chat_id`` if given) with this error, before any other check."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: injected",
            }.get(code, "Error")
        if code == 429 and retry_after is None:
            retry_after = 1
        self._injected.append(
            _Injected(
                method.lower() if method else None, code, description, retry_after, chat_id, times
            )
        )

    # --- assertions and waiting --------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        return [m for m in self.sent if m.chat_id == chat_id and (include_deleted or not m.deleted)]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        for m in self.sent:
            if m.chat_id == chat_id and m.message_id == message_id:
                return m
        raise KeyError((chat_id, message_id))

    def calls(self, method: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def errors(self, status: int | None = None) -> list[RequestRecord]:
        return [
            r for r in self.requests if r.status != 200 and (status is None or r.status == status)
        ]

    def status_counts(self) -> Counter[int]:
        return Counter(r.status for r in self.requests)

    @property
    def flood_errors(self) -> int:
        """How many requests were answered 429."""
        return sum(1 for r in self.requests if r.status == 429)

    def unanswered_callbacks(self) -> list[str]:
        return [q.id for q in self._callbacks.values() if not q.answered]

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet returned by getUpdates (or accepted by the webhook)."""
        if self.webhook_url:
            return len(self._updates)
        return sum(1 for u in self._updates if u["update_id"] > self._delivered_up_to)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                last = [(r.method, r.status, r.description) for r in self.requests[-5:]]
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last}")
            await self._wait_change(remaining)

    async def wait_for_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``n`` messages to ``chat_id``; return them."""
        await self.wait_until(
            lambda: len(self.messages(chat_id, include_deleted=True)) >= n,
            timeout,
            f"{n} message(s) in chat {chat_id}",
        )
        return self.messages(chat_id, include_deleted=True)

    async def wait_for_callback_answers(
        self, n: int = 1, timeout: float = 5.0
    ) -> list[CallbackAnswer]:
        await self.wait_until(lambda: len(self.callback_answers) >= n, timeout, f"{n} answers")
        return self.callback_answers

    async def wait_for_edits(self, n: int = 1, timeout: float = 5.0) -> list[EditRecord]:
        await self.wait_until(lambda: len(self.edits) >= n, timeout, f"{n} edit(s)")
        return self.edits

    async def wait_for_calls(
        self, method: str, n: int = 1, timeout: float = 5.0
    ) -> list[RequestRecord]:
        await self.wait_until(lambda: len(self.calls(method)) >= n, timeout, f"{n} {method}")
        return self.calls(method)

    async def wait_for_updates_delivered(self, timeout: float = 5.0) -> None:
        """Wait until the bot fetched every queued update (e.g. before asserting silence)."""
        await self.wait_until(lambda: self.pending_updates == 0, timeout, "updates delivered")

    def _notify(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def _wait_change(self, timeout: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)

    # --- HTTP --------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return params
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.post()
            params.update(form.items())
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._read_params(request)
        if delay := self.latency.get(method.lower()):
            await asyncio.sleep(delay)
        record = RequestRecord(method, _printable(params), 200, None, self.clock())
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            self._check_injected(method.lower(), params)
            result = await handler(params)
            body: JSON = {"ok": True, "result": result}
        except ApiError as err:
            record.status, record.description = err.code, err.description
            body = {"ok": False, "error_code": err.code, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
                record.retry_after = err.retry_after
        self.requests.append(record)
        self._notify()
        return web.json_response(body, status=record.status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        for f in self.files.values():
            if f.file_path == path:
                return web.Response(
                    body=f.data, content_type=f.mime_type or "application/octet-stream"
                )
        return web.Response(status=404, text="Not Found")

    def _check_injected(self, method: str, params: JSON) -> None:
        for inj in self._injected:
            if inj.method not in (None, method):
                continue
            if inj.chat_id is not None and str(params.get("chat_id")) != str(inj.chat_id):
                continue
            inj.times -= 1
            if inj.times <= 0:
                self._injected.remove(inj)
            raise ApiError(inj.code, inj.description, inj.retry_after)

    # --- chats -------------------------------------------------------------------------------

    def _user(self, user_id: int) -> _User:
        if user_id not in self.users:
            self.add_user(user_id, started=False)
        return self.users[user_id]

    def _resolve_chat(self, params: JSON) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.username and f"@{chat.username}".lower() == raw.lower():
                    return chat
            raise bad_request("chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError) as err:
            raise bad_request("chat not found") from err
        found = self.chats.get(chat_id)
        if found is None or (found.type == "private" and not self.users[chat_id].started):
            raise bad_request("chat not found")
        return found

    def _writable_chat(self, params: JSON) -> _Chat:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.deactivated:
                raise ApiError(403, "Forbidden: user is deactivated")
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        elif not chat.bot_present:
            kind = "group" if chat.type == "group" else "supergroup"
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        return chat

    def _chat_dict(self, chat: _Chat) -> JSON:
        d: JSON = {"id": chat.id, "type": chat.type}
        if chat.type == "private":
            user = self.users[chat.id]
            d["first_name"] = user.first_name
            if user.username:
                d["username"] = user.username
        else:
            d["title"] = chat.title
            if chat.username:
                d["username"] = chat.username
        return d

    def _bot_dict(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _flood(self, chat: _Chat, method: str) -> None:
        if method in EDIT_METHODS and not self._limits.count_edits:
            return
        wait = self.flood.check(chat.id, chat.is_group)
        if wait > 0:
            retry = self._limits.retry_after_value(wait)
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        reply_to: int | None,
        first_name: str | None,
        username: str | None,
    ) -> JSON:
        if user_id not in self.users or first_name or username:
            self.add_user(user_id, first_name, username=username, started=False)
        user = self.users[user_id]
        if chat_id is None or chat_id == user_id:
            self.add_user(user_id, started=True)
            user.blocked = False  # writing to a bot you blocked unblocks it
            chat = self.chats[user_id]
        else:
            if chat_id not in self.chats:
                raise ValueError(f"unknown chat {chat_id}: call add_group() first")
            chat = self.chats[chat_id]
            chat.members.add(user_id)
        msg: JSON = {
            "message_id": self._next_message_id(chat),
            "date": int(time.time()),
            "chat": self._chat_dict(chat),
            "from": user.as_dict(),
        }
        if reply_to is not None:
            msg["reply_to_message"] = chat.messages[reply_to]
        chat.messages[msg["message_id"]] = msg
        return msg

    def _next_message_id(self, chat: _Chat) -> int:
        mid = chat.next_message_id
        chat.next_message_id += 1
        return mid

    # --- updates -----------------------------------------------------------------------------

    def _queue_update(self, payload: JSON) -> None:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._notify()

    def _queue_chat_member_update(
        self, chat_id: int, from_id: int | None, old: str, new: str
    ) -> None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return
        actor = (
            self.users[from_id].as_dict()
            if from_id
            else {"id": 1, "is_bot": False, "first_name": "Admin"}
        )
        new_member: JSON = {"status": new, "user": self._bot_dict()}
        if new == "kicked":
            new_member["until_date"] = 0
        update = {
            "chat": self._chat_dict(chat),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": self._bot_dict()},
            "new_chat_member": new_member,
        }
        self._queue_update({"my_chat_member": update})

    def _update_type(self, update: JSON) -> str:
        return next(k for k in update if k != "update_id")

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _param_int(params, "offset")
        limit = _param_int(params, "limit") or 100
        timeout = float(params.get("timeout") or 0)
        allowed = _param_json(params, "allowed_updates")
        if allowed is not None:
            self._allowed_updates = set(allowed) or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # a waiting older poll is terminated with 409
        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._confirmed_below = max(self._confirmed_below, offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._allowed_updates is not None:
                self._updates = [
                    u for u in self._updates if self._update_type(u) in self._allowed_updates
                ]
            if self._updates:
                batch = self._updates[: max(1, min(limit, 100))]
                fresh = [u for u in batch if u["update_id"] > self._delivered_up_to]
                self.delivered_count += len(fresh)
                self._delivered_up_to = max(self._delivered_up_to, batch[-1]["update_id"])
                self._notify()
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_change(remaining)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )

    async def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self.webhook_max_connections = _param_int(params, "max_connections") or 40
        if _param_bool(params, "drop_pending_updates"):
            self._updates.clear()
        if url and self._pusher is None:
            self._pusher = asyncio.get_running_loop().create_task(self._push_updates())
        self._notify()
        return True

    async def _push_updates(self) -> None:
        """Telegram's side of a webhook: POST each update to the URL, one chat's updates in
        order, different chats side by side (up to ``max_connections``), retrying any
        non-200 answer with a growing pause, until the webhook is deleted."""
        import aiohttp

        in_flight: dict[int, asyncio.Task[None]] = {}
        async with aiohttp.ClientSession() as http:
            while not self._stopping:
                if not self.webhook_url:
                    await self._wait_change(1.0)
                    continue
                busy = {self._update_chat(u) for u in self._updates if u["update_id"] in in_flight}
                for update in list(self._updates):
                    uid = update["update_id"]
                    chat = self._update_chat(update)
                    if uid in in_flight or chat in busy:
                        continue
                    if len(in_flight) >= self.webhook_max_connections:
                        break
                    busy.add(chat)
                    task = asyncio.get_running_loop().create_task(self._push_one(http, update))
                    in_flight[uid] = task
                    task.add_done_callback(lambda _t, uid=uid: in_flight.pop(uid, None))
                await self._wait_change(0.5)

    def _update_chat(self, update: JSON) -> int:
        body = next((v for k, v in update.items() if k != "update_id"), {})
        if not isinstance(body, dict):
            return 0
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or {}
        sender = body.get("from") or {}
        return int(chat.get("id") or sender.get("id") or 0)

    async def _push_one(self, http: Any, update: JSON) -> None:
        delay = 0.02
        while self.webhook_url and not self._stopping:
            target = self.webhook_url
            if self.deliver_webhooks_to:
                parts = target.split("/", 3)
                path = parts[3] if len(parts) > 3 else ""
                target = self.deliver_webhooks_to.rstrip("/") + "/" + path
            headers = {"Content-Type": "application/json"}
            if self.webhook_secret is not None:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
            try:
                async with http.post(target, data=json.dumps(update), headers=headers) as resp:
                    status = resp.status
            except Exception:
                status = 0
            self.webhook_attempts.append((update["update_id"], status))
            if status == 200:
                if update in self._updates:
                    self._updates.remove(update)
                self.delivered_count += 1
                self._delivered_up_to = max(self._delivered_up_to, update["update_id"])
                self._notify()
                return
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook_url = ""
        if _param_bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    # --- bot ---------------------------------------------------------------------------------

    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _commands_key(self, params: JSON) -> str:
        scope = _param_json(params, "scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("chat", "chat_administrators", "chat_member"):
            # the chat must be one the bot can see, as for sending to it
            chat = self._resolve_chat({"chat_id": scope.get("chat_id")})
            if kind != "chat" and chat.type == "private":
                raise bad_request("can't use chat administrators scope in a private chat")
            scope = {**scope, "chat_id": chat.id}
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self.users:
                    raise bad_request("user not found")
        language = str(params.get("language_code") or "")
        if language and not (len(language) == 2 and language.isalpha() and language.islower()):
            raise bad_request("invalid language code")
        return json.dumps([scope, language], sort_keys=True)

    def commands_for_chat(self, chat_id: int) -> list[JSON]:
        """The menu a private chat shows: its own scope's, else the default one."""
        key = json.dumps([{"type": "chat", "chat_id": chat_id}, ""], sort_keys=True)
        return self.commands.get(key) or self.default_commands

    def _language(self, params: JSON) -> str:
        language = str(params.get("language_code") or "")
        if language and not (len(language) == 2 and language.isalpha() and language.islower()):
            raise bad_request("invalid language code")
        return language

    async def _set_my_description(self, params: JSON) -> bool:
        text = str(params.get("description") or "")
        if len(text) > 512:
            raise bad_request("description is too long")
        language = self._language(params)
        if text:
            self.descriptions[language] = text
        else:
            self.descriptions.pop(language, None)
        return True

    async def _get_my_description(self, params: JSON) -> JSON:
        return {"description": self.descriptions.get(self._language(params), "")}

    async def _set_my_short_description(self, params: JSON) -> bool:
        text = str(params.get("short_description") or "")
        if len(text) > 120:
            raise bad_request("short description is too long")
        language = self._language(params)
        if text:
            self.short_descriptions[language] = text
        else:
            self.short_descriptions.pop(language, None)
        return True

    async def _get_my_short_description(self, params: JSON) -> JSON:
        return {"short_description": self.short_descriptions.get(self._language(params), "")}

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = _param_json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH" if commands else "commands is empty")
        for cmd in commands:
            name = str(cmd.get("command", ""))
            ok = 1 <= len(name) <= 32 and all(c.islower() or c.isdigit() or c == "_" for c in name)
            if not ok or not name.isascii():
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise bad_request("command description is empty or too long")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    @property
    def default_commands(self) -> list[JSON]:
        """The commands set for the default scope and no language."""
        return self.commands.get(json.dumps([{"type": "default"}, ""], sort_keys=True), [])

    # --- text and markup ---------------------------------------------------------------------

    def _parse_text(
        self, raw: str, params: JSON, limit: int, *, caption: bool = False
    ) -> ParsedText:
        mode = params.get("parse_mode")
        kind = "message caption" if caption else "message text"
        if mode:
            if str(mode).lower() == "html":
                try:
                    parsed = parse_html(raw)
                except EntityParseError as err:
                    raise bad_request(f"can't parse entities: {err}") from err
            elif str(mode).lower() in {"markdown", "markdownv2"}:
                raise bad_request(
                    "can't parse entities: the fake Bot API parses only parse_mode=HTML"
                )
            else:
                raise bad_request("unsupported parse_mode")
        else:
            entities = _param_json(params, "caption_entities" if caption else "entities")
            parsed = ParsedText(raw, list(entities or []))
        if not caption and not parsed.text.strip():
            raise bad_request(f"{kind} is empty")
        if utf16_len(parsed.text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        return parsed

    def _parse_markup(self, params: JSON) -> JSON | None:
        markup = _param_json(params, "reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            total = sum(len(r) for r in rows)
            if total > MAX_BUTTONS:
                raise bad_request("BUTTONS_TOO_MUCH")
            for button in (b for row in rows for b in row):
                self._check_button(button)
        return markup

    def _check_button(self, button: Any) -> None:
        if not isinstance(button, dict):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        if not str(button.get("text", "")).strip():
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        kinds = [k for k in BUTTON_KINDS if k in button]
        if not kinds:
            raise bad_request(
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        if len(kinds) > 1:
            raise bad_request(
                "can't parse inline keyboard button: Can't find field \"callback_data\""
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not _valid_http_url(str(button["url"])):
            raise bad_request(
                f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
            )

    def _reply_to(self, chat: _Chat, params: JSON) -> int | None:
        reply_params = _param_json(params, "reply_parameters", "reply parameters")
        allow_missing = _param_bool(params, "allow_sending_without_reply")
        reply_to = _param_int(params, "reply_to_message_id")
        if isinstance(reply_params, dict):
            reply_to = int(reply_params.get("message_id", 0))
            allow_missing = allow_missing or bool(reply_params.get("allow_sending_without_reply"))
        if reply_to is None:
            return None
        if reply_to not in chat.messages:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return reply_to

    def _record_message(
        self,
        chat: _Chat,
        method: str,
        raw: str,
        params: JSON,
        parsed: ParsedText,
        markup: JSON | None,
        reply_to: int | None,
        *,
        text_key: str = "text",
        document: StoredFile | None = None,
        photo: StoredFile | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        msg: JSON = {
            "message_id": self._next_message_id(chat),
            "date": int(time.time()),
            "chat": self._chat_dict(chat),
            "from": self._bot_dict(),
        }
        if parsed.text:
            msg[text_key] = parsed.text
        if parsed.entities:
            msg["caption_entities" if text_key == "caption" else "entities"] = parsed.entities
        if markup and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        if reply_to is not None:
            original = dict(chat.messages[reply_to])
            original.pop("reply_to_message", None)
            msg["reply_to_message"] = original
        if document is not None:
            msg["document"] = _document_dict(document)
        if photo is not None:
            msg["photo"] = [_photo_size(photo)]
        if media_group_id is not None:
            msg["media_group_id"] = media_group_id
        chat.messages[msg["message_id"]] = msg
        self.sent.append(
            SentMessage(
                chat_id=chat.id,
                message_id=msg["message_id"],
                method=method,
                text=parsed.text,
                raw_text=raw,
                parse_mode=params.get("parse_mode"),
                entities=parsed.entities,
                reply_markup=markup,
                reply_to_message_id=reply_to,
                date=msg["date"],
                document=document,
                photo=photo,
                media_group_id=media_group_id,
            )
        )
        self._notify()
        return msg

    # --- sending -----------------------------------------------------------------------------

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._writable_chat(params)
        raw = params.get("text")
        raw = "" if raw is None else str(raw)
        parsed = self._parse_text(raw, params, MAX_TEXT)
        markup = self._parse_markup(params)
        reply_to = self._reply_to(chat, params)
        self._flood(chat, "sendmessage")
        return self._record_message(chat, "sendMessage", raw, params, parsed, markup, reply_to)

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._writable_chat(params)
        doc = params.get("document")
        if isinstance(doc, str) and doc.startswith("attach://"):
            doc = params.get(doc[len("attach://") :])
        if isinstance(doc, web.FileField):
            data = doc.file.read()
            if not data:
                raise bad_request("file must be non-empty")
            stored = self._store_file(doc.filename, doc.content_type, data, "documents")
        elif isinstance(doc, str) and doc in self.files:
            stored = self.files[doc]
        elif doc:
            raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise bad_request("there is no document in the request")
        raw = str(params.get("caption") or "")
        parsed = self._parse_text(raw, params, MAX_CAPTION, caption=True) if raw else ParsedText("")
        markup = self._parse_markup(params)
        reply_to = self._reply_to(chat, params)
        self._flood(chat, "senddocument")
        return self._record_message(
            chat,
            "sendDocument",
            raw,
            params,
            parsed,
            markup,
            reply_to,
            text_key="caption",
            document=stored,
        )

    def _photo_file(self, value: Any, params: JSON) -> StoredFile:
        """An uploaded photo (``attach://name`` or the field itself) or a known file_id,
        checked as Telegram checks it: a real image, at most 10 MB, sane dimensions."""
        if isinstance(value, str) and value.startswith("attach://"):
            name = value[len("attach://") :]
            value = params.get(name)
            if value is None:
                raise bad_request(f"can't parse InputMedia: media not found ({name})")
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if not isinstance(value, web.FileField):
            if value:
                raise bad_request("wrong file identifier/HTTP URL specified")
            raise bad_request("there is no photo in the request")
        data = value.file.read()
        if not data:
            raise bad_request("file must be non-empty")
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return self._store_file(value.filename, value.content_type, data, "photos")

    async def _send_photo(self, params: JSON) -> JSON:
        chat = self._writable_chat(params)
        photo = self._photo_file(params.get("photo"), params)
        raw = str(params.get("caption") or "")
        parsed = self._parse_text(raw, params, MAX_CAPTION, caption=True) if raw else ParsedText("")
        markup = self._parse_markup(params)
        reply_to = self._reply_to(chat, params)
        self._flood(chat, "sendphoto")
        return self._record_message(
            chat,
            "sendPhoto",
            raw,
            params,
            parsed,
            markup,
            reply_to,
            text_key="caption",
            photo=photo,
        )

    async def _send_media_group(self, params: JSON) -> list[JSON]:
        """An album of 2-10 photos, all checked before any is sent (Telegram sends all or
        none); a caption per item, at most 1024 characters each."""
        chat = self._writable_chat(params)
        media = _param_json(params, "media", "media")
        if media is None:
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if not 2 <= len(media) <= 10:
            raise bad_request("media group must include 2-10 items")  # the fake's wording
        if "reply_markup" in params:
            raise bad_request("media groups can't have reply markup")  # the fake's wording
        items = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise bad_request("can't parse InputMedia: the fake sends photo albums only")
            photo = self._photo_file(item.get("media"), params)
            raw = str(item.get("caption") or "")
            parsed = (
                self._parse_text(raw, item, MAX_CAPTION, caption=True) if raw else ParsedText("")
            )
            items.append((photo, raw, item, parsed))
        reply_to = self._reply_to(chat, params)
        self._flood(chat, "sendmediagroup")
        group = f"album{next(self._file_ids)}"
        return [
            self._record_message(
                chat,
                "sendMediaGroup",
                raw,
                item,
                parsed,
                None,
                reply_to,
                text_key="caption",
                photo=photo,
                media_group_id=group,
            )
            for photo, raw, item, parsed in items
        ]

    def _store_file(
        self, filename: str | None, mime_type: str | None, data: bytes, folder: str
    ) -> StoredFile:
        fid = self._new_file_id()
        ext = filename.rsplit(".", 1)[-1] if filename and "." in filename else "bin"
        stored = StoredFile(
            fid, f"u{fid}", filename, mime_type, data, f"{folder}/file_{len(self.files)}.{ext}"
        )
        self.files[fid] = stored
        return stored

    def _new_file_id(self) -> str:
        return f"BQACAgFake{next(self._file_ids):06d}"

    async def _get_file(self, params: JSON) -> JSON:
        fid = str(params.get("file_id") or "")
        stored = self.files.get(fid)
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # --- editing -----------------------------------------------------------------------------

    def _editable(self, params: JSON) -> tuple[_Chat, SentMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._writable_chat(params)
        mid = _param_int(params, "message_id", empty="message identifier is not specified")
        assert mid is not None
        if mid not in chat.messages:
            raise bad_request("message to edit not found")
        if chat.messages[mid].get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return chat, self.message(chat.id, mid)

    async def _edit_message_text(self, params: JSON) -> JSON:
        chat, sent = self._editable(params)
        if sent.method != "sendMessage":
            raise bad_request("there is no text in the message to edit")
        raw = params.get("text")
        raw = "" if raw is None else str(raw)
        parsed = self._parse_text(raw, params, MAX_TEXT)
        markup = self._parse_markup(params)  # omitted markup removes the keyboard
        if (
            parsed.text == sent.text
            and parsed.entities == sent.entities
            and markup == sent.reply_markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        self._flood(chat, "editmessagetext")
        sent.history.append((sent.text, sent.reply_markup))
        sent.text, sent.raw_text, sent.entities = parsed.text, raw, parsed.entities
        sent.parse_mode, sent.reply_markup = params.get("parse_mode"), markup
        return self._apply_edit(chat, sent, "editMessageText")

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        chat, sent = self._editable(params)
        markup = self._parse_markup(params)
        if markup == sent.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        self._flood(chat, "editmessagereplymarkup")
        sent.history.append((sent.text, sent.reply_markup))
        sent.reply_markup = markup
        return self._apply_edit(chat, sent, "editMessageReplyMarkup")

    def _apply_edit(self, chat: _Chat, sent: SentMessage, method: str) -> JSON:
        msg = dict(chat.messages[sent.message_id])
        text_key = "caption" if sent.method == "sendDocument" else "text"
        msg[text_key] = sent.text
        ents_key = "caption_entities" if text_key == "caption" else "entities"
        msg.pop(ents_key, None)
        if sent.entities:
            msg[ents_key] = sent.entities
        msg.pop("reply_markup", None)
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            msg["reply_markup"] = sent.reply_markup
        msg["edit_date"] = int(time.time())
        chat.messages[sent.message_id] = msg
        self.edits.append(
            EditRecord(chat.id, sent.message_id, method, sent.text, sent.reply_markup)
        )
        self._notify()
        return msg

    async def _delete_message(self, params: JSON) -> bool:
        chat = self._resolve_chat(params)
        mid = _param_int(params, "message_id", empty="message identifier is not specified")
        assert mid is not None
        if mid not in chat.messages:
            raise bad_request("message to delete not found")
        del chat.messages[mid]
        for m in self.sent:
            if m.chat_id == chat.id and m.message_id == mid:
                m.deleted = True
        self.deleted.append((chat.id, mid))
        self._notify()
        return True

    # --- callbacks, actions, chat info -------------------------------------------------------

    async def _answer_callback_query(self, params: JSON) -> bool:
        qid = str(params.get("callback_query_id") or "")
        query = self._callbacks.get(qid)
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                qid,
                query.user_id,
                query.chat_id,
                query.message_id,
                query.data,
                None if text is None else str(text),
                _param_bool(params, "show_alert"),
                params.get("url"),
            )
        )
        self._notify()
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        chat = self._writable_chat(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    async def _get_chat(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params)
        return {
            **self._chat_dict(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_dict(self, chat: _Chat, user_id: int) -> JSON:
        if user_id == self.bot_id:
            status = "administrator" if chat.bot_is_admin else "member"
            user = self._bot_dict()
        else:
            user = self._user(user_id).as_dict()
            if chat.type == "private":
                status = "member"
            elif user_id == chat.creator:
                status = "creator"
            elif user_id in chat.admins:
                status = "administrator"
            elif user_id in chat.members:
                status = "member"
            else:
                status = "left"
        d: JSON = {"status": status, "user": user}
        if status == "creator":
            d["is_anonymous"] = False
        elif status == "administrator":
            d.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
        return d

    async def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._resolve_chat(params)
        user_id = _param_int(params, "user_id", empty="user_id is empty")
        assert user_id is not None
        if user_id != self.bot_id and user_id not in self.users:
            raise bad_request("user not found")
        return self._member_dict(chat, user_id)

    async def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        ids = ([chat.creator] if chat.creator else []) + sorted(chat.admins)
        if chat.bot_is_admin:
            ids.append(self.bot_id)
        return [self._member_dict(chat, uid) for uid in ids]

    async def _get_chat_member_count(self, params: JSON) -> int:
        chat = self._resolve_chat(params)
        return 2 if chat.type == "private" else len(chat.members) + 1


def _document_dict(stored: StoredFile) -> JSON:
    d: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.filename:
        d["file_name"] = stored.filename
    if stored.mime_type:
        d["mime_type"] = stored.mime_type
    return d


def _photo_size(stored: StoredFile) -> JSON:
    width, height = image_size(stored.data) or (0, 0)
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "width": width,
        "height": height,
    }


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG from its header (None: not an image)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(
                    data[i + 5 : i + 7], "big"
                )
            i += 2 + length
    return None


def _printable(params: JSON) -> JSON:
    out: JSON = {}
    for key, value in params.items():
        if isinstance(value, web.FileField):
            out[key] = f"<file {value.filename!r}>"
        else:
            out[key] = value
    return out
