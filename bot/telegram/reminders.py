"""`python -m bot send-reminders`: nudge children on Telegram before their PEP meeting.

A scheduler (cron) runs it, e.g. daily. A PEP is due when its meeting is today or within
`reminder_days_before` days, it is not submitted, a Telegram chat is linked to it, and no
chat has been reminded about it yet. Each reminder is claimed in the store before it is
sent, so it goes at most once; a send that failed for a passing reason is released for the
next run, one Telegram refuses for good (blocked bot, chat gone) is not retried.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.db import session_scope
from bot.models import Pep, PepStatus, TelegramChat, utcnow
from bot.settings import get_settings
from bot.telegram.identity import unseal_chat_id

log = logging.getLogger(__name__)

# Kind, short, and no names: the message shows on a lock screen.
REMINDER_MESSAGE = (
    "Hi! Your PEP meeting is coming up soon. "
    "If you'd like to finish your answers, just send me a message."
)


@dataclass
class ReminderRun:
    sent: int = 0
    refused: int = 0  # blocked or gone: not retried
    failed: int = 0  # released for the next run


def _reminded_peps() -> Select[int]:
    return select(TelegramChat.pep_id).where(TelegramChat.reminder_sent_at.is_not(None))


def due_reminders(session: Session, today: date, days_before: int) -> list[TelegramChat]:
    """Chats to remind now, newest link first, at most one per PEP."""
    rows = session.scalars(
        select(TelegramChat)
        .join(Pep, Pep.id == TelegramChat.pep_id)
        .where(
            TelegramChat.reminder_sent_at.is_(None),
            TelegramChat.pep_id.not_in(_reminded_peps()),
            Pep.status != PepStatus.submitted,
            Pep.meeting_date >= today,
            Pep.meeting_date <= today + timedelta(days=days_before),
        )
        .order_by(TelegramChat.linked_at.desc(), TelegramChat.id.desc())
    ).all()
    one_per_pep: dict[int, TelegramChat] = {}
    for row in rows:
        one_per_pep.setdefault(row.pep_id, row)
    return list(one_per_pep.values())


def _claim(row_id: int, now: datetime) -> bool:
    with session_scope() as session:
        claimed = session.execute(
            update(TelegramChat)
            .where(
                TelegramChat.id == row_id,
                TelegramChat.reminder_sent_at.is_(None),
                TelegramChat.pep_id.not_in(_reminded_peps()),
            )
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _release(row_id: int) -> None:
    with session_scope() as session:
        session.execute(
            update(TelegramChat)
            .where(TelegramChat.id == row_id)
            .values(reminder_sent_at=None)
            .execution_options(synchronize_session=False)
        )


async def send_reminders(
    bot: Bot, today: date | None = None, now: datetime | None = None
) -> ReminderRun:
    now = now or utcnow()
    today = today or now.date()
    days_before = get_settings().reminder_days_before

    def load() -> list[tuple[int, str, str]]:
        with session_scope() as session:
            rows = due_reminders(session, today, days_before)
            return [(r.id, r.chat_hash, r.sealed_chat_id) for r in rows]

    run = ReminderRun()
    for row_id, hashed, sealed in await asyncio.to_thread(load):
        if not await asyncio.to_thread(_claim, row_id, now):
            continue  # another run took it
        try:
            chat_id = unseal_chat_id(sealed, hashed)
        except ValueError:
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
            await asyncio.to_thread(_release, row_id)
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
    if not get_settings().telegram_token:
        raise RuntimeError("TELEGRAM_TOKEN is not set; there is no bot to send reminders")
    run = asyncio.run(_run_with_bot())
    print(f"reminders sent: {run.sent}, refused: {run.refused}, to retry: {run.failed}")
    return 1 if run.failed else 0
