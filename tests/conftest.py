"""Shared fixtures. Service-backed fixtures skip outside CI and fail inside it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage.db import Database, upgrade_async

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "feeds" / "samples"
EVAL = REPO / "data" / "eval"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(reason: str) -> None:
    """Skip a test whose service is missing, except in CI, where that is a failure."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES


# --- databases: every storage-backed test runs on SQLite and on PostgreSQL ---------------

PG_URL_ENV = "BESTBOT_TEST_DATABASE_URL"


def _postgres_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a private PostgreSQL schema.

    PostgreSQL runs only when ``BESTBOT_TEST_DATABASE_URL`` is set (CI sets it);
    each test gets its own schema so tests never see each other's rows.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bestbot.sqlite3'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        require_service(f"PostgreSQL: set {PG_URL_ENV} to run the PostgreSQL variant")
    assert base is not None
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = base.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL unreachable at {base}: {exc}")
    try:
        yield _postgres_schema_url(base, schema)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database, disposed after the test."""
    await upgrade_async(database_url)
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


pytest_plugins = ["tests.fakes.fixtures"]
