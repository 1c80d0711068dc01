"""The child's voice section of one PEP, as one plain data structure.

Every export (JSON, plain text, PDF, DOCX: bot.services.voice_export) and the teacher's
review pages are laid out from a `VoiceDocument`. It is built from the `answers` table
only: safeguarding concerns and their words live in other tables and are never read
here, so no export can carry them.

Sections and answers come in the order the questions are asked (bot.questions). An
answer whose key is not a question any more (renamed, or made by an older version) is
kept, in an "Other answers" section at the end, in the order it was given. The
`answered_by` choice is recorded on each answer, not exported as an answer of its own.
The child's reply to a question the designated teacher sent back (`teacher_question`) is
labelled with the teacher's question, quoted, so every export shows what it answers; a reply
to an earlier question, since replaced, says so (bot.services.teacher_question).

Building a document is pure: it neither audits nor changes anything. Exporting it is
audited by the caller (bot.services.voice_export.export_voice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Answer, AnsweredBy, Pep
from bot.questions import (
    BY_KEY,
    METADATA_KEYS,
    QUESTIONS,
    SECTION_TITLES,
    TEACHER_QUESTION,
    Section,
)
from bot.services.directory import get_pep
from bot.services.teacher_question import answers_current_question

UK = ZoneInfo("Europe/London")
OTHER_SECTION = "other"
OTHER_SECTION_TITLE = "Other answers"

_QUESTION_ORDER = {q.key: i for i, q in enumerate(QUESTIONS)}


def year_group_name(year_group: int) -> str:
    """How a PEP names a year group: "Nursery", "Reception", "Year 5"."""
    return {-1: "Nursery", 0: "Reception"}.get(year_group, f"Year {year_group}")


def said_by(first_name: str, answered_by: AnsweredBy) -> str:
    """Who gave an answer, in plain words: "Sam", "Sam with a carer", "A carer"."""
    if answered_by == AnsweredBy.child:
        return first_name
    if answered_by == AnsweredBy.with_carer:
        return f"{first_name} with a carer"
    return "A carer"


def uk_date(moment: datetime) -> date:
    """The calendar date in England of an aware UTC time."""
    return moment.astimezone(UK).date()


def long_date(day: date) -> str:
    """ "14 March 2030": the way a PEP writes a date."""
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class VoiceAnswer:
    question_key: str
    label: str  # bot.questions label, or the key for an answer to no current question
    section: str  # a bot.questions.Section value, or OTHER_SECTION
    text: str | None  # the child's words verbatim; None when skipped
    skipped: bool
    answered_by: AnsweredBy
    said_by: str  # "Sam", "Sam with a carer", "A carer"
    teacher_wording: str | None  # the designated teacher's wording for the PEP, if any
    phase: str  # the phase whose wording of the question was used
    tags: tuple[str, ...]
    answered_at: datetime  # when the current wording was given (aware, UTC)
    # For the reply to a question sent back: the teacher's question it answers, or None
    # when it answered an earlier question that was since replaced.
    asked: str | None = None

    @property
    def answered_on(self) -> date:
        """The day (in England) the current wording was given."""
        return uk_date(self.answered_at)


@dataclass(frozen=True)
class VoiceSection:
    key: str
    title: str
    answers: tuple[VoiceAnswer, ...]


@dataclass(frozen=True)
class VoiceDocument:
    pep_id: int
    school_id: int
    child_first_name: str
    year_group: int
    year_group_label: str  # "Year 5"
    phase: str
    meeting_date: date
    status: str
    submitted_at: datetime | None
    sections: tuple[VoiceSection, ...]

    @property
    def submitted_on(self) -> date | None:
        return uk_date(self.submitted_at) if self.submitted_at else None

    @property
    def answers(self) -> tuple[VoiceAnswer, ...]:
        """Every answer, in document order."""
        return tuple(a for s in self.sections for a in s.answers)


def _teacher_wording(answer: Answer) -> str | None:
    # The review pages add a nullable `answers.teacher_wording`; until then there is none.
    wording = getattr(answer, "teacher_wording", None)
    if isinstance(wording, str) and wording.strip():
        return wording
    return None


EARLIER_QUESTION_LABEL = "My answer to an earlier question from my teacher"


def _teacher_question_label(pep: Pep, answer: Answer) -> tuple[str, str | None]:
    """The label of the reply to a question sent back, and the question it answers."""
    if pep.returned_question and answers_current_question(pep, answer):
        question = pep.returned_question
        return f"{BY_KEY[TEACHER_QUESTION].label}: \u201c{question}\u201d", question
    return EARLIER_QUESTION_LABEL, None


def _voice_answer(answer: Answer, first_name: str, pep: Pep) -> VoiceAnswer:
    question = BY_KEY.get(answer.question_key)
    label = question.label if question else answer.question_key
    asked = None
    if answer.question_key == TEACHER_QUESTION:
        label, asked = _teacher_question_label(pep, answer)
    return VoiceAnswer(
        question_key=answer.question_key,
        label=label,
        section=question.section.value if question else OTHER_SECTION,
        text=None if answer.skipped else answer.text,
        skipped=answer.skipped,
        answered_by=answer.answered_by,
        said_by=said_by(first_name, answer.answered_by),
        teacher_wording=_teacher_wording(answer),
        phase=answer.phase,
        tags=tuple(answer.tags or ()),
        answered_at=answer.updated_at,
        asked=asked,
    )


def voice_document_for(pep: Pep, answers: list[Answer]) -> VoiceDocument:
    """Lay out a PEP's answers (in the order given, i.e. created order) as a document."""
    child = pep.child
    voice = [
        _voice_answer(a, child.first_name, pep)
        for a in answers
        if a.question_key not in METADATA_KEYS
    ]
    known = sorted(
        (a for a in voice if a.section != OTHER_SECTION),
        key=lambda a: _QUESTION_ORDER[a.question_key],
    )
    sections: list[VoiceSection] = []
    for section in Section:
        title = SECTION_TITLES[section]
        in_section = tuple(a for a in known if a.section == section.value)
        if in_section:
            sections.append(VoiceSection(section.value, title, in_section))
    other = tuple(a for a in voice if a.section == OTHER_SECTION)
    if other:
        sections.append(VoiceSection(OTHER_SECTION, OTHER_SECTION_TITLE, other))
    return VoiceDocument(
        pep_id=pep.id,
        school_id=child.school_id,
        child_first_name=child.first_name,
        year_group=child.year_group,
        year_group_label=year_group_name(child.year_group),
        phase=child.phase.value,
        meeting_date=pep.meeting_date,
        status=pep.status.value,
        submitted_at=pep.submitted_at,
        sections=tuple(sections),
    )


def build_voice_document(
    session: Session, pep_id: int, *, school_id: int | None = None
) -> VoiceDocument:
    """The child's voice of PEP `pep_id`; with `school_id`, another school's PEP is NotFound.

    Reads the PEP, its child and its answers, nothing else. Not audited: an export
    records itself (bot.services.voice_export.export_voice).
    """
    pep = get_pep(session, pep_id, school_id=school_id)
    answers = list(
        session.scalars(
            select(Answer).where(Answer.pep_id == pep.id).order_by(Answer.created_at, Answer.id)
        )
    )
    return voice_document_for(pep, answers)
