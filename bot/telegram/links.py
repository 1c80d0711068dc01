"""What the Telegram channel keeps in the store. Each function is one short transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.models import ProcessedUpdate, TelegramChat, utcnow
from bot.services.invites import pep_for_conversation
from bot.telegram.identity import chat_hash, seal_chat_id, sender_id

# Telegram gives up redelivering an update long before this.
KEEP_UPDATE_IDS = timedelta(days=7)
_PRUNE_EVERY = 500


def is_linked(chat_id: int) -> bool:
    """Whether the chat's conversation has an unsubmitted PEP."""
    with session_scope() as session:
        return pep_for_conversation(session, sender_id(chat_id)) is not None


def sync_link(chat_id: int, now: datetime | None = None) -> None:
    """Record which PEP the chat is linked to (the engine links it), for reminders.

    Only linked chats get a row, so a chat that never gave a good code leaves no trace.
    A chat that moves to a new PEP starts with no reminder sent for it.
    """
    now = now or utcnow()
    with session_scope() as session:
        pep = pep_for_conversation(session, sender_id(chat_id))
        if pep is None:
            return
        hashed = chat_hash(chat_id)
        row = session.scalar(select(TelegramChat).where(TelegramChat.chat_hash == hashed))
        if row is None:
            session.add(
                TelegramChat(
                    chat_hash=hashed,
                    sealed_chat_id=seal_chat_id(chat_id),
                    pep_id=pep.id,
                    linked_at=now,
                )
            )
        elif row.pep_id != pep.id:
            row.pep_id, row.linked_at, row.reminder_sent_at = pep.id, now, None


def claim_update(update_id: int, now: datetime | None = None) -> bool:
    """True the first time an update id is seen; False for a redelivery."""
    now = now or utcnow()
    try:
        with session_scope() as session:
            session.add(ProcessedUpdate(update_id=update_id, processed_at=now))
    except IntegrityError:
        return False
    if update_id % _PRUNE_EVERY == 0:
        with session_scope() as session:
            session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_UPDATE_IDS)
            )
    return True
