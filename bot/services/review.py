"""The designated teacher's review of a PEP's child's voice (issue 10).

- The child's words (`answers.text`) are never changed here. Beside each answer the teacher
  may keep their own "for the PEP" wording (`answers.teacher_wording`); every change to it is
  kept in `answer_wording_edits` (who, when, the wording), and the answer's date (when the
  child said it) does not move.
- Comments on a PEP: `pep_comments`.
- Approve (`peps.reviewed_at/by`): only a PEP the child has sent to school. Approving clears
  a question sent back earlier (the latest decision stands).
- Return to the child with a question (`peps.returned_question/at/by`) for the bot to ask
  next time (the engine asking it is a later change: here it is stored). Returning clears an
  approval.

Each is audited with ids only (`pep.wording_changed`, `pep.commented`, `pep.approved`,
`pep.returned`), never the words. `history` lists the wording changes (with the wording,
read from `answer_wording_edits`) and the review actions (from the audit log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import (
    Answer,
    AnswerWordingEdit,
    AuditEvent,
    Pep,
    PepComment,
    PepStatus,
    StaffUser,
    utcnow,
)
from bot.questions import BY_KEY
from bot.services import ServiceError, record_event

# Within the review forms' 16 KiB request limit (bot.web.limits) even when percent-encoded.
WORDING_MAX: Final = 2000
COMMENT_MAX: Final = 2000
QUESTION_MAX: Final = 500

#: Review actions shown in a PEP's history (wording changes come from their own table).
ACTION_LABELS: Final[dict[str, str]] = {
    "pep.commented": "Added a comment",
    "pep.approved": "Approved the child's voice",
    "pep.returned": "Sent back to the child with a question",
}

NOT_SUBMITTED = "Only a child's voice that has been sent to school can be approved."


class ReviewError(ServiceError):
    pass


def _clean(text: str, limit: int, what: str) -> str:
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(cleaned) > limit:
        raise ReviewError(f"The {what} is too long: please keep it under {limit} characters.")
    return cleaned


def _audit(session: Session, pep: Pep, staff_id: int, action: str, **ids: int) -> None:
    record_event(
        session, f"staff:{staff_id}", action, school_id=pep.child.school_id, pep_id=pep.id,
        staff_id=staff_id, child_id=pep.child_id, **ids,
    )  # fmt: skip


def set_teacher_wording(session: Session, answer: Answer, wording: str, staff_id: int) -> bool:
    """Set the teacher's wording beside `answer` (empty: none); False if it did not change.

    The child's text is untouched, and so is the answer's date: only `teacher_wording`
    is written. The change is kept in `answer_wording_edits` and audited.
    """
    cleaned = _clean(wording, WORDING_MAX, "wording") or None
    if cleaned == answer.teacher_wording:
        return False
    # A Core UPDATE of the one column: `updated_at` (when the child said it) keeps its value.
    session.execute(
        update(Answer)
        .where(Answer.id == answer.id)
        .values(teacher_wording=cleaned, updated_at=Answer.updated_at),
        execution_options={"synchronize_session": False},
    )
    session.expire(answer, ["teacher_wording", "updated_at"])
    session.add(AnswerWordingEdit(answer_id=answer.id, staff_id=staff_id, wording=cleaned))
    _audit(session, answer.pep, staff_id, "pep.wording_changed", answer_id=answer.id)
    session.flush()
    return True


def add_comment(session: Session, pep: Pep, text: str, staff_id: int) -> PepComment:
    cleaned = _clean(text, COMMENT_MAX, "comment")
    if not cleaned:
        raise ReviewError("Please write a comment first.")
    comment = PepComment(pep_id=pep.id, staff_id=staff_id, text=cleaned)
    session.add(comment)
    session.flush()
    _audit(session, pep, staff_id, "pep.commented", comment_id=comment.id)
    session.flush()
    return comment


def approve(session: Session, pep: Pep, staff_id: int, now: datetime | None = None) -> None:
    """Approve the child's voice (only once it was sent to school)."""
    if pep.status != PepStatus.submitted:
        raise ReviewError(NOT_SUBMITTED)
    pep.reviewed_at = now or utcnow()
    pep.reviewed_by = staff_id
    pep.returned_question = pep.returned_at = pep.returned_by = None
    _audit(session, pep, staff_id, "pep.approved")
    session.flush()


def return_to_child(
    session: Session, pep: Pep, question: str, staff_id: int, now: datetime | None = None
) -> None:
    """Send the child's voice back with a question for the bot to ask next time."""
    cleaned = _clean(question, QUESTION_MAX, "question")
    if not cleaned:
        raise ReviewError("Please write the question the child will be asked.")
    pep.returned_question = cleaned
    pep.returned_at = now or utcnow()
    pep.returned_by = staff_id
    pep.reviewed_at = pep.reviewed_by = None
    _audit(session, pep, staff_id, "pep.returned")
    session.flush()


def status_label(pep: Pep) -> str:
    """The PEP's state in plain words for staff."""
    if pep.returned_at is not None:
        return "Sent back with a question"
    if pep.reviewed_at is not None:
        return "Approved"
    return {
        PepStatus.not_started: "Not started",
        PepStatus.in_progress: "In progress: the child has not finished yet",
        PepStatus.submitted: "Sent to school, waiting for your review",
    }[pep.status]


@dataclass(frozen=True)
class Comment:
    at: datetime
    by: str  # the staff member's email
    text: str


def comments(session: Session, pep: Pep) -> list[Comment]:
    rows = session.execute(
        select(PepComment.created_at, StaffUser.email, PepComment.text)
        .join(StaffUser, StaffUser.id == PepComment.staff_id)
        .where(PepComment.pep_id == pep.id)
        .order_by(PepComment.created_at, PepComment.id)
    ).all()
    return [Comment(at, by, text) for at, by, text in rows]


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str  # the staff member's email, or "" if the account is gone
    what: str  # "Changed the wording for …", "Approved the child's voice", ...
    wording: str | None = None  # the new wording, for a wording change
    cleared: bool = False  # a wording change that removed the wording


def history(session: Session, pep: Pep) -> list[HistoryEntry]:
    """Wording changes and review actions on `pep`, newest first."""
    entries: list[HistoryEntry] = []
    edits = session.execute(
        select(
            AnswerWordingEdit.created_at, StaffUser.email, Answer.question_key,
            AnswerWordingEdit.wording,
        )
        .join(Answer, Answer.id == AnswerWordingEdit.answer_id)
        .join(StaffUser, StaffUser.id == AnswerWordingEdit.staff_id)
        .where(Answer.pep_id == pep.id)
        .order_by(AnswerWordingEdit.id)
    ).all()  # fmt: skip
    for at, email, key, wording in edits:
        question = BY_KEY.get(key)
        label = question.label if question else key
        entries.append(
            HistoryEntry(at, email, f"Wording for \u201c{label}\u201d", wording, wording is None)
        )
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.pep_id == pep.id, AuditEvent.action.in_(list(ACTION_LABELS)))
        .order_by(AuditEvent.id)
    ).all()
    staff_ids = {e.detail.get("staff_id") for e in events}
    emails = dict(
        session.execute(
            select(StaffUser.id, StaffUser.email).where(
                StaffUser.id.in_([i for i in staff_ids if isinstance(i, int)])
            )
        ).all()
    )
    for event in events:
        staff_id = event.detail.get("staff_id")
        by = emails.get(staff_id, "") if isinstance(staff_id, int) else ""
        entries.append(HistoryEntry(event.at, by, ACTION_LABELS[event.action]))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
