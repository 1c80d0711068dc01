"""What the Telegram channel keeps in the store. Each function is one short transaction.

A chat's row in `telegram_chats` says which PEP the chat is on now; each PEP has its own
conversation with the engine (`identity.sender_id(chat_id, pep_id)`), so a code for another
PEP, however it arrives, moves the chat to a new conversation instead of filing the new
child's answers under the old one. The app, not the engine, redeems codes and link tokens
(`link_chat`, throttled per chat): the engine is sent only "/start".

Webhook updates are claimed here (`telegram_processed_updates`): in progress while a
delivery processes one, processed once it has, so a redelivery is run only if the update
was not processed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import ProcessedUpdate, TelegramChat, utcnow
from bot.services.conversation import link_conversation
from bot.services.invites import (
    ConversationLinkedElsewhere,
    bound_pep_ids,
    pep_for_conversation,
    pep_id_for_code,
)
from bot.services.throttle import invite_throttle
from bot.telegram.identity import chat_hash, chat_hashes, seal_chat_id, sender_id, sender_ids

# Telegram gives up redelivering an update long before this.
KEEP_UPDATE_IDS = timedelta(days=7)
# An update in progress for longer than this was left by a process that died: take it over.
STALE_CLAIM = timedelta(minutes=5)
_PRUNE_EVERY = 500


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


class UpdateClaim(enum.Enum):
    """What a webhook delivery may do with its update."""

    run = "run"  # claimed for this delivery: process it, then `finish_update` or `release_update`
    done = "done"  # processed already: acknowledge, do not run again
    busy = "busy"  # another delivery is processing it now: ask Telegram to try again later


def _prune(now: datetime) -> None:
    old = now - KEEP_UPDATE_IDS
    with session_scope() as session:
        session.execute(
            delete(ProcessedUpdate).where(
                or_(
                    ProcessedUpdate.processed_at < old,
                    and_(ProcessedUpdate.processed_at.is_(None), ProcessedUpdate.claimed_at < old),
                )
            )
        )


def claim_update(update_id: int, now: datetime) -> UpdateClaim:
    """Claim an update for processing, as in progress since `now`.

    A claim older than STALE_CLAIM (its process died mid-update) is taken over. Pass the
    same `now` to `release_update`, so a delivery never releases a claim taken over from it.
    """
    for _ in range(3):  # a claim released between the two steps below: claim it afresh
        try:
            with session_scope() as session:
                session.add(ProcessedUpdate(update_id=update_id, claimed_at=now))
        except IntegrityError:
            pass
        else:
            if update_id % _PRUNE_EVERY == 0:
                _prune(now)
            return UpdateClaim.run
        with session_scope() as session:
            row = session.get(ProcessedUpdate, update_id)
            if row is None:
                continue
            if row.processed_at is not None:
                return UpdateClaim.done
            taken = session.execute(
                update(ProcessedUpdate)
                .where(
                    ProcessedUpdate.update_id == update_id,
                    ProcessedUpdate.processed_at.is_(None),
                    ProcessedUpdate.claimed_at < now - STALE_CLAIM,
                )
                .values(claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return UpdateClaim.run if taken.rowcount else UpdateClaim.busy  # type: ignore[attr-defined]
    return UpdateClaim.busy


def finish_update(update_id: int, now: datetime | None = None) -> None:
    """Mark a claimed update processed: a redelivery from now on is acknowledged, not run."""
    with session_scope() as session:
        session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id)
            .values(processed_at=now or utcnow(), claimed_at=None)
            .execution_options(synchronize_session=False)
        )


def release_update(update_id: int, claimed_at: datetime) -> None:
    """Drop this delivery's claim after processing failed, so a redelivery runs the update."""
    with session_scope() as session:
        session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.update_id == update_id,
                ProcessedUpdate.processed_at.is_(None),
                ProcessedUpdate.claimed_at == claimed_at,
            )
        )
