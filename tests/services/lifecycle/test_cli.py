"""`subject-access`, `erase-child` and `apply-retention` (admin work) on a committed database."""

from __future__ import annotations

import json
import os
import pwd
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.cli import ACTOR, main
from bot.db import session_scope
from bot.models import AuditEvent, Child
from bot.models import utcnow as now

from .conftest import OAK, ChildData, Tracker, add_schools, build_child

Capture = pytest.CaptureFixture[str]
WORDS = "my hamster Quillfeather loves the trampoline"
DISCLOSURE = "my stepdad Grimsditch locks me in the shed"


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def child(committed_db: Engine, tracker: Tracker) -> ChildData:
    with session_scope() as session:
        add_schools(session)
        return build_child(
            session,
            tracker,
            school=OAK,
            first_name="Perpetua",
            words=WORDS,
            disclosure=DISCLOSURE,
            meeting=date.today() + timedelta(days=20),
            at=now() - timedelta(days=1),
        )


def _actions() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _events(action: str) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_subject_access_to_a_private_file(
    capsys: Capture, child: ChildData, tmp_path: Path
) -> None:
    out_file = tmp_path / "sar" / "perpetua.json"
    out_file.parent.mkdir()
    argv = ("subject-access", "--child", str(child.child_id), "--out", str(out_file))
    status, out, err = run(capsys, *argv)
    assert (status, err) == (0, "")
    assert "withheld pending DSL review" in out and WORDS not in out
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    document = json.loads(out_file.read_text(encoding="utf-8"))
    assert document["peps"][0]["answers"][0]["text"] == WORDS
    assert document["requested_by"] == ACTOR
    assert DISCLOSURE not in out_file.read_text(encoding="utf-8")
    # Audited as the command line and the operating-system user who ran it.
    [event] = _events("child.subject_access")
    assert event.actor == ACTOR
    assert ACTOR.startswith(f"cli:{pwd.getpwuid(os.geteuid()).pw_name}")
    # An existing file is never overwritten.
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and "already exists" in err


def test_subject_access_with_the_dsls_approval_to_stdout(capsys: Capture, child: ChildData) -> None:
    status, out, err = run(
        capsys,
        "subject-access",
        "--child",
        str(child.child_id),
        "--concerns-approved-by",
        "dsl@oak.example",
    )
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert document["safeguarding_concerns"]["released"] is True
    assert document["safeguarding_concerns"]["approved_by"] == "dsl@oak.example"
    assert DISCLOSURE in out


def test_subject_access_refused_without_the_schools_dsl_is_audited(
    capsys: Capture, child: ChildData
) -> None:
    status, out, err = run(
        capsys,
        "subject-access",
        "--child",
        str(child.child_id),
        "--concerns-approved-by",
        "dsl@elm.example",
    )
    assert (status, out) == (2, "")
    assert "Designated Safeguarding Lead of the child's school" in err
    [event] = _events("child.access_denied")  # committed, though the command was refused
    assert event.actor == ACTOR


def test_unknown_child(capsys: Capture, child: ChildData) -> None:
    status, out, err = run(capsys, "subject-access", "--child", "999999")
    assert (status, out, err.strip()) == (2, "", "error: unknown child id 999999")


@pytest.mark.parametrize("command", ["subject-access", "erase-child"])
def test_no_more_as_email(capsys: Capture, child: ChildData, command: str) -> None:
    argv = (command, "--child", str(child.child_id), "--as", "dsl@oak.example", "--confirm")
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "") and "unrecognized arguments: --as" in err


def test_erase_child_needs_confirm(capsys: Capture, child: ChildData, tracker: Tracker) -> None:
    argv = (
        "erase-child",
        "--child",
        str(child.child_id),
        "--concerns-approved-by",
        "dsl@oak.example",
    )
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "") and "--confirm" in err
    assert tracker.count_matches("quillfeather") > 0

    status, out, err = run(capsys, *argv, "--confirm")
    assert (status, err) == (0, "")
    assert out.startswith(f"child {child.child_id} erased: ") and "peps 2" in out
    with session_scope() as session:
        assert session.get(Child, child.child_id) is None
    assert tracker.count_matches("quillfeather") == 0
    [event] = _events("child.erased")
    assert event.actor == ACTOR and event.detail["approved_by_id"] is not None


def test_erase_child_with_concerns_refused_without_the_dsls_approval(
    capsys: Capture, child: ChildData
) -> None:
    status, out, err = run(capsys, "erase-child", "--child", str(child.child_id), "--confirm")
    assert (status, out) == (2, "") and "--concerns-approved-by DSL_EMAIL" in err
    assert _actions()[-1] == "child.erase_denied"
    with session_scope() as session:
        assert session.get(Child, child.child_id) is not None


def test_apply_retention(capsys: Capture, child: ChildData, tracker: Tracker) -> None:
    tracker.say("web-abandoned", (now() - timedelta(days=8), "Tiddlywink hi", "Hello!"))
    status, out, err = run(capsys, "apply-retention")
    assert (status, err) == (0, "")
    assert out.startswith("retention applied: ") and "unlinked_conversations 1" in out
    assert "peps 0" in out
    assert tracker.count_matches("tiddlywink") == 0
    assert tracker.count_matches("quillfeather") > 0
    assert _actions()[-1] == "retention.applied"
