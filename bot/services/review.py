"""The designated teacher's review of a PEP's child's voice (issue 10).

- The child's words (`answers.text`) are never changed here. Beside each answer the teacher
  may keep their own "for the PEP" wording (`answers.teacher_wording`); every change to it is
  kept in `answer_wording_edits` (who, when, the wording), and the answer's date (when the
  child said it) does not move.
- Comments on a PEP: `pep_comments`.
- Approve (`peps.reviewed_at/by`): only a PEP the child has sent to school, or one sent back
  with a question (the teacher changed their mind: the voice is as the child sent it, and
  counts as sent again). The latest decision stands: a question the child has not answered is
  withdrawn; one they answered is kept, so the reply is still shown with its question.
- Return to the child with a question (`peps.returned_question/at/by`): only a PEP the child
  has sent (or one already sent back: the question is replaced). It re-opens the child's
  voice (status back to in progress; `submitted_at` is kept as when it was last sent), so the
  child's chat (still linked: bot.services.invites) or a new invite reaches it, and the bot
  asks the question first (bot.questions `teacher_question`, bot.services.teacher_question).
  The child's reply is an answer like any other; sending again sets the status to submitted.
  Returning clears an approval. A replaced question that the child had answered is kept as
  a comment, so the earlier question and the reply to it stay readable.

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
from bot.questions import BY_KEY, METADATA_KEYS
from bot.services import ServiceError, record_event
from bot.services.scope import OutOfScope
from bot.services.teacher_question import answers_current_question, awaiting_reply, reply_of
from bot.services.voice_document import long_date, uk_date

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
NOT_SENT_YET = (
    "The child has not sent their voice to school yet, so there is nothing to send back. "
    "Add a comment instead, or wait until they have sent it."
)


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


def answer_ids(session: Session, pep: Pep) -> dict[str, int]:
    """Each question key the PEP has an answer for, and that answer's id."""
    rows = session.execute(select(Answer.question_key, Answer.id).where(Answer.pep_id == pep.id))
    return {key: answer_id for key, answer_id in rows}


def editable_answer(session: Session, pep: Pep, answer_id: int) -> Answer:
    """One of the PEP's answers to a question (not its metadata), else OutOfScope."""
    answer = session.scalar(
        select(Answer).where(
            Answer.id == answer_id,
            Answer.pep_id == pep.id,
            Answer.question_key.not_in(METADATA_KEYS),
        )
    )
    if answer is None:
        raise OutOfScope("answer", answer_id)
    return answer


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


def can_decide(pep: Pep) -> bool:
    """Whether the PEP may be approved or sent back: the child sent it, or it is sent back."""
    return pep.status == PepStatus.submitted or pep.returned_at is not None


def approve(session: Session, pep: Pep, staff_id: int, now: datetime | None = None) -> None:
    """Approve the child's voice (once it was sent to school, or while it is sent back)."""
    if not can_decide(pep):
        raise ReviewError(NOT_SUBMITTED)
    if awaiting_reply(pep):  # withdrawn: the child is not asked it any more
        pep.returned_question = pep.returned_at = pep.returned_by = None
    # Sent back and not sent again: approved as the child sent it (their chat closes).
    pep.status = PepStatus.submitted
    pep.reviewed_at = now or utcnow()
    pep.reviewed_by = staff_id
    _audit(session, pep, staff_id, "pep.approved")
    session.flush()


def _keep_answered_question(session: Session, pep: Pep, staff_id: int) -> None:
    """Before a question is replaced: if the child answered it, keep the question and the
    child's reply, verbatim, as a comment. The reply's answer row is overwritten when they
    answer the new question, and a child's words are never lost."""
    if pep.returned_question is None or pep.returned_at is None:
        return
    reply = reply_of(pep.answers)
    if reply is None or not answers_current_question(pep, reply):
        return
    sent = long_date(uk_date(pep.returned_at))
    said = "skipped it" if reply.text is None else f"replied: \u201c{reply.text}\u201d"
    text = f"Sent back on {sent}: \u201c{pep.returned_question}\u201d {pep.child.first_name} {said}"
    session.add(PepComment(pep_id=pep.id, staff_id=staff_id, text=text))


def return_to_child(
    session: Session, pep: Pep, question: str, staff_id: int, now: datetime | None = None
) -> None:
    """Send the child's voice back with a question: the bot asks it next time they talk."""
    cleaned = _clean(question, QUESTION_MAX, "question")
    if not cleaned:
        raise ReviewError("Please write the question the child will be asked.")
    if not can_decide(pep):
        raise ReviewError(NOT_SENT_YET)
    _keep_answered_question(session, pep, staff_id)
    pep.returned_question = cleaned
    pep.returned_at = now or utcnow()
    pep.returned_by = staff_id
    pep.reviewed_at = pep.reviewed_by = None
    pep.status = PepStatus.in_progress  # re-opened: the child's chat and invites reach it again
    _audit(session, pep, staff_id, "pep.returned")
    session.flush()


def question_answered(pep: Pep) -> bool:
    """The child has answered (or chosen to skip) the question now sent back."""
    return pep.returned_at is not None and not awaiting_reply(pep)


def status_label(pep: Pep) -> str:
    """The PEP's state in plain words for staff."""
    if pep.reviewed_at is not None:
        return "Approved"
    if pep.returned_at is not None:
        if pep.status == PepStatus.submitted:
            return "Sent again after your question, waiting for your review"
        if question_answered(pep):
            return "Sent back with a question: answered, not sent again yet"
        return "Sent back with a question"
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
