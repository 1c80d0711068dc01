"""The child's voice as a JSON-ready document for the designated teacher."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Answer
from bot.services import record_event
from bot.services.directory import get_pep


def export_child_voice(
    session: Session, pep_id: int, actor: str, *, school_id: int | None = None
) -> dict[str, Any]:
    """Every answer of the PEP, oldest question first; audited as "pep.exported".

    With `school_id`, a PEP of another school raises NotFound.
    `answered_at` is when the current wording was given (a changed answer
    keeps its place in the order but shows the later time).
    """
    pep = get_pep(session, pep_id, school_id=school_id)
    answers = session.scalars(
        select(Answer).where(Answer.pep_id == pep.id).order_by(Answer.created_at, Answer.id)
    ).all()
    record_event(
        session,
        actor,
        "pep.exported",
        school_id=pep.child.school_id,
        pep_id=pep.id,
        answers=len(answers),
    )
    session.flush()
    return {
        "pep_id": pep.id,
        "meeting_date": pep.meeting_date.isoformat(),
        "status": pep.status.value,
        "submitted_at": pep.submitted_at.isoformat() if pep.submitted_at else None,
        "child_first_name": pep.child.first_name,
        "year_group": pep.child.year_group,
        "phase": pep.child.phase.value,
        "answers": [
            {
                "question_key": a.question_key,
                "text": a.text,
                "skipped": a.skipped,
                "answered_by": a.answered_by.value,
                "phase": a.phase,
                "tags": list(a.tags),
                "answered_at": a.updated_at.isoformat(),
            }
            for a in answers
        ],
    }
