"""What the conversation needs from the store, keyed by the chat's conversation id.

Each call is one short transaction, so an action never holds a session across awaits.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db import session_scope
from bot.models import AnsweredBy
from bot.phases import Phase
from bot.services.answers import record_answer
from bot.services.invites import pep_for_conversation, redeem_invite


class NotLinked(Exception):
    """The conversation has no PEP: the child has not given a valid code yet."""


@dataclass(frozen=True)
class LinkedPep:
    pep_id: int
    phase: Phase


def link_conversation(code: str, conversation_id: str) -> LinkedPep:
    with session_scope() as session:
        pep = redeem_invite(session, code, conversation_id)
        return LinkedPep(pep_id=pep.id, phase=pep.child.phase)


def save_conversation_answer(
    conversation_id: str,
    question_key: str,
    text: str,
    answered_by: AnsweredBy = AnsweredBy.child,
) -> None:
    with session_scope() as session:
        # Submitted PEPs included, so the child hears "already sent" rather than "no code".
        pep = pep_for_conversation(session, conversation_id, include_submitted=True)
        if pep is None:
            raise NotLinked(conversation_id)
        record_answer(
            session,
            pep,
            question_key=question_key,
            text=text,
            answered_by=answered_by,
            phase=pep.child.phase,
        )
