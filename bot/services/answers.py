"""Saving the child's answers exactly as given, and submitting them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Answer, AnsweredBy, Pep, PepStatus, utcnow
from bot.phases import Phase
from bot.services import ServiceError, record_event

MAX_ANSWER_CHARS = 2000
MAX_QUESTION_KEY_CHARS = 64


class AnswerError(ServiceError):
    pass


class AnswerTooLong(AnswerError):
    def __init__(self, length: int) -> None:
        super().__init__(
            f"That answer is {length} characters long; the most I can keep is "
            f"{MAX_ANSWER_CHARS}. Could you say it more briefly, or split it up?"
        )
        self.length = length


class AlreadySubmitted(AnswerError):
    def __init__(self) -> None:
        super().__init__("These answers have already been sent to your teacher.")


def record_answer(
    session: Session,
    pep: Pep,
    question_key: str,
    text: str | None,
    answered_by: AnsweredBy | str,
    phase: Phase | str,
    skipped: bool = False,
    tags: Iterable[str] = (),
) -> Answer:
    """Insert or replace the answer to `question_key`; `text` is kept verbatim.

    `phase` is the Phase whose question wording was used. A skipped answer
    stores NULL text whatever was passed.
    """
    if pep.status == PepStatus.submitted:
        raise AlreadySubmitted()
    if not question_key or len(question_key) > MAX_QUESTION_KEY_CHARS:
        raise AnswerError(f"question key must be 1-{MAX_QUESTION_KEY_CHARS} characters")
    if skipped:
        text = None
    elif text is None:
        raise AnswerError("an answer needs text unless it is skipped")
    elif len(text) > MAX_ANSWER_CHARS:
        raise AnswerTooLong(len(text))
    elif "\x00" in text:
        # PostgreSQL text cannot hold NUL; refuse rather than alter the answer.
        raise AnswerError("That answer contains a character I can't store.")
    try:
        by = AnsweredBy(answered_by)
        phase_value = Phase(phase).value
    except ValueError as exc:
        raise AnswerError(str(exc)) from None
    tag_list = list(tags)
    if not all(isinstance(tag, str) for tag in tag_list):
        raise AnswerError("tags must be strings")

    answer = session.scalar(
        select(Answer).where(Answer.pep_id == pep.id, Answer.question_key == question_key)
    )
    if answer is None:
        answer = Answer(pep=pep, question_key=question_key)
        session.add(answer)
    answer.text = text
    answer.skipped = skipped
    answer.answered_by = by
    answer.phase = phase_value
    answer.tags = tag_list
    if pep.status == PepStatus.not_started:
        pep.status = PepStatus.in_progress
    session.flush()
    record_event(
        session,
        "child",
        "answer.saved",
        school_id=pep.child.school_id,
        pep_id=pep.id,
        question_key=question_key,
    )
    return answer


def submit_voice(session: Session, pep: Pep, now: datetime | None = None) -> Pep:
    """Mark the child's voice as final. Submitting twice is harmless."""
    if pep.status == PepStatus.submitted:
        return pep
    pep.status = PepStatus.submitted
    pep.submitted_at = now or utcnow()
    session.flush()
    record_event(session, "child", "voice.submitted", school_id=pep.child.school_id, pep_id=pep.id)
    return pep
