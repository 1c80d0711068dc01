"""What the conversation needs from the store, keyed by the chat's conversation id.

Each call is one short transaction, so an action never holds a session across awaits.
The store, not the chat, is the record: answers are read back from it for the check step,
and a child who comes back finds their answers there.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import Answer, AnsweredBy, Pep, PepStatus, utcnow
from bot.phases import Phase
from bot.questions import (
    BY_KEY,
    SECTION_TITLES,
    TEACHER_QUESTION,
    Section,
)
from bot.services.answerer import answerer_of
from bot.services.answers import (
    AlreadySubmitted,
    AnswerError,
    AnswerTooLong,
    record_answer,
    submit_voice,
)
from bot.services.invites import (
    ConversationLinkedElsewhere,
    InviteError,
    InviteFailure,
    conversation_hashes,
    find_invite,
    pep_for_conversation,
    redeem_invite,
)
from bot.services.progress import previous_answers, questions_asked
from bot.services.tagging import tags_for
from bot.services.teacher_question import answers_current_question, reply_of, shown_to_child
from bot.services.throttle import invite_throttle
from pep_nlp.safeguarding import Finding, default_screen

logger = logging.getLogger(__name__)


class NotLinked(Exception):
    """The conversation has no PEP: the child has not given a valid code yet."""


class StoreUnavailable(Exception):
    """The store could not be read or written just now: the child is told and tries again."""


@contextmanager
def _store() -> Iterator[Session]:
    """A transaction for the conversation; a database failure is StoreUnavailable."""
    try:
        with session_scope() as session:
            yield session
    except SQLAlchemyError as error:
        raise StoreUnavailable(type(error).__name__) from error


@dataclass(frozen=True)
class LinkedPep:
    pep_id: int
    phase: Phase
    year_group: int
    answered: dict[str, str | None]  # question key -> text (None when skipped)
    answered_by: AnsweredBy | None
    previous: dict[str, str]  # last PEP's answers that this one follows up
    # The designated teacher sent the voice back with a question: it is in the plan, and in
    # `answered` only once the child replied to it (bot.services.teacher_question).
    returned: bool = False
    plan: tuple[str, ...] = ()  # the question keys this child is asked, in order


def _linked_pep(session: Session, conversation_id: str) -> Pep:
    pep = pep_for_conversation(session, conversation_id, include_submitted=True)
    if pep is None:
        raise NotLinked(conversation_id)
    return pep


def _answered(pep: Pep) -> list[Answer]:
    """The PEP's answers that count now: a reply to a question the teacher has since replaced
    (or withdrawn) does not answer the question now sent back."""
    reply = reply_of(pep.answers)
    stale = reply is not None and not answers_current_question(pep, reply)
    return [a for a in pep.answers if not (stale and a is reply)]


def _linked(session: Session, pep: Pep) -> LinkedPep:
    latest = max(pep.answers, key=lambda a: a.updated_at, default=None)
    previous = previous_answers(session, pep)
    return LinkedPep(
        pep_id=pep.id,
        phase=pep.child.phase,
        year_group=pep.child.year_group,
        answered={a.question_key: a.text for a in _answered(pep)},
        answered_by=latest.answered_by if latest else None,
        previous=previous,
        returned=pep.returned_at is not None,
        plan=tuple(q.key for q in questions_asked(pep, previous)),
    )


@contextmanager
def _throttled(client: str) -> Iterator[None]:
    """Refuse a client (or everyone) over the limit before looking the code up; count each
    refusal. A code for another PEP in a linked conversation is not a refusal of the code."""
    throttle = invite_throttle()
    if not throttle.allowed(client):
        raise InviteError(InviteFailure.throttled)
    try:
        yield
    except ConversationLinkedElsewhere:
        raise
    except InviteError:
        throttle.refused(client)
        raise


def link_conversation(secret: str, conversation_id: str, *, client: str) -> LinkedPep:
    """Redeem a code or link token for the conversation (the app links; the engine is only
    told to start). `client` is who is trying (an address, a chat), for the throttle."""
    with _throttled(client), session_scope() as session:
        return _linked(session, redeem_invite(session, secret, conversation_id))


def link_invite_conversation(
    secret: str, conversations_for: Callable[[int], list[str]], *, client: str
) -> tuple[LinkedPep, str]:
    """Redeem for a channel whose conversation follows the invite (the web chat).

    `conversations_for(invite_id)` gives the channel's conversation ids for the invite, the
    current key's first: the one the invite is already bound to is kept (a child coming back
    after a key rotation), else the first. Returns the link and the conversation id.
    """
    with _throttled(client), session_scope() as session:
        invite = find_invite(session, secret)
        if invite is None:
            raise InviteError(InviteFailure.unknown)
        candidates = conversations_for(invite.id)
        conversation = next(
            (c for c in candidates if invite.bound_to in conversation_hashes(c)), candidates[0]
        )
        pep = redeem_invite(session, secret, conversation)
        return _linked(session, pep), conversation


class TypedSecret(enum.Enum):
    """What a code-shaped piece of a chat message turned out to be."""

    invite = "invite"  # a real code or link token: keep it out of the engine and the store
    not_invite = "not_invite"  # the child's own words, e.g. "maths4me"
    unchecked = "unchecked"  # the client is throttled: not looked up, kept as words


def typed_secret(candidates: list[str], *, client: str) -> TypedSecret:
    """Whether a message in a linked chat holds an invite code or link token.

    Looking codes up answers a question a guesser would like answered, so it is throttled
    like redeeming: a code-shaped word that is no invite counts as a refused attempt, and
    over the limit nothing is looked up.
    """
    if not candidates:
        return TypedSecret.not_invite
    throttle = invite_throttle()
    if not throttle.allowed(client):
        return TypedSecret.unchecked
    with session_scope() as session:
        if any(find_invite(session, c) is not None for c in candidates):
            return TypedSecret.invite
    throttle.refused(client)
    return TypedSecret.not_invite


def still_linked(conversation_id: str) -> bool:
    """False once the invite that linked the conversation was revoked (a newer invite)."""
    with session_scope() as session:
        return pep_for_conversation(session, conversation_id, include_submitted=True) is not None


def linked_conversation(conversation_id: str) -> LinkedPep | None:
    """The PEP the app linked this conversation to, if it is linked and not yet sent."""
    with _store() as session:
        pep = pep_for_conversation(session, conversation_id)
        return None if pep is None else _linked(session, pep)


def already_sent(conversation_id: str) -> bool:
    """The conversation's PEP has been sent to school (and not sent back since)."""
    with _store() as session:
        pep = pep_for_conversation(session, conversation_id, include_submitted=True)
        return pep is not None and pep.status == PepStatus.submitted


