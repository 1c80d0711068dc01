"""Whether the database answers: for the web app's /health check."""

from __future__ import annotations

from sqlalchemy import text

from bot.db import session_scope


def database_ok() -> bool:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not healthy"; the reason is in the server log
        return False
    return True
