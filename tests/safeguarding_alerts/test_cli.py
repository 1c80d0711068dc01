"""`concerns`, `concern show` and `send-pending-alerts` on a committed database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import session_scope
from bot.models import AuditEvent, Role

from .conftest import WORDS, SmtpServer

Capture = pytest.CaptureFixture[str]
STAFF = (
    ("dsl@oak.example", Role.dsl),
    ("teacher@oak.example", Role.designated_teacher),
)


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_concerns_table(capsys: Capture, committed: Callable[..., int]) -> None:
    concern_id = committed(*STAFF)
    status, out, err = run(capsys, "concerns", "--as", "teacher@oak.example")
    assert (status, err) == (0, "")
    header, row = out.splitlines()
    assert header.split() == ["id", "created", "(UK)", "category", "child", "pep", "alert"]
    assert row.split()[0] == str(concern_id)
    assert "Alex" in row and "physical_abuse" in row and "pending" in row
    assert "Zebedee" not in out


def test_concern_show_for_dsl(capsys: Capture, committed: Callable[..., int]) -> None:
    concern_id = committed(*STAFF)
    status, out, err = run(capsys, "concern", "show", str(concern_id), "--as", "dsl@oak.example")
    assert (status, err) == (0, "")
    assert WORDS in out


def test_concern_show_refused_for_teacher_is_audited(
    capsys: Capture, committed: Callable[..., int]
) -> None:
    concern_id = committed(*STAFF)
    status, out, err = run(
        capsys, "concern", "show", str(concern_id), "--as", "teacher@oak.example"
    )
    assert (status, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "Designated Safeguarding Lead" in err
    assert "Zebedee" not in err
    with session_scope() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "concern.view_denied" in actions


def test_concern_show_unknown_viewer(capsys: Capture, committed: Callable[..., int]) -> None:
    concern_id = committed(*STAFF)
    status, out, err = run(capsys, "concern", "show", str(concern_id), "--as", "who@example.org")
    assert (status, out) == (2, "")
    assert err.strip() == "error: no staff user has that email address"


def summary(*, sent: int, unsent: int) -> str:
    return f"alerts sent: {sent}; still unsent: {unsent}; past the attempt limit: 0"


def test_send_pending_alerts(
    capsys: Capture, smtp_server: SmtpServer, committed: Callable[..., int]
) -> None:
    committed(*STAFF)
    status, out, _ = run(capsys, "send-pending-alerts")
    assert (status, out.strip()) == (0, summary(sent=1, unsent=0))
    assert len(smtp_server.inbox.messages) == 1
    status, out, _ = run(capsys, "send-pending-alerts")
    assert (status, out.strip()) == (0, summary(sent=0, unsent=0))


def test_send_pending_alerts_reports_failure(
    capsys: Capture, stopped_smtp_server: SmtpServer, committed: Callable[..., int]
) -> None:
    committed(*STAFF)
    status, out, _ = run(capsys, "send-pending-alerts")
    assert (status, out.strip()) == (1, summary(sent=0, unsent=1))