def teacher_question_for(conversation_id: str) -> str | None:
    """The question the designated teacher sent back, as the child is shown it; None if the
    conversation is unlinked or no question is sent back (say it was withdrawn meanwhile)."""
    with _store() as session:
        pep = pep_for_conversation(session, conversation_id)
        if pep is None or pep.returned_question is None:
            return None
        return shown_to_child(pep.returned_question) or None


def reflection_plan(conversation_id: str) -> list[str]:
    """The question keys this child is asked, in order."""
    with _store() as session:
        pep = _linked_pep(session, conversation_id)
        return [q.key for q in questions_asked(pep, previous_answers(session, pep))]


class Saved(enum.Enum):
    """What became of an answer the child gave."""

    saved = "saved"
    disclosure = "disclosure"  # not saved: the words are for the safeguarding lead
    too_long = "too_long"
    already_sent = "already_sent"
    failed = "failed"  # the store refused it, or the chat is not linked


@dataclass(frozen=True)
class AnswerOutcome:
    saved: Saved
    category: str | None = None  # the screen's category, for a disclosure


_screen_lock = threading.Lock()


def _screen(text: str) -> Finding | None:
    # Loading the screen takes seconds: one thread loads it, the others wait for it.
    with _screen_lock:
        screen = default_screen()
    return screen.check(text)


def save_conversation_answer(
    conversation_id: str,
    question_key: str,
    text: str | None,
    answered_by: AnsweredBy | str | None = AnsweredBy.child,
    *,
    skipped: bool = False,
) -> AnswerOutcome:
    """Screen the child's words, then save them (or the skip) for one question.

    The engine screens every message first; this second screen, before anything is saved,
    catches what reaches a question another way (a "no" to the check, "I don't know").
    A finding that needs context was already checked with the child, so it is saved.
    A disclosure is never saved as an answer: the caller passes it on. `answered_by` is the
    "who's answering" answer as given (bot.services.answerer reads it).
    """
    if text is not None and not skipped:
        finding = _screen(text)
        if finding is not None and not finding.ask_first:
            return AnswerOutcome(Saved.disclosure, finding.category)
    try:
        _save(conversation_id, question_key, text, answerer_of(answered_by), skipped=skipped)
    except AnswerTooLong:
        return AnswerOutcome(Saved.too_long)
    except AlreadySubmitted:
        return AnswerOutcome(Saved.already_sent)
    except (StoreUnavailable, NotLinked, AnswerError) as error:
        # Never log the answer itself: only which question and why.
        logger.warning("could not save answer to %s: %s", question_key, type(error).__name__)
        return AnswerOutcome(Saved.failed)
    return AnswerOutcome(Saved.saved)


def _save(
    conversation_id: str,
    question_key: str,
    text: str | None,
    answered_by: AnsweredBy,
    *,
    skipped: bool,
) -> None:
    question = BY_KEY.get(question_key)
    tags = tags_for(text) if question and question.tags and text else []
    with _store() as session:
        pep = _linked_pep(session, conversation_id)
        answer = record_answer(
            session,
            pep,
            question_key=question_key,
            text=text,
            answered_by=answered_by,
            phase=pep.child.phase,
            skipped=skipped,
            tags=tags,
        )
        if question_key == TEACHER_QUESTION:
            # When it was given decides which question it answers: set even when the words
            # are the same as a reply to an earlier question (no change, no automatic update).
            answer.updated_at = utcnow()


@dataclass(frozen=True)
class SummarySection:
    title: str
    lines: list[tuple[str, str | None]]  # (question label, the child's words or None if skipped)


def summary_for(conversation_id: str) -> list[SummarySection]:
    """Everything saved for the PEP, section by section, in the order it was asked."""
    with _store() as session:
        pep = _linked_pep(session, conversation_id)
        saved = {a.question_key: a for a in _answered(pep)}
        sections: dict[Section, SummarySection] = {}
        for question in questions_asked(pep, previous_answers(session, pep)):
            answer = saved.get(question.key)
            if answer is None:
                continue
            section = sections.setdefault(
                question.section, SummarySection(SECTION_TITLES[question.section], [])
            )
            section.lines.append((question.label, None if answer.skipped else answer.text))
        return list(sections.values())


def submit_for_conversation(conversation_id: str) -> date:
    """Send the child's voice to the designated teacher; the meeting date, to tell the child."""
    with _store() as session:
        pep = _linked_pep(session, conversation_id)
        submit_voice(session, pep)
        return pep.meeting_date
