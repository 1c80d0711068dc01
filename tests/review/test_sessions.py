"""Server-side staff sessions: idle and absolute expiry, logout, signed cookies."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import db
from bot.models import StaffSession, StaffUser, utcnow
from bot.review.sessions import (
    ABSOLUTE,
    IDLE,
    create_session,
    delete_expired_sessions,
    end_session,
    lookup_session,
)
from bot.security import keyed_hash
from tests.review.helpers import World


def _new(world: World) -> str:
    with db.session_scope() as session:
        staff = session.get_one(StaffUser, world.dt_a.ctx.staff_id)
        return create_session(session, staff).cookie


def _lookup(cookie: str | None, minutes: float) -> StaffSession | None:
    with db.session_scope() as session:
        return lookup_session(session, cookie, utcnow() + timedelta(minutes=minutes))


def _rows() -> int:
    with db.session_scope() as session:
        return len(session.scalars(select(StaffSession)).all())


def test_only_a_keyed_hash_of_the_token_is_stored(world: World) -> None:
    cookie = _new(world)
    _kid, token, _mac = cookie.split(".")
    with db.session_scope() as session:
        row = session.scalars(select(StaffSession)).one()
        assert row.token_hash == keyed_hash(token) and token not in row.token_hash
        assert row.expires_at - row.created_at == ABSOLUTE
        assert len(row.csrf_secret) >= 32


def test_a_forged_or_altered_cookie_finds_nothing(world: World) -> None:
    cookie = _new(world)
    kid, token, mac = cookie.split(".")
    for bad in (None, "", token, f"{kid}.{token}.{'0' * len(mac)}", f"{kid}.{token[:-1]}x.{mac}"):
        assert _lookup(bad, 0) is None
    assert _lookup(cookie, 0) is not None


def test_idle_expiry(world: World) -> None:
    cookie = _new(world)
    assert _lookup(cookie, IDLE.total_seconds() / 60 - 1) is not None  # used: idle restarts
    assert _lookup(cookie, 2 * IDLE.total_seconds() / 60 - 3) is not None
    assert _lookup(cookie, 3 * IDLE.total_seconds() / 60) is None  # 30+ minutes unused
    assert _rows() == 0  # and forgotten


def test_absolute_expiry_even_when_in_use(world: World) -> None:
    cookie = _new(world)
    minutes = 0.0
    while minutes < ABSOLUTE.total_seconds() / 60 - 20:
        minutes += 20
        assert _lookup(cookie, minutes) is not None
    assert _lookup(cookie, ABSOLUTE.total_seconds() / 60 + 1) is None
    assert _rows() == 0


def test_a_disabled_account_loses_its_sessions(world: World) -> None:
    cookie = _new(world)
    with db.session_scope() as session:
        session.get_one(StaffUser, world.dt_a.ctx.staff_id).disabled_at = utcnow()
    assert _lookup(cookie, 0) is None


def test_logout_deletes_the_row(world: World) -> None:
    cookie = _new(world)
    other = _new(world)
    with db.session_scope() as session:
        assert end_session(session, cookie) is not None
    assert _lookup(cookie, 0) is None
    assert _lookup(other, 0) is not None  # another browser stays logged in


def test_delete_expired_sessions(world: World) -> None:
    _new(world)
    with db.session_scope() as session:
        assert delete_expired_sessions(session) == 0
        assert delete_expired_sessions(session, utcnow() + IDLE + timedelta(seconds=1)) == 1
