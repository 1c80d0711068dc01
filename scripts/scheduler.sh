#!/usr/bin/env bash
# The periodic jobs, for `make run` (in production, run the same commands from cron):
# retry safeguarding alerts that could not be sent, apply the data retention rules, and send
# Telegram meeting reminders.
set -u
cd "$(dirname "$0")/.."
while true; do
  .venv/app/bin/python -m bot send-pending-alerts || true
  # Data lifecycle: expired PEPs, finished and abandoned engine conversations, unused invites.
  .venv/app/bin/python -m bot apply-retention || true
  if [ -n "${TELEGRAM_TOKEN:-}" ]; then
    .venv/app/bin/python -m bot send-reminders || true
  fi
  sleep "${SCHEDULER_INTERVAL_SECONDS:-300}"
done
