"""The admin CLI, run in-process against a committed (then emptied) test database."""

from __future__ import annotations

import json
import os
import pwd
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.cli import ACTOR, main, table_lines
from bot.models import AuditEvent, Base, Child, Invite, Pep, PepStatus, StaffUser
from bot.services import demo_themes
from bot.services.answers import record_answer
from bot.services.invites import InviteError, redeem_invite
from bot.settings import Settings

pytestmark = pytest.mark.usefixtures("committed_db")

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def ok(capsys: Capture, *argv: str) -> str:
    status, out, err = run(capsys, *argv)
    assert (status, err) == (0, ""), err
    return out


def refused(capsys: Capture, *argv: str) -> str:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    return err


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(table)) or 0
            for name, table in Base.metadata.tables.items()
        }


def code_in(out: str) -> str:
    match = re.search(r"invite code: (\S+)", out)
    assert match, out
    return match.group(1)


@pytest.fixture
def school_child(capsys: Capture) -> int:
    ok(capsys, "add-school", "Oak Primary")
    out = ok(
        capsys, "add-child", "--school", "Oak Primary", "--first-name", "Zoë", "--year-group", "Y5"
    )
    return int(re.search(r"child (\d+)", out).group(1))  # type: ignore[union-attr]


def test_migrate_is_idempotent(capsys: Capture) -> None:
    assert "up to date" in ok(capsys, "migrate")


def test_migrate_fresh_database(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from bot import db
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/fresh/new.db")
    get_settings.cache_clear()
    db.reset_engine()
    ok(capsys, "migrate")
    ok(capsys, "add-school", "Fresh School")


def test_happy_path(capsys: Capture, committed_db: Engine, school_child: int) -> None:
    out = ok(
        capsys, "add-staff", "--school", "oak primary", "--email", "T@Example.org", "--role", "dsl"
    )
    assert "t@example.org (dsl)" in out

    out = ok(capsys, "add-pep", "--child", str(school_child), "--meeting-date", "2030-05-01")
    pep_id = int(re.search(r"PEP (\d+)", out).group(1))  # type: ignore[union-attr]
    first_code = code_in(out)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", first_code)
    # The link carries a long random token, never the code.
    link = re.search(r"web chat link: (\S+)", out)
    assert link and re.fullmatch(r"http://\S+/chat/link/[A-Za-z0-9_-]{43}", link.group(1))
    assert first_code.replace("-", "") not in link.group(1).upper()
    second_code = code_in(ok(capsys, "new-invite", "--pep", str(pep_id)))
    assert second_code != first_code

    with Session(committed_db) as session, session.begin():
        pep = session.get(Pep, pep_id)
        assert pep is not None
        # The new invite revoked the first: only the latest code links.
        with pytest.raises(InviteError):
            redeem_invite(session, first_code, "chat-1")
        assert redeem_invite(session, second_code, "chat-1") is pep
        record_answer(session, pep, "likes", 'art 🎨 "mostly"\nand PE', "child", "ks1_2")
        record_answer(session, pep, "worries", None, "child", "ks1_2", skipped=True)

    table = ok(capsys, "list-peps").splitlines()
    assert table[0].split() == ["id", "child", "year", "phase", "meeting", "status", "answers"]
    assert table[1].split() == [str(pep_id), "Zoë", "Y5", "ks1_2", "2030-05-01", "in_progress", "2"]
    assert len(ok(capsys, "list-peps", "--school", "Oak Primary").splitlines()) == 2

    out = ok(capsys, "export", "--pep", str(pep_id))
    assert "Zoë" in out and "🎨" in out  # UTF-8, not \u escapes
    document = json.loads(out)
    assert document["child_first_name"] == "Zoë"
    assert [a["text"] for a in document["answers"]] == ['art 🎨 "mostly"\nand PE', None]

    with Session(committed_db) as session:
        # Audited as the command line and the operating-system user who ran it.
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == ACTOR)).all()
        assert ACTOR.startswith(f"cli:{pwd.getpwuid(os.geteuid()).pw_name}")
        assert {
            "school.created",
            "staff.created",
            "child.created",
            "pep.created",
            "invite.issued",
            "pep.listed",
            "pep.exported",
        } <= set(actions)
        assert session.scalar(select(func.count()).select_from(Invite)) == 2


