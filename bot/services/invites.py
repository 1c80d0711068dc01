"""One-time invite codes that link a chat conversation to a PEP.

Linking rules (decided here, relied on by the chatbot):
- A code can be redeemed while unexpired by exactly one conversation.
- Redeeming again from that same conversation always succeeds, even after
  expiry: expiry limits how long a code can be *claimed*, not how long a
  child may take to finish once they have started.
- A conversation is bound to exactly one PEP, for good: once it has redeemed a
  code for PEP X, a code for any other PEP is refused (`ConversationLinkedElsewhere`);
  the channel starts a new conversation for it instead. Another code for the same
  PEP X is accepted.
- A conversation stays linked to its PEP until the PEP is submitted;
  after that `pep_for_conversation` returns None (unless asked with
  include_submitted=True) and the child needs a new PEP, invite and conversation.
- Issuing a new invite does not revoke older unexpired ones.
Codes and conversation ids are stored only as keyed hashes.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Invite, Pep, PepStatus, utcnow
from bot.security import keyed_hash, new_code, normalise_code
from bot.services import ServiceError, record_event
from bot.settings import get_settings

log = logging.getLogger(__name__)


class InviteFailure(enum.StrEnum):
    unknown = "unknown"
    expired = "expired"
    used_elsewhere = "used_elsewhere"
    submitted = "submitted"


_MESSAGES = {
    InviteFailure.unknown: "I don't recognise that code. Please check it with your teacher.",
    InviteFailure.expired: "That code has expired. Please ask your teacher for a new one.",
    InviteFailure.used_elsewhere: (
        "That code has already been used in another chat. Please ask your teacher for a new one."
    ),
    InviteFailure.submitted: "Your answers for this PEP have already been sent to your teacher.",
}


class InviteError(ServiceError):
    def __init__(self, reason: InviteFailure, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES[reason])
        self.reason = reason


class ConversationLinkedElsewhere(InviteError):
    """This conversation already belongs to another PEP: a new code needs a new conversation.

    Its reason is `used_elsewhere`, so callers that map reasons to replies keep working.
    """

    def __init__(self) -> None:
        super().__init__(
            InviteFailure.used_elsewhere,
            "This chat is already linked to a different PEP. "
            "Please start a new chat for this code.",
        )


def _code_hash(code: str) -> str:
    # Prefixes keep the two kinds of hashed value in separate domains.
    return keyed_hash("invite:" + normalise_code(code))


def _conversation_hash(conversation_id: str) -> str:
    return keyed_hash("conversation:" + conversation_id)


def issue_invite(
    session: Session, pep: Pep, now: datetime | None = None, *, actor: str = "system"
) -> str:
    """Create an invite for `pep` and return its code; this is the only time it exists."""
    if pep.status == PepStatus.submitted:
        raise ServiceError(f"PEP {pep.id} has already been submitted; no new invite issued")
    now = now or utcnow()
    while True:
        code = new_code()
        code_hash = _code_hash(code)
        if session.scalar(select(Invite.id).where(Invite.code_hash == code_hash)) is None:
            break
    invite = Invite(
        pep=pep,
        code_hash=code_hash,
        expires_at=now + timedelta(days=get_settings().invite_ttl_days),
        created_at=now,
    )
    session.add(invite)
    session.flush()
    record_event(
        session,
        actor,
        "invite.issued",
        school_id=pep.child.school_id,
        pep_id=pep.id,
        invite_id=invite.id,
        expires_at=invite.expires_at.isoformat(),
    )
    return code


def redeem_invite(
    session: Session, code: str, conversation_id: str, now: datetime | None = None
) -> Pep:
    """Link `conversation_id` to the invite's PEP, or raise InviteError."""
    now = now or utcnow()
    invite = session.scalar(select(Invite).where(Invite.code_hash == _code_hash(code)))
    if invite is None:
        raise InviteError(InviteFailure.unknown)
    pep = invite.pep
    if pep.status == PepStatus.submitted:
        raise InviteError(InviteFailure.submitted)
    conversation = _conversation_hash(conversation_id)
    if invite.bound_to is not None:
        if invite.bound_to != conversation:
            raise InviteError(InviteFailure.used_elsewhere)
        return pep
    if invite.expires_at <= now:
        raise InviteError(InviteFailure.expired)
    if bound_pep_ids(session, conversation_id) - {pep.id}:
        raise ConversationLinkedElsewhere()
    invite.bound_to = conversation
    invite.bound_at = now
    session.flush()
    record_event(
        session,
        "child",
        "invite.redeemed",
        school_id=pep.child.school_id,
        pep_id=pep.id,
        invite_id=invite.id,
    )
    return pep


def pep_id_for_code(session: Session, code: str) -> int | None:
    """The PEP a code is for, whether or not it can still be redeemed; binds nothing."""
    return session.scalar(select(Invite.pep_id).where(Invite.code_hash == _code_hash(code)))


def bound_pep_ids(session: Session, conversation_id: str) -> set[int]:
    """The PEPs whose invites this conversation redeemed: one, or none (more only in data
    from before a conversation was held to one PEP)."""
    query = select(Invite.pep_id).where(Invite.bound_to == _conversation_hash(conversation_id))
    return set(session.scalars(query.distinct()))


def pep_for_conversation(
    session: Session, conversation_id: str, *, include_submitted: bool = False
) -> Pep | None:
    """The one PEP this conversation is bound to, if not yet submitted.

    `include_submitted=True` also returns a submitted PEP, so a caller can tell
    "already sent" (record_answer raises AlreadySubmitted) from "never linked".
    Never a guess: a conversation bound to several PEPs (possible only in data from before
    the one-PEP rule) has none, so nothing is saved into the wrong child's PEP.
    """
    pep_ids = bound_pep_ids(session, conversation_id)
    if len(pep_ids) != 1:
        if pep_ids:
            log.warning("a conversation is bound to %d PEPs; treating it as unlinked", len(pep_ids))
        return None
    pep = session.get(Pep, pep_ids.pop())
    if pep is None or (pep.status == PepStatus.submitted and not include_submitted):
        return None
    return pep
