"""`set-password` (admin work) and the demo logins `seed-demo` prints once."""

from __future__ import annotations

import io
import stat

import pytest
from sqlalchemy import select

from bot import db
from bot.cli import main
from bot.models import AuditEvent, StaffSession, StaffUser
from bot.review.accounts import verify_password
from bot.review.sessions import create_session
from bot.settings import Settings
from tests.review.helpers import World, client, login

Capture = pytest.CaptureFixture[str]


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _hash(email: str) -> str | None:
    with db.session_scope() as session:
        return session.scalars(
            select(StaffUser.password_hash).where(StaffUser.email == email)
        ).one()


def test_set_password_from_stdin(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    with db.session_scope() as session:
        create_session(session, session.get_one(StaffUser, world.dt_a.ctx.staff_id))
    _stdin(monkeypatch, "a fresh long passphrase\n")
    assert main(["set-password", "--email", world.dt_a.email.upper(), "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "password set" in out and "a fresh long passphrase" not in out
    stored = _hash(world.dt_a.email)
    assert stored and verify_password(stored, "a fresh long passphrase")
    with db.session_scope() as session:
        assert session.scalars(select(StaffSession)).all() == []  # logged out everywhere
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.password_set")
            .order_by(AuditEvent.id.desc())
        ).first()  # fmt: skip
        assert event is not None and event.actor.startswith("cli:")
        assert "passphrase" not in str(event.detail)
    assert login(client(), world.dt_a.email, "a fresh long passphrase").status_code == 303


def test_set_password_from_the_terminal(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    answers = iter(["typed at the terminal", "typed at the terminal"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["set-password", "--email", world.dsl_a.email]) == 0
    stored = _hash(world.dsl_a.email)
    assert stored and verify_password(stored, "typed at the terminal")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (["one long password", "another long password"], "differ"),
        (["password123", "password123"], "too easy"),
        (["short", "short"], "at least 12"),
    ],
)
def test_set_password_refusals_change_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: Capture, typed: list[str], message: str
) -> None:
    before = _hash(world.dt_a.email)
    answers = iter(typed)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["set-password", "--email", world.dt_a.email]) == 2
    assert message in capsys.readouterr().err
    assert _hash(world.dt_a.email) == before


def test_set_password_for_an_unknown_email(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    _stdin(monkeypatch, "a perfectly good passphrase\n")
    assert main(["set-password", "--email", "nobody@x.example.org", "--password-stdin"]) == 2
    assert "no staff user has that email address" in capsys.readouterr().err


def test_seed_demo_prints_the_logins_once(
    review: None, app_settings: Settings, capsys: Capture
) -> None:
    assert main(["seed-demo"]) == 0
    first = capsys.readouterr().out
    assert "next steps" in first and "invite code" in first  # the old output stays
    assert "http://127.0.0.1:8000/review/login" in first
    logins = app_settings.var_dir / "demo-logins"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    lines = logins.read_text().splitlines()
    assert lines[0] == "http://127.0.0.1:8000/review/login"
    accounts = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert set(accounts) == {
        "designated.teacher@example.org",
        "dsl@example.org",
        "virtual.school@example.org",
    }
    for email, password in accounts.items():
        assert password in first
        assert login(client(), email, password).status_code == 303

    assert main(["seed-demo"]) == 0
    second = capsys.readouterr().out
    assert "demo-logins" in second and not any(p in second for p in accounts.values())
    assert logins.read_text().splitlines()[1:] == lines[1:]  # the same passwords still work
