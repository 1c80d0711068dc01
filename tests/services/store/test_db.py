from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import db
from bot.models import Child, School
from bot.settings import Settings


def test_sqlite_pragmas(tmp_path: object) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/sub/dir/x.db")  # parent dirs are created
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
    finally:
        engine.dispose()


def test_foreign_keys_enforced(session: Session) -> None:
    session.add(Child(school_id=999_999, first_name="Nobody", year_group=3))
    with pytest.raises(IntegrityError):
        session.flush()


def test_year_group_check_constraint(session: Session) -> None:
    school = School(name="Check School")
    session.add(school)
    session.flush()
    session.add(Child(school_id=school.id, first_name="Too Old", year_group=14))
    with pytest.raises(IntegrityError):
        session.flush()


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    plus_two = timezone(timedelta(hours=2))
    school = School(name="Clock School", created_at=datetime(2030, 1, 1, 12, tzinfo=plus_two))
    session.add(school)
    session.flush()
    session.expire_all()
    loaded = session.get(School, school.id)
    assert loaded is not None
    assert loaded.created_at == datetime(2030, 1, 1, 10, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_timestamp_refused(session: Session) -> None:
    session.add(School(name="Naive School", created_at=datetime(2030, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_session_scope_commits_and_rolls_back(committed_db: Engine, app_settings: Settings) -> None:
    with db.session_scope() as session:
        session.add(School(name="Kept"))
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.add(School(name="Dropped"))
        session.flush()
        raise RuntimeError("boom")
    with committed_db.connect() as connection:
        names = connection.scalars(select(School.name)).all()
        assert names == ["Kept"]
        assert connection.scalar(select(func.count()).select_from(School)) == 1
