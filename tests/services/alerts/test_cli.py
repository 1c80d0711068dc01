"""`send-pending-alerts` on a committed database (the DSL reads concerns in the review app)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.cli import main
from bot.models import Role
from tests.smtp_server import SmtpServer

Capture = pytest.CaptureFixture[str]
STAFF = (
    ("dsl@oak.example", Role.dsl),
    ("teacher@oak.example", Role.designated_teacher),
)


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


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