def test_list_peps_empty(capsys: Capture) -> None:
    assert "(no PEPs)" in ok(capsys, "list-peps")


def test_seed_demo_is_idempotent(
    capsys: Capture, committed_db: Engine, app_settings: Settings
) -> None:
    first = ok(capsys, "seed-demo")
    assert "Demo Primary School" in first and "next steps" in first
    after_first = counts(committed_db)
    second = ok(capsys, "seed-demo")
    assert code_in(second) != code_in(first)
    invite_file = app_settings.var_dir / "demo-invite"
    assert invite_file.read_text().strip() == code_in(second)
    after_second = counts(committed_db)
    # Sam (to chat as) and Robin (answered and sent, to review at once) at the demo school,
    # and the themes page's made-up children at a second school.
    themes = len(demo_themes.NAMES)
    for table, expected in {
        "schools": 2,
        "staff_users": 3,
        "children": 2 + themes,
        "peps": 2 + themes,
    }.items():
        assert after_second[table] == after_first[table] == expected
    assert after_second["invites"] == 2

    with Session(committed_db) as session, session.begin():
        emails = set(session.scalars(select(StaffUser.email)))
        assert emails == {
            "designated.teacher@example.org",
            "dsl@example.org",
            "virtual.school@example.org",
        }
        pep = session.scalars(select(Pep).join(Pep.child).where(Child.first_name == "Sam")).one()
        robin = session.scalars(select(Pep).join(Pep.child).where(Child.first_name == "Robin"))
        assert robin.one().status == PepStatus.submitted
        # Only Robin's designated teacher is waiting to hear: not for the made-up children.
        unannounced = select(Pep).where(
            Pep.submitted_at.is_not(None), Pep.submitted_notice_sent_at.is_(None)
        )
        assert [p.child.first_name for p in session.scalars(unannounced)] == ["Robin"]
        assert pep.meeting_date == date.today() + timedelta(days=30)
        assert (pep.child.first_name, pep.child.year_group) == ("Sam", 5)
        # Only the latest code works: the one `make run` shows.
        assert redeem_invite(session, code_in(second), "demo-chat") is pep
        with pytest.raises(InviteError):
            redeem_invite(session, code_in(first), "other-chat")


def test_seed_demo_after_submission_starts_new_pep(capsys: Capture, committed_db: Engine) -> None:
    ok(capsys, "seed-demo")
    with Session(committed_db) as session, session.begin():
        sam = select(Pep).join(Pep.child).where(Child.first_name == "Sam")
        session.scalars(sam).one().status = PepStatus.submitted
    out = ok(capsys, "seed-demo")
    with Session(committed_db) as session, session.begin():
        latest = session.scalars(select(Pep).order_by(Pep.id.desc())).first()
        assert latest is not None
        assert redeem_invite(session, code_in(out), "chat") is latest
    # Sam (with a new PEP), Robin and the themes children: none added again.
    assert counts(committed_db)["children"] == 2 + len(demo_themes.NAMES)


