"""`python -m bot send-reminders`: nudge children on Telegram before their PEP meeting.

A scheduler runs it, e.g. daily. Which chats are due, and the claim that sends each
reminder at most once, are `bot.services.telegram_chats`'s; a send that failed for a
passing reason is released for the next run, one Telegram refuses for good (blocked bot,
chat gone) is not retried.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.child_texts import REMINDER_MESSAGE
from bot.models import utcnow
from bot.services.telegram_chats import claim_reminder, due_reminders, release_reminder
from bot.settings import get_settings

log = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    sent: int = 0
    refused: int = 0  # blocked or gone: not retried
    failed: int = 0  # released for the next run


async def send_reminders(
    bot: Bot, today: date | None = None, now: datetime | None = None
) -> ReminderRun:
    now = now or utcnow()
    today = today or now.date()
    days_before = get_settings().telegram.reminder_days_before

    run = ReminderRun()
    for due in await asyncio.to_thread(due_reminders, today, days_before):
        row_id, chat_id = due.row_id, due.chat_id
        if not await asyncio.to_thread(claim_reminder, row_id, now):
            continue  # another run took it
        if chat_id is None:
            log.error("telegram chat %s: sealed id does not match (secret key changed?)", row_id)
            run.refused += 1
            continue
        try:
            await bot.send_message(chat_id, REMINDER_MESSAGE)
        except (Forbidden, BadRequest) as error:
            log.info("telegram chat %s refused the reminder: %s", row_id, type(error).__name__)
            run.refused += 1
        except TelegramError as error:
            log.warning("reminder to telegram chat %s failed: %s", row_id, type(error).__name__)
            await asyncio.to_thread(release_reminder, row_id)
            run.failed += 1
        else:
            run.sent += 1
    return run


async def _run_with_bot() -> ReminderRun:
    from bot.telegram.application import build_bot

    async with build_bot() as bot:
        return await send_reminders(bot)


def run_send_reminders() -> int:
    """The CLI command: 0 when nothing failed, 1 when some reminders wait for the next run."""
    if not get_settings().telegram.enabled:
        raise RuntimeError("TELEGRAM_TOKEN is not set; there is no bot to send reminders")
    run = asyncio.run(_run_with_bot())
    print(f"reminders sent: {run.sent}, refused: {run.refused}, to retry: {run.failed}")
    return 1 if run.failed else 0
