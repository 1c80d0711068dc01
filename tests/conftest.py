"""Database fixtures shared by all test folders (no servers, nothing autouse).

`database_url` runs dependent tests once on SQLite and once on PostgreSQL
(a throw-away database on 127.0.0.1:5432, skipped if the server is down),
each migrated with Alembic once per test session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from bot import db
from bot.models import Base
from bot.services.throttle import invite_throttle
from bot.settings import Settings, get_settings

# Tests run as development (a key may be generated in a temp var/); production's refusal
# without SECRET_KEY is tested on its own (tests/services/store/test_settings.py).
os.environ.setdefault("ENVIRONMENT", "development")

POSTGRES_SERVER = "127.0.0.1:5432"
TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789"


def postgres_admin() -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the local server's maintenance database (OperationalError if down)."""
    return psycopg.connect(
        f"postgresql://postgres@{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3
    )


def create_postgres_database() -> str | None:
    """A throw-away database on the local server; None when the server is not reachable."""
    name = f"pepvoice_test_{uuid.uuid4().hex[:12]}"
    try:
        with postgres_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return name


def drop_postgres_databases(*names: str) -> None:
    with postgres_admin() as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_postgres_database() -> str:
    name = create_postgres_database()
    if name is None:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_SERVER}")
    return name


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a migrated, otherwise empty database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        db.migrate(url)
        yield url
        return
    name = _create_postgres_database()
    try:
        url = f"postgresql+psycopg://postgres@{POSTGRES_SERVER}/{name}"
        db.migrate(url)
        yield url
    finally:
        drop_postgres_databases(name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> Iterator[Settings]:
    """Settings pointing at the test database, with a fixed key and a temp var dir."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    get_settings.cache_clear()
    invite_throttle.cache_clear()  # refused attempts are counted per process
    db.reset_engine()
    yield get_settings()
    get_settings.cache_clear()
    invite_throttle.cache_clear()
    db.reset_engine()


@pytest.fixture
def session(engine: Engine, app_settings: Settings) -> Iterator[Session]:
    """A session whose work is rolled back at the end of the test, commits included."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def committed_db(engine: Engine, app_settings: Settings) -> Iterator[Engine]:
    """For code that commits through bot.db (the CLI): emptied after the test."""
    yield engine
    db.reset_engine()
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
