"""Database errors say what really happened (issue 10: "database is locked (has `python -m
bot migrate` been run?)" blamed the migrations for another process's lock).

Each case is made for real: a lock held by another connection, a file never migrated, a
folder where the file should be, a PostgreSQL server that refuses or has no tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot import db
from bot.cli import main
from bot.db_errors import MIGRATE_HINT, describe
from bot.settings import get_settings
from tests.conftest import (
    POSTGRES_SERVER,
    TEST_SECRET_KEY,
    create_postgres_database,
    drop_postgres_databases,
)

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Point the CLI at whatever DATABASE_URL the test sets next."""
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    yield
    get_settings.cache_clear()
    db.reset_engine()


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: Capture, url: str, *argv: str) -> str:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db.reset_engine()
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 1 and out == "", (status, out, err)
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.usefixtures("use_database")
def test_a_lock_held_by_another_process_is_busy_not_migrations(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture, tmp_path: Path
) -> None:
    path = tmp_path / "busy.db"
    db.migrate(f"sqlite:///{path}")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
        err = _cli(monkeypatch, capsys, f"sqlite:///{path}", "list-peps")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert err == (
        "error: the database is busy: another process held it for more than 0.3 seconds; try again"
    )
    assert "migrate" not in err
    # Once the other process lets go, the same command works.
    db.reset_engine()
    assert main(["list-peps"]) == 0
    assert "(no PEPs)" in capsys.readouterr().out


@pytest.mark.usefixtures("use_database")
def test_a_database_never_migrated_says_to_migrate(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture, tmp_path: Path
) -> None:
    path = tmp_path / "empty.db"
    err = _cli(monkeypatch, capsys, f"sqlite:///{path}", "list-peps")
    assert err.startswith(f"error: the database at {path} is not set up or out of date (no such")
    assert err.endswith(MIGRATE_HINT)
    assert "busy" not in err


@pytest.mark.usefixtures("use_database")
def test_a_file_that_cannot_be_opened_names_the_path(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture, tmp_path: Path
) -> None:
    folder = tmp_path / "pepvoice.db"
    folder.mkdir()  # a folder where the database file should be
    err = _cli(monkeypatch, capsys, f"sqlite:///{folder}", "list-peps")
    assert err.startswith(f"error: cannot open the database file {folder}: check that the path")
    assert "(unable to open database file)" in err
    assert "migrate" not in err and "busy" not in err


def _error(url: str, sql: str) -> DBAPIError:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with pytest.raises(DBAPIError) as caught, engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()
    return caught.value


@pytest.fixture
def postgres_database() -> Iterator[str]:
    name = create_postgres_database()
    if name is None:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_SERVER}")
    try:
        yield f"postgresql+psycopg://postgres@{POSTGRES_SERVER}/{name}"
    finally:
        drop_postgres_databases(name)


@pytest.mark.postgres
@pytest.mark.usefixtures("use_database")
def test_postgresql_not_migrated(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture, postgres_database: str
) -> None:
    err = _cli(monkeypatch, capsys, postgres_database, "list-peps")
    name = postgres_database.rsplit("/", 1)[1]
    assert err.startswith(f"error: the database {POSTGRES_SERVER}/{name} is not set up")
    assert err.endswith(MIGRATE_HINT)


@pytest.mark.postgres
def test_postgresql_lock_timeout_is_busy(postgres_database: str) -> None:
    engine = create_engine(postgres_database, poolclass=NullPool)
    try:
        with engine.connect() as holder:
            holder.execute(text("CREATE TABLE t (x int)"))
            holder.commit()
            holder.execute(text("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"))
            error = _error(postgres_database, "SET lock_timeout = '100ms'; SELECT * FROM t")
            holder.rollback()
    finally:
        engine.dispose()
    assert describe(error, postgres_database) == (
        "the database is busy: another process held a lock it needed; try again"
    )


@pytest.mark.postgres
def test_postgresql_refused_connection_says_so() -> None:
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/pepvoice"
    message = describe(_error(url, "SELECT 1"), url)
    assert message.startswith("cannot connect to the database at 127.0.0.1:1/pepvoice (")
    assert "Connection refused" in message and "s3cret" not in message


def test_an_unknown_error_gives_the_drivers_first_line_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    message = describe(_error(url, "SELECT * FROM (\n'a row value'"), url)
    assert message.startswith("the database reported an error: ")
    assert "a row value" not in message
