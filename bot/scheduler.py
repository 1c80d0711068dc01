"""The periodic jobs, in one process: `python -m bot scheduler` (the Procfile's scheduler).

Two cadences, each in its own thread so that slow housekeeping never delays an alert:
- every ALERT_POLL_SECONDS (2 s): the alert delivery worker (bot.alerts.delivery), one
  indexed query when nothing is due;
- every SCHEDULER_INTERVAL_SECONDS (300 s), starting at once: update alerts reopened after
  the quiet hour, a warning for alerts past the attempt limit, teacher notices, the
  retention rules, and Telegram meeting reminders when TELEGRAM_TOKEN is set.

A job that fails is logged by its exception's type (never a message, which could quote
data) and the others still run. Several schedulers at once are safe: each alert and notice
is claimed in the database before it is sent. Cron users run the same jobs as commands.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

from bot.alerts.delivery import deliver_due_alerts, reopen_followups, warn_of_abandoned_alerts
from bot.db import session_scope
from bot.services import lifecycle
from bot.services.notifications import send_teacher_notices
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]


def _apply_retention() -> None:
    with session_scope() as session:
        counts = lifecycle.apply_retention(session)
    if any(counts.values()):
        logger.info("retention applied: %s", counts)


def _send_reminders() -> None:
    from bot.telegram.reminders import run_send_reminders  # Telegram only when configured

    run_send_reminders()


ALERT_JOBS = (Job("deliver-alerts", deliver_due_alerts),)


def periodic_jobs(settings: Settings) -> list[Job]:
    jobs = [
        Job("reopen-alert-followups", reopen_followups),
        Job("warn-of-abandoned-alerts", warn_of_abandoned_alerts),
        Job("send-teacher-notices", send_teacher_notices),
        Job("apply-retention", _apply_retention),
    ]
    if settings.telegram.enabled:
        jobs.append(Job("send-reminders", _send_reminders))
    return jobs


def run_jobs(jobs: Sequence[Job]) -> list[str]:
    """Run each job once; the names of those that failed (each logged)."""
    failed = []
    for job in jobs:
        try:
            job.run()
        except Exception as exc:
            logger.error("scheduled job %s failed: %s", job.name, type(exc).__name__)
            failed.append(job.name)
    return failed


def _every(seconds: float, jobs: Sequence[Job], stop: threading.Event) -> None:
    while True:
        run_jobs(jobs)
        if stop.wait(seconds):
            return


def run(stop: threading.Event) -> None:
    """Run both cadences until `stop` is set (then finish the jobs under way)."""
    settings = get_settings()
    housekeeping = threading.Thread(
        target=_every,
        args=(settings.scheduler.interval_seconds, periodic_jobs(settings), stop),
        name="scheduler-periodic",
    )
    housekeeping.start()
    try:
        _every(settings.scheduler.alert_poll_seconds, ALERT_JOBS, stop)
    finally:
        stop.set()
        housekeeping.join()


def main() -> int:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level="INFO")
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    settings = get_settings()
    logger.info(
        "scheduler: alerts every %g s, other jobs every %g s",
        settings.scheduler.alert_poll_seconds,
        settings.scheduler.interval_seconds,
    )
    run(stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
