"""One-time invites that link a chat conversation to a PEP.

An invite has two secrets: a short code a child can type ("K7QM-4TXP") and a long random
token for links (`/chat/link/<token>`, Telegram deep links), so a link never shows the code.
Either redeems it.

Linking rules (decided here, relied on by the chatbot):
- An invite can be redeemed while unexpired by exactly one conversation.
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
  A PEP the designated teacher sends back with a question is in progress again
  (bot.services.review.return_to_child), so its conversations and invites work again.
- Issuing a new invite revokes the PEP's older ones, redeemed or not: a lost code or a
  lost device stops working, and the conversations they linked are unlinked.
- Every refusal (unknown, expired, revoked, used, already sent) gives a guesser the same
  answer; the reason is kept for the audit log and tests only.
Codes, link tokens and conversation ids are stored only as keyed hashes, matched under every
key in the ring (bot.keys), so a key rotation does not break invites already given out.
"""

from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.child_texts import REFUSED_MESSAGE, THROTTLED_MESSAGE
from bot.models import Invite, Pep, PepStatus, utcnow
from bot.security import keyed_hash, keyed_hashes, new_code, normalise_code
from bot.services import ServiceError, record_event
from bot.settings import get_settings

log = logging.getLogger(__name__)


#: A link token: 32 random bytes, base64url (43 characters).
LINK_TOKEN_BYTES = 32
_MIN_LINK_TOKEN_CHARS = 40


class InviteFailure(enum.StrEnum):
    unknown = "unknown"
    expired = "expired"
    revoked = "revoked"
    used_elsewhere = "used_elsewhere"
    submitted = "submitted"
    throttled = "throttled"


class InviteError(ServiceError):
    def __init__(self, reason: InviteFailure, message: str | None = None) -> None:
        default = THROTTLED_MESSAGE if reason == InviteFailure.throttled else REFUSED_MESSAGE
        super().__init__(message or default)
        self.reason = reason


@dataclass(frozen=True)
class NewInvite:
    """The two secrets of a new invite: shown once, stored only as keyed hashes."""

    invite_id: int
    code: str
    link_token: str
    expires_at: datetime


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


def _code_hashes(code: str) -> list[str]:
    # Prefixes keep the kinds of hashed value in separate domains.
    return keyed_hashes("invite:" + normalise_code(code))


def _link_hashes(token: str) -> list[str]:
    return keyed_hashes("invite-link:" + token)


def conversation_hashes(conversation_id: str) -> list[str]:
    """What `invites.bound_to` may hold for this conversation (one per key in the ring)."""
    return keyed_hashes("conversation:" + conversation_id)


def is_link_token(secret: str) -> bool:
    """Links carry a long token; anything short enough to type is a code."""
    return len(secret.strip()) >= _MIN_LINK_TOKEN_CHARS


def find_invite(session: Session, secret: str) -> Invite | None:
    """The invite a typed code or a link token belongs to, whatever its state."""
    secret = secret.strip()
    if not secret or len(secret) > 64:
        return None
    if is_link_token(secret):
        column, hashes = Invite.link_token_hash, _link_hashes(secret)
    else:
        column, hashes = Invite.code_hash, _code_hashes(secret)
    return session.scalar(select(Invite).where(column.in_(hashes)))


def new_invite(
    session: Session, pep: Pep, now: datetime | None = None, *, actor: str = "system"
) -> NewInvite:
    """Create an invite for `pep`, revoking its older ones; its secrets exist only here."""
    if pep.status == PepStatus.submitted:
        raise ServiceError(f"PEP {pep.id} has already been submitted; no new invite issued")
    now = now or utcnow()
    while True:
        code = new_code()
        if find_invite(session, code) is None:
            break
    link_token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    older = session.scalars(
        select(Invite).where(Invite.pep_id == pep.id, Invite.revoked_at.is_(None))
    ).all()
    for old in older:
        old.revoked_at = now
    invite = Invite(
        pep=pep,
        code_hash=keyed_hash("invite:" + normalise_code(code)),
        link_token_hash=keyed_hash("invite-link:" + link_token),
        expires_at=now + timedelta(days=get_settings().invites.ttl_days),
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
        revoked_older=len(older),
    )
    return NewInvite(invite.id, code, link_token, invite.expires_at)


def issue_invite(
    session: Session, pep: Pep, now: datetime | None = None, *, actor: str = "system"
) -> str:
    """`new_invite`, for callers that need only the code."""
    return new_invite(session, pep, now, actor=actor).code


def _refusal(invite: Invite | None, conversation_id: str, now: datetime) -> InviteFailure | None:
    if invite is None:
        return InviteFailure.unknown
    if invite.revoked_at is not None:
        return InviteFailure.revoked
    if invite.pep.status == PepStatus.submitted:
        return InviteFailure.submitted
    if invite.bound_to is not None:
        if invite.bound_to in conversation_hashes(conversation_id):
            return None
        return InviteFailure.used_elsewhere
    if invite.expires_at <= now:
        return InviteFailure.expired
    return None


def redeem_invite(
    session: Session, secret: str, conversation_id: str, now: datetime | None = None
) -> Pep:
    """Link `conversation_id` to the PEP of the invite whose code or link token is `secret`,
    or raise InviteError."""
    now = now or utcnow()
    invite = find_invite(session, secret)
    refusal = _refusal(invite, conversation_id, now)
    if refusal is not None:
        raise InviteError(refusal)
    assert invite is not None
    pep = invite.pep
    if invite.bound_to is not None:
        return pep
    if bound_pep_ids(session, conversation_id) - {pep.id}:
        raise ConversationLinkedElsewhere()
    invite.bound_to = keyed_hash("conversation:" + conversation_id)
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
    """The PEP a code or link is for, whether or not it can still be redeemed; binds nothing."""
    invite = find_invite(session, code)
    return None if invite is None else invite.pep_id


def bound_pep_ids(session: Session, conversation_id: str) -> set[int]:
    """The PEPs whose live (not revoked) invites this conversation redeemed: one, or none
    (more only in data from before a conversation was held to one PEP)."""
    query = select(Invite.pep_id).where(
        Invite.bound_to.in_(conversation_hashes(conversation_id)), Invite.revoked_at.is_(None)
    )
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
