#!/usr/bin/env bash
# The periodic jobs, for `make run` (in production, run the same commands from cron):
# retry safeguarding alerts that could not be sent, email designated teachers (a child sent
# their views; a meeting is near and the child has not started), apply the data retention
# rules (expired staff sessions too), and send Telegram meeting reminders.
set -u
cd "$(dirname "$0")/.."
while true; do
  .venv/app/bin/python -m bot send-pending-alerts || true
  # Each notice once, however many schedulers run; one that fails waits for the next cycle.
  .venv/app/bin/python -m bot send-teacher-notices || true
  # Data lifecycle: expired PEPs, finished and abandoned engine conversations, unused invites,
  # expired staff sessions.
  .venv/app/bin/python -m bot apply-retention || true
  if [ -n "${TELEGRAM_TOKEN:-}" ]; then
    .venv/app/bin/python -m bot send-reminders || true
  fi
  sleep "${SCHEDULER_INTERVAL_SECONDS:-300}"
done
