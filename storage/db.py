"""Engines, sessions and migrations for SQLite (default) and PostgreSQL, one code path.

Users write ordinary URLs (``sqlite:///bestbot.sqlite3``,
``postgresql://user@host/db``); this module maps them to the async driver the
service uses (aiosqlite, psycopg) and the sync driver Alembic uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseUrlError(ValueError):
    """The database URL names a backend bestbot does not support."""


class DatabaseUnavailable(Exception):
    """The database can't be used at all (down, refused, a file that can't be opened).

    Its message is one line — the URL with any password masked, then the reason — for
    the CLI to print instead of a driver's traceback."""


def shown_url(url: str) -> str:
    """``url`` as it may be shown to people: any password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured database"


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database can't be used, in one line, when ``exc`` (or what caused it) is a
    connection-level failure; None for anything else (a bug keeps its traceback)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable):
            return str(current)
        if isinstance(current, OperationalError | InterfaceError):
            return _first_line(current.orig if current.orig is not None else current)
        name = type(current).__name__
        module = type(current).__module__.split(".")[0]
        if module in {"sqlite3", "psycopg", "aiosqlite"} and name in {
            "OperationalError",
            "InterfaceError",
        }:
            return _first_line(current)
        current = current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text.removeprefix("connection failed: ")[:300]


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a long text
        raise DatabaseUrlError(
            f"{url!r} is not a database URL like 'sqlite:///bestbot.sqlite3'"
        ) from exc


def url_password(url: str) -> str | None:
    """The password in a database URL, if any (so that logs can mask it)."""
    try:
        return make_url(url).password
    except Exception:
        return None


def async_url(url: str) -> URL:
    """The URL with the async driver bestbot uses for this backend."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> URL:
    """The URL with the blocking driver Alembic uses for this backend."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def is_sqlite(url: str) -> bool:
    return _parse(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; busy_timeout waits instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def install_sqlite_pragmas(sync_engine: Any) -> None:
    """Set the pragmas on every new connection of a (sync) SQLite engine."""
    event.listen(sync_engine, "connect", _sqlite_pragmas)


#: Execution option that makes a SQLite transaction ``BEGIN IMMEDIATE``.
IMMEDIATE = "bestbot_sqlite_immediate"


def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
    """Let SQLAlchemy, not the sqlite3 module, say when a transaction begins (below)."""
    dbapi_connection.isolation_level = None


def _begin(conn: Any) -> None:
    """``BEGIN IMMEDIATE`` for claims: the write lock is taken before the first read, so two
    processes can never both read a row as unclaimed and then both claim it (a deferred
    transaction would read a snapshot first). Everything else begins as usual."""
    immediate = conn.get_execution_options().get(IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def install_sqlite_transactions(sync_engine: Any) -> None:
    event.listen(sync_engine, "connect", _no_driver_transactions)
    event.listen(sync_engine, "begin", _begin)


def create_engine(url: str) -> AsyncEngine:
    """An async engine with the same behaviour on both backends."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(target)
        engine = create_async_engine(
            target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        install_sqlite_pragmas(engine.sync_engine)
        install_sqlite_transactions(engine.sync_engine)
        return engine
    return create_async_engine(target, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _ensure_sqlite_dir(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The engine plus a session factory; one per process, built by the composition root."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._claims = async_sessionmaker(
            self.engine.execution_options(**{IMMEDIATE: True}),
            class_=AsyncSession,
            expire_on_commit=False,
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def claim_session(self) -> AsyncIterator[AsyncSession]:
        """A short transaction that claims work: on SQLite ``BEGIN IMMEDIATE`` (one claimer
        at a time across processes); on PostgreSQL an ordinary transaction, where
        ``FOR UPDATE SKIP LOCKED`` keeps claimers apart."""
        async with self._claims() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A transaction that reads and then writes (storing a feed page): on SQLite
        ``BEGIN IMMEDIATE``, so it waits for the write lock up front. A deferred one that
        read first fails at once with "database is locked" when another connection — the
        sender in the same process, or another process — committed a write since its read
        (SQLite cannot upgrade a stale snapshot, and does not wait). On PostgreSQL an
        ordinary transaction."""
        async with self._claims() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` (blocking); a database that can't be
    reached or opened raises :class:`DatabaseUnavailable` naming it."""
    from alembic import command

    with naming_the_database(url):
        command.upgrade(alembic_config(url), revision)


@contextmanager
def naming_the_database(url: str) -> Iterator[None]:
    """Turn a connection-level failure inside into :class:`DatabaseUnavailable` with the
    (masked) URL, so that the one line printed says which database."""
    try:
        yield
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        raise DatabaseUnavailable(f"{shown_url(url)}: {reason}") from None


async def upgrade_async(url: str) -> None:
    """Migrate without blocking the event loop (``run`` and ``poll`` migrate on start)."""
    await asyncio.to_thread(upgrade, url)


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine as create_sync_engine

    engine = create_sync_engine(sync_url(url))
    try:
        with naming_the_database(url), engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def alembic_config(url: str) -> Any:
    """An Alembic config pointing at the bundled migrations, with no ini file needed."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = url
    return cfg
