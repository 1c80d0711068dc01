"""Recording a possible disclosure of harm so that it is never lost or doubled.

The chatbot calls `report_disclosure_for_conversation` when the safeguarding
screen or the NLU classifier flags a message. The concern is stored (so it survives a mail
outage) as the outbox that the scheduler's alert worker delivers (bot.alerts.delivery).
Neither the words nor any other message text is ever logged or audited.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.alerts.unrecorded import send_unrecorded_notice
from bot.db import session_scope
from bot.models import (
    AlertStatus,
    ConcernMessage,
    ConcernSource,
    Pep,
    SafeguardingConcern,
    utcnow,
)
from bot.security import keyed_hash
from bot.services import record_event
from bot.services.invites import pep_for_conversation
from pep_nlp.contract import CATEGORIES

logger = logging.getLogger(__name__)

# Stored when a caller passes something that is not a category name.
UNRECOGNISED_CATEGORY = "unrecognised"
# Category and question key reach emails and the audit log, so they must look
# like identifiers: that way a message passed in the wrong argument cannot leak.
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,39}")
_QUESTION_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def safe_category(category: str) -> str:
    """`category` if it looks like a category name, else "unrecognised" (logged)."""
    if _SLUG.fullmatch(category):
        return category
    logger.warning("disclosure category replaced: not a category name")
    return UNRECOGNISED_CATEGORY


def conversation_hash(conversation_id: str) -> str:
    # The same value as bot.services.invites stores in Invite.bound_to, so a
    # concern can be matched to the PEP the conversation links to later.
    return keyed_hash("conversation:" + conversation_id)


def dedupe_key_for(conversation_id: str, message_id: str) -> str:
    """The dedupe key for one message of one conversation (a keyed hash)."""
    return keyed_hash(f"disclosure:{conversation_id}\x1f{message_id}")


def report_disclosure(
    session: Session,
    pep: Pep | None,
    *,
    words: str,
    category: str,
    source: ConcernSource | str,
    question_key: str | None = None,
    dedupe_key: str,
    conversation_hash: str | None = None,
    now: datetime | None = None,
) -> tuple[SafeguardingConcern, bool]:
    """Record one flagged message; `(concern, recorded)`, recorded=False if dedupe_key was seen.

    The message joins the conversation's open concern when there is one (repeats and
    follow-ups are one thing said, not new concerns), else opens a new concern.
    `pep` may be None when the conversation has not been linked to a PEP yet.
    A malformed category or question key is replaced, not refused: a
    disclosure must not be dropped over a caller's metadata mistake.
    Flushes but does not commit.
    """
    source = ConcernSource(source)
    now = now or utcnow()
    if not 1 <= len(dedupe_key) <= 64:
        raise ValueError("dedupe_key must be 1-64 characters (use dedupe_key_for)")
    seen = _message_by_dedupe_key(session, dedupe_key)
    if seen is not None:
        return seen.concern, False

    category = safe_category(category)
    if question_key is not None and not _QUESTION_KEY.fullmatch(question_key):
        logger.warning("disclosure recorded without its malformed question key")
        question_key = None
    # PostgreSQL text cannot hold NUL; keep everything else verbatim.
    words = words.replace("\x00", "\ufffd")
    message = ConcernMessage(
        words=words,
        category=category,
        question_key=question_key,
        source=source,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    concern = _open_concern(session, pep, conversation_hash)
    try:
        # A savepoint, so a concurrent duplicate leaves the outer transaction usable.
        with session.begin_nested():
            if concern is None:
                concern = SafeguardingConcern(
                    school_id=pep.child.school_id if pep is not None else None,
                    pep_id=pep.id if pep is not None else None,
                    category=category,
                    words=words,
                    question_key=question_key,
                    source=source,
                    conversation_hash=conversation_hash,
                    dedupe_key=dedupe_key,
                    created_at=now,
                    alert_status=AlertStatus.pending,
                    alert_attempts=0,
                    recipients=[],
                    message_count=1,
                    alerted_message_count=0,
                )
                session.add(concern)
                created = True
            else:
                concern.message_count += 1
                if _more_serious(category, concern.category):
                    concern.category = category
                created = False
            message.concern = concern
            session.add(message)
            session.flush()
    except IntegrityError:
        seen = _message_by_dedupe_key(session, dedupe_key)
        if seen is None:
            raise
        return seen.concern, False
    record_event(
        session,
        "child",
        "concern.recorded" if created else "concern.followed_up",
        school_id=concern.school_id,
        pep_id=concern.pep_id,
        concern_id=concern.id,
        category=category,
    )
    session.flush()
    return concern, True


def _open_concern(
    session: Session, pep: Pep | None, conversation_hash: str | None
) -> SafeguardingConcern | None:
    """The conversation's concern that the DSL has not closed yet, if any."""
    if conversation_hash is None:
        return None
    pep_match = (
        SafeguardingConcern.pep_id.is_(None)
        if pep is None
        else SafeguardingConcern.pep_id == pep.id
    )
    return session.scalar(
        select(SafeguardingConcern)
        .where(
            SafeguardingConcern.conversation_hash == conversation_hash,
            SafeguardingConcern.acknowledged_at.is_(None),
            pep_match,
        )
        .order_by(SafeguardingConcern.id.desc())
        .limit(1)
    )


_SERIOUSNESS = {name: position for position, name in enumerate(CATEGORIES)}


def _more_serious(category: str, than: str) -> bool:
    """Screen categories in CATEGORIES order; the classifier's and unknown ones last."""
    last = len(_SERIOUSNESS)
    return _SERIOUSNESS.get(category, last) < _SERIOUSNESS.get(than, last)


def _message_by_dedupe_key(session: Session, dedupe_key: str) -> ConcernMessage | None:
    return session.scalar(select(ConcernMessage).where(ConcernMessage.dedupe_key == dedupe_key))


def _by_dedupe_key(session: Session, dedupe_key: str) -> SafeguardingConcern | None:
    return session.scalar(
        select(SafeguardingConcern).where(SafeguardingConcern.dedupe_key == dedupe_key)
    )


def report_disclosure_for_conversation(
    conversation_id: str,
    *,
    words: str,
    category: str,
    source: ConcernSource | str,
    question_key: str | None,
    message_id: str | None,
) -> int | None:
    """Record a disclosure in its own transaction, for the DSL alert.

    Returns the concern id, or None if it could not be stored (database down,
    bad arguments); then an ERROR is logged and the fallback contact is
    emailed that a disclosure was lost (without the words): never silently.
    A missing message_id disables de-duplication for that message.
    """
    conv_hash = conversation_hash(conversation_id)
    dedupe_key = dedupe_key_for(conversation_id, message_id or f"no-id:{uuid.uuid4()}")
    try:
        with session_scope() as session:
            pep = pep_for_conversation(session, conversation_id, include_submitted=True)
            concern, _ = report_disclosure(
                session,
                pep,
                words=words,
                category=category,
                source=source,
                question_key=question_key,
                dedupe_key=dedupe_key,
                conversation_hash=conv_hash,
            )
            concern_id = concern.id
    except Exception as exc:  # whatever went wrong, someone must hear of the disclosure
        logger.error("could not store a safeguarding concern: %s", type(exc).__name__)
        # Not in the outbox, so sent now (the actions call this off the event loop).
        send_unrecorded_notice(category=safe_category(category), conversation_ref=conv_hash[:12])
        return None
    # A new concern is pending: the scheduler's delivery worker emails it within seconds; a
    # sent concern's follow-ups go in one update after the quiet hour (reopen_followups).
    return concern_id
