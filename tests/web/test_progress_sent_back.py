"""The web chat's progress bar when the teacher has sent the child's voice back."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot import db
from bot.models import Pep, StaffUser
from bot.questions import TEACHER_QUESTION, questions_for
from bot.services.answers import record_answer, submit_voice
from bot.services.directory import add_staff
from bot.services.review import return_to_child
from bot.web.progress import pep_view
from tests.web.helpers import new_pep


def _answer_everything(session: Session, pep: Pep) -> None:
    for q in questions_for(pep.child.year_group):
        record_answer(session, pep, q.key, "yes", "child", pep.child.phase)


def _send_back(pep_id: int, question: str) -> None:
    with db.session_scope() as session:
        pep = session.get_one(Pep, pep_id)
        teacher = session.query(StaffUser).filter_by(school_id=pep.child.school_id).first()
        if teacher is None:
            school = pep.child.school.name
            teacher = add_staff(session, school, f"dt{pep_id}@example.org", "designated_teacher")
            session.flush()
        return_to_child(session, pep, question, teacher.id)


def _reply(pep_id: int, text: str) -> None:
    with db.session_scope() as session:
        pep = session.get_one(Pep, pep_id)
        record_answer(session, pep, TEACHER_QUESTION, text, "child", pep.child.phase)


def test_a_question_sent_back_is_the_part_still_to_do(committed_db: Engine) -> None:
    pep_id, _code = new_pep(year_group=5)
    with db.session_scope() as session:
        pep = session.get_one(Pep, pep_id)
        _answer_everything(session, pep)
        submit_voice(session, pep)
    assert pep_view(pep_id).progress.done

    _send_back(pep_id, "What would help you most in maths?")
    view = pep_view(pep_id)
    assert not view.progress.done
    assert view.progress.label.startswith("Part 1 of")

    _reply(pep_id, "a bit more time")
    assert pep_view(pep_id).progress.done

    # A second question: the first reply does not answer it.
    with db.session_scope() as session:
        submit_voice(session, session.get_one(Pep, pep_id))
    _send_back(pep_id, "And in English?")
    assert not pep_view(pep_id).progress.done
