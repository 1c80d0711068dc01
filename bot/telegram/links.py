"""What the Telegram channel keeps in the store. Each function is one short transaction.

A chat's row in `telegram_chats` says which PEP the chat is on now; each PEP has its own
conversation with the engine (`identity.sender_id(chat_id, pep_id)`), so a code for another
PEP, however it arrives, moves the chat to a new conversation instead of filing the new
child's answers under the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import ProcessedUpdate, TelegramChat, utcnow
from bot.services.invites import bound_pep_ids, pep_for_conversation, pep_id_for_code
from bot.telegram.identity import chat_hash, chat_hashes, seal_chat_id, sender_ids

# Telegram gives up redelivering an update long before this.
KEEP_UPDATE_IDS = timedelta(days=7)
_PRUNE_EVERY = 500


@dataclass(frozen=True)
class Route:
    """Where a chat's message goes: the engine conversation, and whether to send it as a
    start with the code (True) or as what the child typed (False)."""

    conversation: str
    starts: bool


def _row(session: Session, chat_id: int) -> TelegramChat | None:
    hashed = chat_hashes(chat_id)
    return session.scalar(select(TelegramChat).where(TelegramChat.chat_hash.in_(hashed)))


def _bound_to(session: Session, candidates: list[str], pep_id: int) -> str | None:
    return next((c for c in candidates if pep_id in bound_pep_ids(session, c)), None)


def _conversation(session: Session, chat_id: int, pep_id: int | None) -> str:
    unlinked = sender_ids(chat_id)
    if pep_id is None:
        return unlinked[0]
    # Linked before conversations were per PEP, or under a key since rotated: keep it.
    linked = _bound_to(session, unlinked, pep_id)
    per_pep = sender_ids(chat_id, pep_id)
    return linked or _bound_to(session, per_pep, pep_id) or per_pep[0]


def route(chat_id: int, code: str | None, *, command: bool = False) -> Route:
    """The conversation for a message from the chat, with the invite code it holds, if any.

    `/start <code>` (command=True) always starts the code's own conversation. A code typed
    in a chat that is not linked starts it too; so does a code for another PEP typed in a
    linked chat. Anything else, a code-like answer included, is the child's words in the
    chat's current conversation.
    """
    with session_scope() as session:
        row = _row(session, chat_id)
        current = _conversation(session, chat_id, row.pep_id if row else None)
        if code is None:
            return Route(current, False)
        code_pep = pep_id_for_code(session, code)
        linked_pep = pep_for_conversation(session, current) if row is not None else None
        if command or linked_pep is None or (code_pep is not None and code_pep != linked_pep.id):
            return Route(_conversation(session, chat_id, code_pep), True)
        return Route(current, False)


def current_conversation(chat_id: int) -> str:
    return route(chat_id, None).conversation


def sync_link(chat_id: int, conversation_id: str, now: datetime | None = None) -> None:
    """Record which PEP the chat is on after a turn in `conversation_id` (the engine links it).

    Only linked chats get a row, so a chat that never gave a good code leaves no trace. A
    chat that moves to a new PEP starts with no reminder sent for it; a refused code leaves
    the chat where it was.
    """
    now = now or utcnow()
    with session_scope() as session:
        pep = pep_for_conversation(session, conversation_id)
        if pep is None:
            return
        row = _row(session, chat_id)
        if row is None:
            session.add(
                TelegramChat(
                    chat_hash=chat_hash(chat_id),
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
