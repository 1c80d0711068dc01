"""The scheduler: the alert worker every ALERT_POLL_SECONDS, the other jobs on their own
cadence, each failure logged by type and never stopping the rest."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from bot import scheduler
from bot.db import session_scope
from bot.models import AlertStatus, Pep, Role
from bot.settings import Settings
from tests.integration.stack import REPO
from tests.smtp_server import SmtpServer

from .conftest import concern_row, configure, record

Build = Callable[..., int]
DSL = ("dsl@oak.example", Role.dsl)


def test_a_failing_job_is_logged_by_type_and_the_others_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def boom() -> None:
        raise ValueError("my uncle Zebedee")  # as if a message quoted a child

    jobs = [
        scheduler.Job("first", lambda: ran.append("first")),
        scheduler.Job("boom", boom),
        scheduler.Job("last", lambda: ran.append("last")),
    ]
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert scheduler.run_jobs(jobs) == ["boom"]
    assert ran == ["first", "last"]
    assert "scheduled job boom failed: ValueError" in caplog.text
    assert "Zebedee" not in caplog.text


def test_reminders_run_only_with_a_telegram_token(
    monkeypatch: pytest.MonkeyPatch, app_settings: Settings
) -> None:
    names = [job.name for job in scheduler.periodic_jobs(app_settings)]
    assert names == [
        "reopen-alert-followups", "warn-of-abandoned-alerts", "send-teacher-notices",
        "apply-retention",
    ]  # fmt: skip
    with_token = configure(monkeypatch, telegram_token="123:abc")
    assert [job.name for job in scheduler.periodic_jobs(with_token)][-1] == "send-reminders"


@contextmanager
def running_schedulers(count: int) -> Iterator[None]:
    stop = threading.Event()
    threads = [threading.Thread(target=scheduler.run, args=(stop,)) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        assert not any(thread.is_alive() for thread in threads)


def test_the_scheduler_emails_a_new_concern_within_seconds(
    smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, alert_poll_seconds="0.1", scheduler_interval_seconds="3600")
    with running_schedulers(1):
        started = time.monotonic()
        concern_id = committed(DSL)
        assert len(smtp_server.inbox.wait_for(1, timeout=5)) == 1
        assert time.monotonic() - started < 2
    assert concern_row(concern_id).alert_status == AlertStatus.sent


def test_schedulers_at_once_send_each_alert_once(
    smtp_server: SmtpServer, committed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, alert_poll_seconds="0.05", scheduler_interval_seconds="3600")
    smtp_server.inbox.delay = 0.2  # a send is under way when the other schedulers look
    with running_schedulers(3):
        concerns = [committed(DSL)]
        with session_scope() as session:
            pep = session.scalar(select(Pep))
            concerns += [record(session, pep, f"more-{n}").id for n in range(2)]
        smtp_server.inbox.wait_for(3, timeout=10)
        time.sleep(0.5)  # time for any second email to arrive
    assert len(smtp_server.inbox.messages) == 3
    assert [concern_row(c).alert_attempts for c in concerns] == [1, 1, 1]


def test_python_m_bot_scheduler_sends_and_stops_on_sigterm(
    smtp_server: SmtpServer, committed: Build, tmp_path: object
) -> None:
    concern_id = committed(DSL)
    env = {**os.environ, "ALERT_POLL_SECONDS": "0.2", "SCHEDULER_INTERVAL_SECONDS": "3600"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "scheduler"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert len(smtp_server.inbox.wait_for(1, timeout=20)) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output.decode()
    assert concern_row(concern_id).alert_status == AlertStatus.sent
    assert b"Zebedee" not in output
