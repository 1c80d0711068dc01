"""Engine, sessions and programmatic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import REPO_ROOT, get_settings

MIGRATIONS_DIR = REPO_ROOT / "migrations"

#: How long a SQLite connection waits for the write lock before "database is locked".
#: Every transaction takes it (BEGIN IMMEDIATE, below) for milliseconds, but waiters poll
#: and are not served in turn: with many children saving at once a save waited over 5 s
#: (docs/benchmarks.md, "Review pages while children answer"). A child's answer that waits
#: is better than one lost; past this, bot.db_errors says the database is busy.
SQLITE_BUSY_TIMEOUT_MS = 15_000

_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, issue BEGIN: otherwise SAVEPOINTs
        # (rolled-back test sessions) and transactional DDL do not work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The timeout first: switching a new file to WAL needs the lock too.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so busy_timeout applies. A deferred
        # transaction that reads and then writes after another writer committed fails at
        # once with "database is locked" (WAL snapshot), which lost disclosures under load.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings().database.url)
    return _engine


def get_sessionmaker() -> sessionmaker[Session]:
    global _sessionmaker
    if _sessionmaker is None:
        # expire_on_commit=False: callers read returned objects after the commit.
        _sessionmaker = sessionmaker(bind=get_engine(), expire_on_commit=False)
    return _sessionmaker


def reset_engine() -> None:
    """Forget the cached engine (tests, or after changing DATABASE_URL)."""
    global _engine, _sessionmaker
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _sessionmaker = None


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: commit if the block succeeds, roll back if it raises."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(url: str | None = None) -> None:
    """Bring the database at `url` (default: settings) to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option, so '%' in passwords is safe.
    config.attributes["url"] = url or get_settings().database.url
    command.upgrade(config, "head")
