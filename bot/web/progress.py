"""What the chat page shows about a PEP: which part of the reflection, and who is answering.

Read from the store (the answers the conversation saved), not from the client or the bot's
wording, so it stays right whatever the conversation asks next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from bot.db import session_scope
from bot.models import Answer, AnsweredBy, Pep, PepStatus
from bot.questions import (
    FOLLOWED_UP,
    METADATA_KEYS,
    SECTION_TITLES,
    TEACHER_QUESTION,
    questions_for,
    sections_for,
)
from bot.services.teacher_question import awaiting_reply

ANSWERING_LABELS = {
    AnsweredBy.child: "You",
    AnsweredBy.with_carer: "You and your carer",
    AnsweredBy.carer: "Your carer",
}


@dataclass(frozen=True)
class Progress:
    part: int  # 1-based; equals `parts` when everything is answered
    parts: int
    title: str
    done: bool

    @property
    def label(self) -> str:
        if self.done:
            return f"All {self.parts} parts done"
        return f"Part {self.part} of {self.parts}: {self.title}"


@dataclass(frozen=True)
class PepView:
    progress: Progress
    # Who answered the latest answer (the choice is recorded on every answer); None before.
    answering: str | None
    submitted: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "progress": {**asdict(self.progress), "label": self.progress.label},
            "answering": self.answering,
            "submitted": self.submitted,
        }


def _previous_answer_keys(session: Any, pep: Pep) -> set[str]:
    """Keys the child's last earlier PEP answered, for the follow-up questions.

    The same rule as bot.services.conversation, which decides what the bot asks.
    """
    earlier = session.scalar(
        select(Pep)
        .where(
            Pep.child_id == pep.child_id,
            Pep.id != pep.id,
            Pep.meeting_date < pep.meeting_date,
        )
        .order_by(Pep.meeting_date.desc())
        .limit(1)
    )
    if earlier is None:
        return set()
    return {a.question_key for a in earlier.answers if a.text and a.question_key in FOLLOWED_UP}


def pep_view(pep_id: int) -> PepView:
    with session_scope() as session:
        pep = session.get(Pep, pep_id)
        if pep is None:
            raise LookupError(pep_id)
        answers = {
            a.question_key: a
            for a in session.scalars(select(Answer).where(Answer.pep_id == pep_id))
        }
        questions = questions_for(
            pep.child.year_group,
            _previous_answer_keys(session, pep),
            returned=pep.returned_at is not None,
        )
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
        if unanswered:
            current = sections.index(unanswered[0].section) + 1
            progress = Progress(
                current, len(sections), SECTION_TITLES[unanswered[0].section], False
            )
        else:
            progress = Progress(len(sections), len(sections), "", True)
        latest = max(answers.values(), key=lambda a: (a.updated_at, a.id), default=None)
        answering = ANSWERING_LABELS.get(latest.answered_by) if latest is not None else None
        return PepView(progress, answering, pep.status == PepStatus.submitted)
