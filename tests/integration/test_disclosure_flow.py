"""Issue 8 through the real engine: a flagged answer never traps the child or floods the DSL,
and a control word inside an answer never throws the answer away."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from bot import db
from bot.models import ConcernMessage, Pep, Role, SafeguardingConcern, StaffUser
from tests.integration.stack import Stack
from tests.integration.test_reflection import KS2_ANSWERS

pytestmark = pytest.mark.engine

STAY_AWAY = "i dont want to go home after school"


def _concerns(stack: Stack, pep_id: int) -> list[SafeguardingConcern]:
    stack.use_store()
    with db.session_scope() as session:
        rows = session.scalars(
            select(SafeguardingConcern).where(SafeguardingConcern.pep_id == pep_id)
        ).all()
        session.expunge_all()
        return list(rows)


def _messages(stack: Stack, concern_id: int) -> list[str]:
    stack.use_store()
    with db.session_scope() as session:
        return list(
            session.scalars(
                select(ConcernMessage.words).where(ConcernMessage.concern_id == concern_id)
            ).all()
        )


def _mail_to(stack: Stack, pep_id: int, settle: float = 3.0) -> int:
    """How many alert emails went to this PEP's school's DSL, once late ones could arrive."""
    stack.use_store()
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        dsl = session.scalar(
            select(StaffUser.email).where(
                StaffUser.school_id == pep.child.school_id, StaffUser.role == Role.dsl
            )
        )
    time.sleep(settle)
    return sum(dsl in m.rcpt_tos for m in stack.mailbox.messages)


def test_the_same_flagged_answer_five_times_ends_at_the_next_question(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=9)
    sender = f"five-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")  # who is answering; next: how they feel about school
    replies = [stack.texts(sender, STAY_AWAY) for _ in range(5)]

    assert "Thank you for telling me" in replies[0][0]
    assert replies[0][-1] == "Would you like to carry on with the questions, or stop for now?"
    assert "already passed that on" in replies[1][0]
    assert "skip it" in " ".join(replies[1])
    assert "go on to the next one" in " ".join(replies[2])
    assert replies[2][-1] == "Since your last PEP, what's been going well at school?"
    assert replies[4][-1] == "What's something you're proud of?"
    assert all("Are you telling me" not in r for turn in replies for r in turn)

    (concern,) = _concerns(stack, pep_id)
    assert _messages(stack, concern.id) == [STAY_AWAY] * 5
    assert _mail_to(stack, pep_id) == 1
    answers = stack.answers(pep_id)
    assert answers["feeling_now"].skipped and answers["going_well"].skipped
    assert all(a.text != STAY_AWAY for a in answers.values())


def test_a_whole_reflection_with_one_disclosure_makes_one_concern_and_one_alert(
    stack: Stack,
) -> None:
    pep_id, code = stack.new_pep(year_group=5)
    sender = f"one-{uuid.uuid4().hex}"
    replies = stack.start(sender, code)
    for key, answer in KS2_ANSWERS.items():
        if key == "friends":  # the disclosure, then carry on and answer the question
            said = stack.texts(sender, "my stepdad hits me when hes angry")
            assert "Thank you for telling me" in said[0]
            replies = stack.say(sender, "/affirm")
        if answer is None:
            replies = stack.say(sender, replies[-1]["buttons"][0]["payload"])
        else:
            replies = stack.answer(sender, answer)
    assert replies[-1]["text"] == "Is this right?"
    replies = stack.say(sender, replies[-1]["buttons"][0]["payload"])
    assert "sent your answers" in replies[-1]["text"]

    (concern,) = _concerns(stack, pep_id)
    assert concern.question_key == "friends" and concern.message_count == 1
    assert _mail_to(stack, pep_id) == 1
    assert stack.answers(pep_id)["friends"].text == KS2_ANSWERS["friends"]


def _answer_until(stack: Stack, sender: str, question: str, limit: int = 30) -> None:
    """Answer every question plainly until the bot asks `question` (its wording)."""
    replies = stack.say(sender, "Just me")
    for _ in range(limit):
        if replies and replies[-1].get("text") == question:
            return
        buttons = replies[-1].get("buttons") if replies else None
        replies = stack.answer(sender, buttons[0]["payload"] if buttons else "fine")
    raise AssertionError(f"never asked {question!r}")


@pytest.mark.parametrize(
    "answer",
    [
        "i want to move schools so im nearer my sister",
        "I'd like to stop having my time-out pass",
        "dont know what job but something with animals",
    ],
)
def test_a_control_word_inside_an_answer_keeps_the_answer(stack: Stack, answer: str) -> None:
    pep_id, code = stack.new_pep(year_group=7)
    sender = f"ctl-{uuid.uuid4().hex}"
    stack.start(sender, code)
    _answer_until(
        stack, sender, "Is there anything you'd like someone to say for you at the meeting?"
    )
    replies = stack.answer(sender, answer)
    assert "skip" not in " ".join(r.get("text", "") for r in replies).lower()
    assert stack.answers(pep_id)["meeting_say_for_me"].text == answer


@pytest.mark.parametrize("control", ["skip", "can we skip this one pls", "next question"])
def test_a_plain_control_phrase_still_works(stack: Stack, control: str) -> None:
    pep_id, code = stack.new_pep(year_group=7)
    sender = f"ctl-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    stack.texts(sender, control)
    assert stack.answers(pep_id)["feeling_now"].skipped


def test_carry_on_typed_after_a_disclosure_goes_back_to_the_question(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=9)
    sender = f"carry-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")  # next: how they feel about school
    first = stack.texts(sender, STAY_AWAY)
    assert first[-1] == "Would you like to carry on with the questions, or stop for now?"
    replies = stack.texts(sender, "cary on")
    assert not any("pass this on" in r or "passed that on" in r for r in replies)
    assert replies[-1].startswith("How do you feel about school right now?")
    stack.answer(sender, "its ok")
    (concern,) = _concerns(stack, pep_id)
    assert _messages(stack, concern.id) == [STAY_AWAY]
    assert stack.answers(pep_id)["feeling_now"].text == "its ok"
