"""Passwords (policy, argon2id), logging in, and the login throttle, below the web layer."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from bot import db
from bot.models import AuditEvent, StaffUser
from bot.review import accounts
from bot.review.accounts import (
    LOGIN_REFUSED,
    LOGIN_THROTTLED,
    PasswordRejected,
    authenticate,
    check_password_policy,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from tests.review.helpers import PASSWORD, World


@pytest.mark.parametrize(
    "password",
    ["Tr0ub4dor&3x", "abcdefghijkl", "correct horse battery staple", "Plum-Kettle", "8charsOK"],
)
def test_good_passwords(password: str) -> None:
    assert password_problem(password) is None


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 12"),
        ("Ab3$xyz", "at least 12"),  # 7 characters
        ("password1", "too easy"),
        ("PASSWORD123", "too easy"),  # case does not matter
        ("qwertyuiop", "too easy"),
        ("iloveyou", "too easy"),
        ("safeguarding", "too easy"),  # deny-listed at 12 characters too
        ("x" * 1025, "at most"),
    ],
)
def test_bad_passwords(password: str, why: str) -> None:
    problem = password_problem(password)
    assert problem is not None and why in problem
    with pytest.raises(PasswordRejected):
        check_password_policy(password)


def test_the_email_is_not_a_password() -> None:
    assert password_problem("Dt@oak.example.org", "dt@oak.example.org") is not None


def test_the_deny_list_is_a_few_hundred_common_passwords() -> None:
    common = accounts.common_passwords()
    assert 150 <= len(common) <= 400
    assert {"password", "12345678", "qwerty123"} <= common


def test_argon2id_with_rfc_9106_parameters() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(stored)
    assert hash_password(PASSWORD) != stored  # salted
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    assert needs_rehash(weaker.hash(PASSWORD))
    assert needs_rehash(PasswordHasher(type=Type.I).hash(PASSWORD))


def test_a_weak_hash_is_redone_at_login(world: World) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    with db.session_scope() as session:
        session.get_one(StaffUser, world.dt_a.ctx.staff_id).password_hash = weaker.hash(PASSWORD)
    assert authenticate(world.dt_a.email, PASSWORD, address="web:1").staff_id
    with db.session_scope() as session:
        stored = session.get_one(StaffUser, world.dt_a.ctx.staff_id).password_hash
        assert stored is not None and not needs_rehash(stored)


def _login(email: str, password: str, address: str = "web:10.0.0.1") -> accounts.LoginResult:
    return authenticate(email, password, address=address)


def test_unknown_email_and_wrong_password_get_the_same_answer(world: World) -> None:
    unknown = _login("nobody@nowhere.example.org", PASSWORD)
    wrong = _login(world.dt_a.email, "not the password at all")
    assert unknown.staff_id is None and wrong.staff_id is None
    assert unknown.message == wrong.message == LOGIN_REFUSED
    assert not unknown.throttled and not wrong.throttled
    right = _login(world.dt_a.email.upper() + "  ", PASSWORD)  # case and spaces ignored
    assert right.staff_id == world.dt_a.ctx.staff_id


def test_no_password_and_disabled_accounts_cannot_log_in(world: World) -> None:
    from bot.models import utcnow

    with db.session_scope() as session:
        session.get_one(StaffUser, world.dt_a.ctx.staff_id).disabled_at = utcnow()
        session.get_one(StaffUser, world.dt_b.ctx.staff_id).password_hash = None
    for staff in (world.dt_a, world.dt_b):
        result = _login(staff.email, PASSWORD)
        assert result.staff_id is None and result.message == LOGIN_REFUSED


def test_throttle_per_account(world: World) -> None:
    for i in range(10):  # from ten addresses: only the account is the same
        assert _login(world.dt_a.email, f"wrong guess {i}", f"web:10.0.1.{i}").message == (
            LOGIN_REFUSED
        )
    eleventh = _login(world.dt_a.email, PASSWORD, "web:10.0.2.1")
    assert eleventh.staff_id is None and eleventh.throttled and eleventh.message == LOGIN_THROTTLED
    # Another account from the same addresses is not held up.
    assert _login(world.dsl_a.email, PASSWORD, "web:10.0.1.1").staff_id is not None


def test_throttle_per_address(world: World) -> None:
    for i in range(10):  # ten accounts (real or not) from one address
        _login(f"guess{i}@oak.example.org", PASSWORD, "web:10.9.9.9")
    eleventh = _login(world.dt_a.email, PASSWORD, "web:10.9.9.9")
    assert eleventh.staff_id is None and eleventh.throttled
    assert _login(world.dt_a.email, PASSWORD, "web:10.9.9.8").staff_id is not None


def test_a_throttled_unknown_email_looks_like_a_known_one(world: World) -> None:
    for i in range(10):
        _login("nobody@oak.example.org", f"guess {i}", f"web:10.3.0.{i}")
        _login(world.dt_a.email, f"guess {i}", f"web:10.4.0.{i}")
    assert _login("nobody@oak.example.org", "x", "web:10.5.0.1").message == LOGIN_THROTTLED
    assert _login(world.dt_a.email, "x", "web:10.5.0.2").message == LOGIN_THROTTLED


def test_logins_are_audited_without_passwords(world: World) -> None:
    _login(world.dt_a.email, "a wrong password 123")
    _login("nobody@nowhere.example.org", "another wrong one 456")
    _login(world.dt_a.email, PASSWORD)
    with db.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("staff.login%")).order_by(AuditEvent.id)
        ).all()
        seen = [(e.action, e.actor, e.detail.get("reason")) for e in events]
        dumped = json.dumps([[e.actor, e.action, e.detail] for e in events])
    me = f"staff:{world.dt_a.ctx.staff_id}"
    assert seen == [
        ("staff.login_failed", me, "wrong_password"),
        ("staff.login_failed", "anonymous", "unknown_account"),
        ("staff.login", me, None),
    ]
    for secret in ("a wrong password", "another wrong", PASSWORD, "nobody@"):
        assert secret not in dumped


def test_set_password_checks_the_policy_and_ends_sessions(world: World) -> None:
    from bot.models import StaffSession
    from bot.review.sessions import create_session

    with db.session_scope() as session:
        staff = session.get_one(StaffUser, world.dt_a.ctx.staff_id)
        create_session(session, staff)
        with pytest.raises(PasswordRejected):
            accounts.set_password(session, staff, "password123", actor="cli")
        accounts.set_password(session, staff, "a brand new passphrase", actor="cli")
        assert session.scalars(select(StaffSession)).all() == []
    assert _login(world.dt_a.email, "a brand new passphrase").staff_id is not None
    assert _login(world.dt_a.email, PASSWORD).staff_id is None
