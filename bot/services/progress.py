"""Where a child's PEP stands: the questions they are asked, what they said last time, and
how far they have got. The conversation (bot.services.conversation) and the web chat's
progress bar (bot.web.progress) both read it here, so they never disagree.

Read from the store (the answers the conversation saved), not from a chat's slots.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import AnsweredBy, Pep, PepStatus
from bot.questions import (
    FOLLOWED_UP,
    METADATA_KEYS,
    SECTION_TITLES,
    TEACHER_QUESTION,
    Question,
    questions_for,
    sections_for,
)
from bot.services.teacher_question import awaiting_reply

#: How many characters of last time's answer are quoted back to the child.
QUOTE_CHARS = 200


def previous_answers(session: Session, pep: Pep) -> dict[str, str]:
    """The child's words from their most recent earlier PEP, for the questions followed up."""
    earlier = session.scalars(
        select(Pep)
        .where(Pep.child_id == pep.child_id, Pep.id != pep.id, Pep.meeting_date < pep.meeting_date)
        .order_by(Pep.meeting_date.desc())
    ).first()
    if earlier is None:
        return {}
    return {
        a.question_key: a.text[:QUOTE_CHARS]
        for a in earlier.answers
        if a.question_key in FOLLOWED_UP and a.text and not a.skipped
    }


def questions_asked(pep: Pep, previous: Collection[str]) -> list[Question]:
    """The questions this child is asked, in order: their year group's, the follow-ups of
    what they said last time (`previous`: those keys), and the designated teacher's if the
    voice was sent back."""
    return questions_for(pep.child.year_group, previous, returned=pep.returned_at is not None)


@dataclass(frozen=True)
class PepProgress:
    part: int  # 1-based: the section of the first question not yet answered
    parts: int  # how many sections the child is asked
    title: str  # that section's title; "" when everything is answered
    done: bool
    # Who gave the latest answer (the choice is recorded on every answer); None before.
    answered_by: AnsweredBy | None
    submitted: bool


def pep_progress(pep_id: int) -> PepProgress:
    """How far the child has got with the PEP; LookupError for an unknown id."""
    with session_scope() as session:
        pep = session.get(Pep, pep_id)
        if pep is None:
            raise LookupError(pep_id)
        answers = {a.question_key: a for a in pep.answers}
        questions = questions_asked(pep, previous_answers(session, pep))
        sections = sections_for(questions)
        # A metadata question ("who's answering") has no answer row of its own: it is
        # recorded on every answer, so any saved answer means it was answered. A reply to an
        # earlier question sent back does not answer the one sent back now.
        unanswered = [
            q
            for q in questions
            if (q.key not in answers and not (q.key in METADATA_KEYS and answers))
            or (q.key == TEACHER_QUESTION and awaiting_reply(pep))
        ]
        latest = max(answers.values(), key=lambda a: (a.updated_at, a.id), default=None)
        by = latest.answered_by if latest is not None else None
        submitted = pep.status == PepStatus.submitted
        if not unanswered:
            return PepProgress(len(sections), len(sections), "", True, by, submitted)
        section = unanswered[0].section
        part = sections.index(section) + 1
        return PepProgress(part, len(sections), SECTION_TITLES[section], False, by, submitted)
