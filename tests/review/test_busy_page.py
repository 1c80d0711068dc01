"""A review page that cannot get the database in time says so (503), not a bare 500."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from bot import db
from bot.settings import Settings
from tests.review.helpers import World, logged_in


# SQLite's one writer lock for the whole file; PostgreSQL locks rows (its busy errors are
# covered by tests/services/store/test_db_errors.py).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_busy_database_gives_a_try_again_page(
    world: World, app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(app_settings.database.url)
    c = logged_in(world.dt_a)
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    db.reset_engine()  # new connections wait 0.2 s, not 15 s
    holder = sqlite3.connect(str(url.database), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
        busy = c.get(f"/review/peps/{world.pep_a}")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "try again in a few seconds" in busy.text
        assert "Busy just now" in busy.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert c.get(f"/review/peps/{world.pep_a}").status_code == 200


def test_other_database_errors_are_not_called_busy(world: World) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from bot.db_errors import is_busy

    with pytest.raises(DBAPIError) as caught, db.session_scope() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert not is_busy(caught.value)
