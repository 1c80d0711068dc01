"""A child's voice sent back with a question, end to end through the real engine.

The child sends their voice; the designated teacher sends it back with "What would help you
most in maths?"; the child comes back in the same chat (whose tracker says it was sent), the
bot asks the teacher's question first, the reply is saved verbatim, and the child sends it
again. Saying the same thing over and over never makes the bot go round in circles.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot import db
from bot.models import Pep, StaffUser
from bot.questions import METADATA_KEYS, TEACHER_QUESTION, questions_for
from bot.services import review
from bot.services.answers import record_answer
from bot.services.invites import issue_invite
from tests.integration.stack import Stack

pytestmark = pytest.mark.engine

QUESTION = "What would help you most in maths?"
REPLY = "a bit more time and sumone to explane"
ASKED = "Your teacher read your answers. They'd like to ask you something:"
SENT = "sent your answers to your designated teacher"
ALREADY_SENT = (
    "Your answers have been sent to your designated teacher. Thank you! If you want to add "
    "anything, you can tell them or your carer."
)
IS_THIS_RIGHT = "Is this right?"
CHECK_TYPED = (
    'To add that, tap "Change an answer" and choose the answer. If everything is right, '
    'tap "Yes, send it".'
)


def _answered_and_sent(stack: Stack, year_group: int = 5) -> tuple[int, str]:
    """A child who answered everything (in the store) and sent it in their chat."""
    pep_id, code = stack.new_pep(year_group)
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        for question in questions_for(year_group):
            if question.key not in METADATA_KEYS:  # who answered is kept on every answer
                text = f"my words for {question.key}"
                record_answer(session, pep, question.key, text, "child", pep.child.phase)
    sender = f"tq-{uuid.uuid4().hex}"
    replies = [m.get("text", "") for m in stack.start(sender, code)]
    assert replies[-1] == IS_THIS_RIGHT, replies
    assert SENT in stack.texts(sender, "/affirm")[-1]
    assert stack.pep_status(pep_id) == "submitted"
    return pep_id, sender


def _send_back(stack: Stack, pep_id: int, question: str = QUESTION) -> None:
    stack.use_store()
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        teacher = session.scalars(
            select(StaffUser).where(StaffUser.school_id == pep.child.school_id)
        ).first()
        assert teacher is not None
        review.return_to_child(session, pep, question, teacher.id)


def test_the_old_chat_asks_the_teachers_question_and_sends_again(stack: Stack) -> None:
    pep_id, sender = _answered_and_sent(stack)
    # Before anything is sent back, the chat only says it was sent.
    assert stack.texts(sender, "hi") == [ALREADY_SENT]

    _send_back(stack, pep_id)
    replies = stack.texts(sender, "hi")
    assert replies[0].startswith("Welcome back!")
    assert replies[-2:] == [ASKED, f"\u201c{QUESTION}\u201d"]

    replies = [m.get("text", "") for m in stack.answer(sender, REPLY)]
    assert replies[-1] == IS_THIS_RIGHT
    assert f"My answer to my teacher's question: {REPLY}" in "\n".join(replies)
    assert stack.answers(pep_id)[TEACHER_QUESTION].text == REPLY
    assert stack.pep_status(pep_id) == "in_progress"

    assert SENT in stack.texts(sender, "/affirm")[-1]
    assert stack.pep_status(pep_id) == "submitted"
    saved = stack.answers(pep_id)
    assert saved[TEACHER_QUESTION].text == REPLY and not saved[TEACHER_QUESTION].skipped
    assert saved["going_well"].text == "my words for going_well"  # the rest unchanged


def test_a_new_invite_reaches_the_question_too(stack: Stack) -> None:
    pep_id, _ = _answered_and_sent(stack, year_group=0)
    _send_back(stack, pep_id, "What do you like best at nursery?")
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        code = issue_invite(session, pep)  # the teacher's "New code", older ones revoked
    replies = [m.get("text", "") for m in stack.start(f"tq-new-{uuid.uuid4().hex}", code)]
    assert replies[-2:] == [
        "Your teacher read your answers. They'd like to ask you something. "
        "A grown-up can read it to you:",
        "\u201cWhat do you like best at nursery?\u201d",
    ]


def test_the_same_reply_five_times_never_loops(stack: Stack) -> None:
    pep_id, sender = _answered_and_sent(stack)
    _send_back(stack, pep_id)
    # Straight from "sent" (the tracker still says so) to the teacher's question.
    assert stack.texts(sender, "hi")[-1] == f"\u201c{QUESTION}\u201d"
    said = [[m.get("text", "") for m in stack.answer(sender, REPLY)] for _ in range(5)]
    assert said[0][-1] == IS_THIS_RIGHT
    # Saved once; the same words again at the check step get the two choices, never the
    # question again and never a loop.
    assert said[1:] == [[CHECK_TYPED]] * 4, said
    assert stack.answers(pep_id)[TEACHER_QUESTION].text == REPLY

    assert SENT in stack.texts(sender, "/affirm")[-1]
    assert stack.pep_status(pep_id) == "submitted"
    for _ in range(5):  # and once sent, the same words are only told it was sent
        assert stack.texts(sender, REPLY) == [ALREADY_SENT]
    assert stack.answers(pep_id)[TEACHER_QUESTION].text == REPLY


def test_yes_no_skip_and_dunno_after_sending_are_told_it_was_sent(stack: Stack) -> None:
    """After sending, a child's "yes", "no", "skip" or "dunno" is no answer to anything: each
    is told the answers were sent (never "Sorry, I didn't understand"); once the teacher sends
    it back, a "yes" leads to the teacher's question."""
    pep_id, sender = _answered_and_sent(stack)
    for said in ("yes", "yes", "no", "skip", "dunno", "ok"):
        assert stack.texts(sender, said) == [ALREADY_SENT], said
    assert stack.pep_status(pep_id) == "submitted"

    _send_back(stack, pep_id)
    assert stack.texts(sender, "yes")[-1] == f"\u201c{QUESTION}\u201d"
