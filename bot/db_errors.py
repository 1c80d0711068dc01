"""Say what really went wrong with the database, in words an administrator can act on.

The driver's own message is often misleading on its own ("database is locked" reads like a
broken install) and can quote row values, so callers show this instead: busy (another
process held the lock longer than we wait), not migrated (a table or column is missing),
cannot open (the file's path or permissions), cannot connect (PostgreSQL), or, failing
those, the driver's first line.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from bot import db

MIGRATE_HINT = "run `python -m bot migrate` to create or update the tables"

# PostgreSQL SQLSTATEs (psycopg's `sqlstate`).
_PG_NOT_MIGRATED = {"42P01", "42703"}  # undefined_table, undefined_column
_PG_BUSY = {"55P03", "40P01", "57014"}  # lock_not_available, deadlock, statement timeout

# SQLite result codes (sqlite3 errors carry `sqlite_errorname` in Python 3.11+).
_SQLITE_BUSY = {"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY", "SQLITE_LOCKED"}
_SQLITE_CANNOT_OPEN = {"SQLITE_CANTOPEN", "SQLITE_CANTOPEN_ISDIR", "SQLITE_READONLY",
                       "SQLITE_READONLY_DIRECTORY", "SQLITE_PERM", "SQLITE_AUTH"}  # fmt: skip


def first_line(exc: DBAPIError) -> str:
    """The driver's message, first line only: later lines can quote row values."""
    text = str(exc.orig) if exc.orig is not None else ""
    return text.splitlines()[0] if text.strip() else type(exc).__name__


def _where(url: str) -> str:
    """The database named without its password: a file path, or host/name."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


def busy_message() -> str:
    seconds = db.SQLITE_BUSY_TIMEOUT_MS / 1000
    return (
        f"the database is busy: another process held it for more than {seconds:g} seconds; "
        "try again"
    )


def is_busy(exc: DBAPIError) -> bool:
    """Another process held a lock longer than we wait: trying again later may work."""
    if getattr(exc.orig, "sqlite_errorname", "") in _SQLITE_BUSY:
        return True
    if getattr(exc.orig, "sqlstate", None) in _PG_BUSY:
        return True
    return "database is locked" in first_line(exc).lower()


def describe(exc: DBAPIError, url: str) -> str:
    """One line for an administrator: what happened to the database at `url`, what to do."""
    line = first_line(exc)
    lowered = line.lower()
    where = _where(url)
    if make_url(url).get_backend_name() == "sqlite":
        name = getattr(exc.orig, "sqlite_errorname", "")
        if is_busy(exc):
            return busy_message()
        if lowered.startswith(("no such table", "no such column")):
            return f"the database at {where} is not set up or out of date ({line}): {MIGRATE_HINT}"
        if name in _SQLITE_CANNOT_OPEN or "unable to open database" in lowered:
            return (
                f"cannot open the database file {where}: check that the path is a file "
                f"(not a folder) and that this user may read and write it and its folder ({line})"
            )
        return f"the database reported an error: {line}"
    state = getattr(exc.orig, "sqlstate", None)
    if state in _PG_NOT_MIGRATED:
        return f"the database {where} is not set up or out of date ({line}): {MIGRATE_HINT}"
    if state in _PG_BUSY:
        return "the database is busy: another process held a lock it needed; try again"
    if state is None and isinstance(exc, OperationalError):
        # Refused before any SQL: psycopg gives no SQLSTATE, its line says why (no such
        # database, no such role, connection refused).
        return f"cannot connect to the database at {where} ({line})"
    return f"the database reported an error: {line}"