BAD_INPUT = [
    (("add-school", "  "), "must not be empty"),
    (
        ("add-staff", "--school", "Nope", "--email", "a@example.org", "--role", "dsl"),
        "unknown school",
    ),
    (
        ("add-staff", "--school", "Oak Primary", "--email", "a@example.org", "--role", "boss"),
        "unknown role",
    ),
    (("add-staff", "--school", "Oak Primary", "--email", "nope", "--role", "dsl"), "not an email"),
    (("add-child", "--school", "Nope", "--first-name", "A", "--year-group", "5"), "unknown school"),
    (
        ("add-child", "--school", "Oak Primary", "--first-name", "A", "--year-group", "Y14"),
        "year group",
    ),
    (
        ("add-child", "--school", "Oak Primary", "--first-name", "A", "--year-group", "five"),
        "year group",
    ),
    (("add-pep", "--child", "999999", "--meeting-date", "2030-01-01"), "unknown child"),
    (("add-pep", "--child", "{child}", "--meeting-date", "2030-02-30"), "not a date"),
    (("add-pep", "--child", "{child}", "--meeting-date", "next week"), "not a date"),
    (("add-pep", "--child", "abc", "--meeting-date", "2030-01-01"), "not an id"),
    (("new-invite", "--pep", "999999"), "unknown PEP"),
    (("export", "--pep", "999999"), "unknown PEP"),
    (("export", "--pep", "0"), "not an id"),
    (("list-peps", "--school", "Nope"), "unknown school"),
    (("add-school",), "required"),
    (("no-such-command",), "invalid choice"),
    ((), "required"),
]


def _add_dup_staff(capsys: Capture) -> None:
    """A staff user whose email the bad-input cases then try to reuse."""
    ok(
        capsys,
        "add-staff",
        "--school",
        "Oak Primary",
        "--email",
        "dup@example.org",
        "--role",
        "dsl",
    )


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
def test_bad_input_writes_nothing(
    capsys: Capture, committed_db: Engine, school_child: int, argv: tuple[str, ...], message: str
) -> None:
    _add_dup_staff(capsys)
    before = counts(committed_db)
    err = refused(capsys, *(a.replace("{child}", str(school_child)) for a in argv))
    assert message in err
    assert counts(committed_db) == before


def test_duplicate_email_and_school(
    capsys: Capture, committed_db: Engine, school_child: int
) -> None:
    _add_dup_staff(capsys)
    before = counts(committed_db)
    err = refused(
        capsys,
        "add-staff",
        "--school",
        "Oak Primary",
        "--email",
        "DUP@example.org",
        "--role",
        "admin",
    )
    assert "already exists" in err
    assert "already exists" in refused(capsys, "add-school", "Oak Primary")
    assert counts(committed_db) == before


def test_new_invite_for_submitted_pep_refused(
    capsys: Capture, committed_db: Engine, school_child: int
) -> None:
    out = ok(capsys, "add-pep", "--child", str(school_child), "--meeting-date", "2030-05-01")
    pep_id = int(re.search(r"PEP (\d+)", out).group(1))  # type: ignore[union-attr]
    with Session(committed_db) as session, session.begin():
        session.get(Pep, pep_id).status = "submitted"  # type: ignore[union-attr]
    before = counts(committed_db)
    assert "already been submitted" in refused(capsys, "new-invite", "--pep", str(pep_id))
    assert counts(committed_db) == before


def test_help_exits_zero(capsys: Capture) -> None:
    assert main(["--help"]) == 0
    assert "add-pep" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["export", "list-peps", "subject-access", "erase-child"])
def test_reading_a_childs_record_is_said_to_be_admin_work(capsys: Capture, command: str) -> None:
    assert main([command, "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "For administrators on the server (audited with your user name)" in help_text
    assert "--as" not in help_text


@pytest.mark.parametrize(
    "argv", [["concerns", "--as", "dsl@example.org"], ["concern", "show", "1"]]
)
def test_concerns_are_read_in_the_review_app_only(capsys: Capture, argv: list[str]) -> None:
    assert "invalid choice" in refused(capsys, *argv)


def test_unmigrated_database_explains(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from bot import db
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    get_settings.cache_clear()
    db.reset_engine()
    status, _out, err = run(capsys, "list-peps")
    assert status == 1
    assert "migrate" in err


def test_the_one_table_layout_lines_up_columns() -> None:
    lines = table_lines([("id", "child", "status"), ("12", "Zoë", "in_progress"), ("3", "Al", "")])
    assert lines == ["id  child  status", "12  Zoë    in_progress", "3   Al"]
    assert table_lines([]) == []
