"""A question the designated teacher sends back: the catalogue, the store and the actions.

The child's voice is sent, the teacher sends it back with a question, the child's chat (still
linked) reaches the PEP again, the question is asked first, the reply is saved verbatim, and
a second question is not taken as answered by the first reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.ask import ActionAskTeacherQuestion
from actions.onboarding import ActionLinkInvite
from bot.models import Pep, PepComment, PepStatus, Role, utcnow
from bot.questions import TEACHER_QUESTION, questions_for
from bot.services import review
from bot.services.answers import record_answer, submit_voice
from bot.services.conversation import (
    already_sent,
    linked_conversation,
    reflection_plan,
    save_conversation_answer,
    submit_for_conversation,
    summary_for,
    teacher_question_for,
)
from bot.services.dashboard import STATUS_LABELS, _status
from bot.services.directory import add_staff
from bot.services.teacher_question import SHOWN_MAX, awaiting_reply, shown_to_child
from bot.services.voice_document import EARLIER_QUESTION_LABEL, build_voice_document
from tests.actions.helpers import linked_pep, responses, tracker_for

QUESTION = "What would help you most in maths?"
REPLY = "a bit more time and sumone to explane"


def test_the_question_is_asked_only_when_sent_back_and_first() -> None:
    for year in (-1, 0, 5, 13):
        assert TEACHER_QUESTION not in [q.key for q in questions_for(year)]
        keys = [q.key for q in questions_for(year, returned=True)]
        assert keys[:2] == ["answered_by", TEACHER_QUESTION]


def _sent(engine: Engine, sender: str, year_group: int = 5) -> tuple[int, int]:
    """A PEP linked to `sender` with one answer, sent to school: (pep id, a teacher's id)."""
    pep_id = linked_pep(engine, sender, year_group)
    save_conversation_answer(sender, "feeling_now", "ok")
    submit_for_conversation(sender)
    with Session(engine) as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        staff = add_staff(
            session, pep.child.school.name, f"dt-{sender}@school.example",
            Role.designated_teacher,
        )  # fmt: skip
        session.commit()
        return pep_id, staff.id


def _send_back(engine: Engine, pep_id: int, staff_id: int, question: str = QUESTION) -> None:
    with Session(engine) as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        review.return_to_child(session, pep, question, staff_id)
        session.commit()


@contextmanager
def _pep(engine: Engine, pep_id: int) -> Iterator[Pep]:
    with Session(engine) as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        yield pep


def test_sending_back_reopens_the_voice_for_the_same_chat(committed_db: Engine) -> None:
    pep_id, staff_id = _sent(committed_db, "tq-reopen")
    assert already_sent("tq-reopen") and linked_conversation("tq-reopen") is None
    with _pep(committed_db, pep_id) as pep:
        submitted_at = pep.submitted_at
    _send_back(committed_db, pep_id, staff_id)

    with _pep(committed_db, pep_id) as pep:
        assert pep.status == PepStatus.in_progress
        assert pep.submitted_at == submitted_at  # kept: when it was last sent
        assert review.status_label(pep) == "Sent back with a question"
        assert _status(pep) == "returned"
    assert STATUS_LABELS["returned"] == "Sent back with a question"
    assert not already_sent("tq-reopen")
    linked = linked_conversation("tq-reopen")
    assert linked is not None and linked.returned
    assert TEACHER_QUESTION not in linked.answered and linked.answered["feeling_now"] == "ok"
    assert reflection_plan("tq-reopen")[:2] == ["answered_by", TEACHER_QUESTION]
    assert teacher_question_for("tq-reopen") == QUESTION


def test_the_reply_is_saved_verbatim_and_sent_again(committed_db: Engine) -> None:
    pep_id, staff_id = _sent(committed_db, "tq-reply")
    _send_back(committed_db, pep_id, staff_id)
    save_conversation_answer("tq-reply", TEACHER_QUESTION, REPLY)
    linked = linked_conversation("tq-reply")
    assert linked is not None and linked.answered[TEACHER_QUESTION] == REPLY
    sections = summary_for("tq-reply")
    assert ("My answer to my teacher's question", REPLY) in sections[0].lines
    with _pep(committed_db, pep_id) as pep:
        assert review.question_answered(pep)
        label = review.status_label(pep)
        assert label == "Sent back with a question: answered, not sent again yet"

    submit_for_conversation("tq-reply")
    with _pep(committed_db, pep_id) as pep:
        assert pep.status == PepStatus.submitted
        assert pep.returned_question == QUESTION  # kept until the teacher decides
        assert review.status_label(pep).startswith("Sent again after your question")
        assert _status(pep) == "resent"
    with Session(committed_db) as session:
        doc = build_voice_document(session, pep_id)
    (reply,) = [a for a in doc.answers if a.question_key == TEACHER_QUESTION]
    assert reply.text == REPLY and reply.asked == QUESTION
    assert reply.label == f"My answer to my teacher's question: \u201c{QUESTION}\u201d"


def test_a_second_question_is_not_answered_by_the_first_reply(committed_db: Engine) -> None:
    pep_id, staff_id = _sent(committed_db, "tq-twice")
    _send_back(committed_db, pep_id, staff_id)
    save_conversation_answer("tq-twice", TEACHER_QUESTION, REPLY)
    submit_for_conversation("tq-twice")
    _send_back(committed_db, pep_id, staff_id, "And in English?")

    with _pep(committed_db, pep_id) as pep:
        assert awaiting_reply(pep) and pep.status == PepStatus.in_progress
    linked = linked_conversation("tq-twice")
    assert linked is not None and TEACHER_QUESTION not in linked.answered
    assert teacher_question_for("tq-twice") == "And in English?"
    # The earlier question and its reply stay readable for staff.
    with Session(committed_db) as session:
        (kept,) = session.scalars(select(PepComment.text).where(PepComment.pep_id == pep_id))
        doc = build_voice_document(session, pep_id)
    assert QUESTION in kept and f"replied: \u201c{REPLY}\u201d" in kept
    (earlier,) = [a for a in doc.answers if a.question_key == TEACHER_QUESTION]
    assert earlier.text == REPLY and earlier.asked is None
    assert earlier.label == EARLIER_QUESTION_LABEL
    assert summary_for("tq-twice")[0].lines == [("How I feel about school now", "ok")]

    # The same words again are a reply to the new question: when they were given counts.
    save_conversation_answer("tq-twice", TEACHER_QUESTION, REPLY)
    with _pep(committed_db, pep_id) as pep:
        assert not awaiting_reply(pep)


def test_only_a_sent_voice_can_be_sent_back_and_approving_withdraws_it(
    committed_db: Engine,
) -> None:
    pep_id = linked_pep(committed_db, "tq-rules")
    with Session(committed_db) as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        staff = add_staff(session, pep.child.school.name, "dt@tq.example", Role.dsl)
        session.flush()
        try:
            review.return_to_child(session, pep, QUESTION, staff.id)
        except review.ReviewError as refusal:
            assert refusal.message == review.NOT_SENT_YET
        else:
            raise AssertionError("an unsent voice was sent back")
        submit_voice(session, pep)
        review.return_to_child(session, pep, QUESTION, staff.id)
        # The teacher changes their mind before the child answers: approved as sent.
        review.approve(session, pep, staff.id)
        assert pep.status == PepStatus.submitted and pep.reviewed_at is not None
        assert pep.returned_question is None and pep.returned_at is None
        assert review.status_label(pep) == "Approved"
        session.commit()
    assert already_sent("tq-rules")


def test_an_answered_question_stays_with_its_reply_when_approved(committed_db: Engine) -> None:
    pep_id, staff_id = _sent(committed_db, "tq-approve")
    _send_back(committed_db, pep_id, staff_id)
    save_conversation_answer("tq-approve", TEACHER_QUESTION, REPLY)
    submit_for_conversation("tq-approve")
    with Session(committed_db) as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        review.approve(session, pep, staff_id)
        session.commit()
    with _pep(committed_db, pep_id) as pep:
        assert pep.returned_question == QUESTION and review.status_label(pep) == "Approved"
        assert _status(pep) == "reviewed"
    with Session(committed_db) as session:
        doc = build_voice_document(session, pep_id)
    (reply,) = [a for a in doc.answers if a.question_key == TEACHER_QUESTION]
    assert reply.asked == QUESTION


def test_what_the_child_is_shown_of_the_question() -> None:
    assert shown_to_child(" Why?\x00\x1b[31m\u202e \n ") == "Why?[31m"
    assert shown_to_child("Line one\nline two") == "Line one\nline two"
    long = shown_to_child("a" * 2000)
    assert len(long) == SHOWN_MAX and long.endswith("\u2026")


async def _link(sender: str, text: str, **kwargs: object) -> tuple[list[object], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ActionLinkInvite().run(dispatcher, tracker_for(sender, text, **kwargs), {})
    return list(events), responses(dispatcher)


async def test_hello_after_sending_says_sent_until_it_is_sent_back(committed_db: Engine) -> None:
    pep_id, staff_id = _sent(committed_db, "tq-hello")
    old_slots = {"pep_linked": True, "submitted": True, TEACHER_QUESTION: "an old reply"}
    events, said = await _link("tq-hello", "hi", intent="greet", slots=old_slots)
    assert said == ["utter_already_sent"]
    assert events == [SlotSet("pep_linked", False), SlotSet("submitted", True)]

    _send_back(committed_db, pep_id, staff_id)
    events, said = await _link("tq-hello", "hi", intent="greet", slots=old_slots)
    assert said == ["utter_welcome_back"]
    assert SlotSet("pep_linked", True) in events and SlotSet("submitted", False) in events
    assert SlotSet(TEACHER_QUESTION, None) in events  # the tracker's old reply is not an answer
    plan = next(e["value"] for e in events if e["name"] == "plan")  # type: ignore[index]
    assert plan[:2] == ["answered_by", TEACHER_QUESTION]

    dispatcher = CollectingDispatcher()
    await ActionAskTeacherQuestion().run(dispatcher, tracker_for("tq-hello", "hi"), {})
    assert responses(dispatcher) == ["utter_ask_teacher_question", f"\u201c{QUESTION}\u201d"]
    dispatcher = CollectingDispatcher()
    after_help = tracker_for("tq-hello", "what", previous_action="action_help")
    await ActionAskTeacherQuestion().run(dispatcher, after_help, {})
    assert responses(dispatcher) == [f"\u201c{QUESTION}\u201d"]


async def test_a_question_withdrawn_while_the_chat_is_open(committed_db: Engine) -> None:
    pep_id, staff_id = _sent(committed_db, "tq-gone")
    _send_back(committed_db, pep_id, staff_id)
    with Session(committed_db) as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        # Not sent again, but a question no longer stored (say, erased): still kind.
        pep.returned_question = None
        pep.returned_at = utcnow() - timedelta(minutes=1)
        record_answer(session, pep, "going_well", "art", "child", pep.child.phase)
        session.commit()
    dispatcher = CollectingDispatcher()
    await ActionAskTeacherQuestion().run(dispatcher, tracker_for("tq-gone", "hi"), {})
    assert responses(dispatcher)[-1] == "Is there anything else you'd like to tell your teacher?"
