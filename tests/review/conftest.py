"""Review app fixtures: the committed test database, two schools and their staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot import db
from bot.models import Role
from bot.review import accounts
from bot.review.accounts import login_throttle
from bot.services.directory import add_child, add_pep, add_school
from bot.settings import Settings
from tests.review.helpers import World, make_staff, verify_once


@pytest.fixture(autouse=True)
def _each_password_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logins verify PASSWORD against the one shared hash (helpers.set_test_password) once
    per run, not at every login; tests of hashing call accounts.verify_password directly."""
    monkeypatch.setattr(accounts, "verify_password", verify_once)


@pytest.fixture
def review(committed_db: Engine, app_settings: Settings) -> Iterator[None]:
    login_throttle.cache_clear()  # failed logins are counted per process
    yield
    login_throttle.cache_clear()


@pytest.fixture
def world(review: None) -> World:
    """Oak Primary (A) and Ash Academy (B), a child and a PEP in each, and staff: A's DT and
    DSL, B's DT, a Virtual School officer and an admin, all with the password PASSWORD."""
    with db.session_scope() as session:
        a = add_school(session, "Oak Primary")
        b = add_school(session, "Ash Academy")
        child_a = add_child(session, a.name, "Robin", 5)
        child_b = add_child(session, b.name, "Kai", 9)
        pep_a = add_pep(session, child_a.id, "2030-01-15")
        pep_b = add_pep(session, child_b.id, "2030-01-16")
        session.flush()
        return World(
            a.id, b.id, child_a.id, child_b.id, pep_a.id, pep_b.id,
            dt_a=make_staff(session, a.name, Role.designated_teacher, "a"),
            dsl_a=make_staff(session, a.name, Role.dsl, "a"),
            dt_b=make_staff(session, b.name, Role.designated_teacher, "b"),
            vs=make_staff(session, a.name, Role.virtual_school, "vs"),
            admin=make_staff(session, b.name, Role.admin, "admin"),
        )  # fmt: skip
