"""The Telegram chats the store keeps: which PEP a chat is on, and its reminders. Each
function is one short transaction; `bot.telegram` calls them and translates the protocol.

A chat's row in `telegram_chats` says which PEP the chat is on now; each PEP has its own
conversation with the engine (`identity.sender_id(chat_id, pep_id)`), so a code for another
PEP, however it arrives, moves the chat to a new conversation instead of filing the new
child's answers under the old one. The app, not the engine, redeems codes and link tokens
(`link_chat`, throttled per chat): the engine is sent only "/start".

A PEP is due a reminder when its meeting is today or within `days_before` days, it is not
submitted, a chat is linked to it, and no chat has been reminded about it yet. Each reminder
is claimed before it is sent, so it goes at most once (`claim_reminder`); a send that failed
for a passing reason is released for the next run (`release_reminder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import Pep, PepStatus, TelegramChat, utcnow
from bot.services.conversation import link_conversation
from bot.services.invites import (
    ConversationLinkedElsewhere,
    bound_pep_ids,
    pep_for_conversation,
    pep_id_for_code,
)
from bot.services.telegram_identity import (
    chat_hash,
    chat_hashes,
    seal_chat_id,
    sender_id,
    sender_ids,
    unseal_chat_id,
)
from bot.services.throttle import invite_throttle


@dataclass(frozen=True)
class Route:
    """Where a chat's message goes: the engine conversation, and whether the code or link
    token it carries is to be redeemed for that conversation, which then starts (True), or
    the message is the child's words (False)."""

    conversation: str
    starts: bool


def telegram_client(chat_id: int) -> str:
    """Who is trying codes, for the invite throttle: the chat, by its keyed hash."""
    return "telegram:" + chat_hash(chat_id)


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


def route(chat_id: int, secret: str | None, *, command: bool = False) -> Route:
    """The conversation for a message from the chat, with the code or link token it holds.

    `/start <secret>` (command=True) always starts the secret's own conversation. A code
    typed in a chat that is not linked starts it too, and so does any code of a real invite
    typed in a linked chat (another PEP's: a new conversation; the chat's own: it resumes),
    so no code reaches the engine. A code-like answer that is no invite's code is the
    child's words in the chat's current conversation (and a refused try for the throttle).
    """
    with session_scope() as session:
        row = _row(session, chat_id)
        current = _conversation(session, chat_id, row.pep_id if row else None)
        if secret is None:
            return Route(current, False)
        secret_pep = pep_id_for_code(session, secret)
        linked_pep = pep_for_conversation(session, current) if row is not None else None
        if command or linked_pep is None or secret_pep is not None:
            return Route(_conversation(session, chat_id, secret_pep), True)
    # A code that is no invite's counts as a refused try even when it is kept as words, so a
    # linked chat cannot guess codes unthrottled.
    invite_throttle().refused(telegram_client(chat_id))
    return Route(current, False)


def link_chat(chat_id: int, secret: str, conversation: str) -> str:
    """Redeem the code or link token for the chat's `conversation` (the app links; the
    engine is then only told to start) and record the chat's PEP. Raises InviteError.

    If that conversation is bound to another PEP (data from before a conversation held one
    PEP), the code's own conversation is used instead. Returns the conversation linked.
    """
    client = telegram_client(chat_id)
    try:
        link_conversation(secret, conversation, client=client)
    except ConversationLinkedElsewhere:
        with session_scope() as session:
            pep_id = pep_id_for_code(session, secret)
        own = None if pep_id is None else sender_id(chat_id, pep_id)
        if own is None or own == conversation:
            raise
        link_conversation(secret, own, client=client)
        conversation = own
    sync_link(chat_id, conversation)
    return conversation


def current_conversation(chat_id: int) -> str:
    return route(chat_id, None).conversation


def sync_link(chat_id: int, conversation_id: str, now: datetime | None = None) -> None:
    """Record which PEP the chat is on, after `conversation_id` was linked or had a turn.

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


@dataclass(frozen=True)
class DueReminder:
    row_id: int
    chat_id: int | None  # None: the sealed id does not open (the secret key changed?)


def _reminded_peps() -> Select[int]:
    return select(TelegramChat.pep_id).where(TelegramChat.reminder_sent_at.is_not(None))


def due_chats(session: Session, today: date, days_before: int) -> list[TelegramChat]:
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


def _chat_id(row: TelegramChat) -> int | None:
    try:
        return unseal_chat_id(row.sealed_chat_id, row.chat_hash)
    except ValueError:
        return None


def due_reminders(today: date, days_before: int) -> list[DueReminder]:
    with session_scope() as session:
        return [DueReminder(r.id, _chat_id(r)) for r in due_chats(session, today, days_before)]


def claim_reminder(row_id: int, now: datetime) -> bool:
    """Mark the chat reminded; False if another run took it, or reminded its PEP already."""
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


def release_reminder(row_id: int) -> None:
    """The send failed for a passing reason: the next run tries again."""
    with session_scope() as session:
        session.execute(
            update(TelegramChat)
            .where(TelegramChat.id == row_id)
            .values(reminder_sent_at=None)
            .execution_options(synchronize_session=False)
        )
