"""Sending a child's voice back with a question, as staff see it: the dashboard, the voice
page (the question quoted, then the child's reply, escaped) and the downloads."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot import db
from bot.models import Pep, PepStatus
from bot.questions import TEACHER_QUESTION
from bot.services.answers import record_answer, submit_voice
from tests.review.helpers import World, csrf_from, logged_in

QUESTION = "What would help you most in <maths>?"
REPLY = 'a bit more time and sumone to explane <script>alert("x")</script>'


def _sent(world: World) -> None:
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        record_answer(session, pep, "feeling_now", "ok", "child", pep.child.phase)
        submit_voice(session, pep)


def _send_back(c: TestClient, pep_id: int, question: str) -> None:
    csrf = csrf_from(c.get(f"/review/peps/{pep_id}").text)
    response = c.post(f"/review/peps/{pep_id}/return", data={"csrf": csrf, "question": question})
    assert response.status_code == 303, response.text


def _reply(pep_id: int, text: str) -> None:
    """What the bot saves, and then the child sending their voice again."""
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        record_answer(session, pep, TEACHER_QUESTION, text, "child", pep.child.phase)
        submit_voice(session, pep)


def _dashboard_row(c: TestClient) -> str:
    page = c.get("/review").text
    return page.split("Robin</span>", 1)[1].split("</tr>", 1)[0]


def test_a_voice_not_sent_yet_cannot_be_sent_back(world: World) -> None:
    c = logged_in(world.dt_a)
    page = c.get(f"/review/peps/{world.pep_a}").text
    assert "Send back</button>" not in page
    response = c.post(
        f"/review/peps/{world.pep_a}/return", data={"csrf": csrf_from(page), "question": "Hi?"}
    )
    assert response.status_code == 400 and "nothing to send back" in response.text


def test_sent_back_answered_and_sent_again(world: World) -> None:
    _sent(world)
    c = logged_in(world.dt_a)
    _send_back(c, world.pep_a, QUESTION)
    row = _dashboard_row(c)
    assert "Sent back with a question" in row and "New code</button>" in row
    page = c.get(f"/review/peps/{world.pep_a}").text
    assert "The bot will ask Robin this first" in page
    assert "What would help you most in &lt;maths&gt;?" in page
    # Sent back, the child's voice is open again: a new invite may be made for it.
    csrf = csrf_from(page)
    assert c.post(f"/review/peps/{world.pep_a}/invite", data={"csrf": csrf}).status_code == 200

    _reply(world.pep_a, REPLY)
    assert "Sent again after your question" in _dashboard_row(c)
    page = c.get(f"/review/peps/{world.pep_a}").text
    assert "Robin has answered your question</strong> and sent their voice again" in page
    assert "Your question, and Robin's reply" in page
    assert "a bit more time and sumone to explane &lt;script&gt;" in page
    assert "<script>alert" not in page
    assert "Sent again after your question, waiting for your review" in page
    text = c.get(f"/review/peps/{world.pep_a}/export.txt").text
    assert f"My answer to my teacher's question: \u201c{QUESTION}\u201d" in text
    assert REPLY in text
    (exported,) = [
        a
        for a in c.get(f"/review/peps/{world.pep_a}/export.json").json()["answers"]
        if a["question_key"] == TEACHER_QUESTION
    ]
    assert exported["text"] == REPLY and QUESTION in exported["label"]

    # A second question: the first reply is not taken as its answer, and stays readable.
    _send_back(c, world.pep_a, "And in English?")
    page = c.get(f"/review/peps/{world.pep_a}").text
    assert "The bot will ask Robin this first" in page
    assert "Robin's reply to an earlier question" in page
    # The earlier question and the child's reply are kept as a comment: when the child
    # answers the new question, their first reply is still there, word for word.
    assert "\u201cWhat would help you most in &lt;maths&gt;?\u201d Robin replied: " in page

    csrf = csrf_from(page)
    assert c.post(f"/review/peps/{world.pep_a}/approve", data={"csrf": csrf}).status_code == 303
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None and pep.status == PepStatus.submitted
        assert pep.returned_question is None  # not answered: withdrawn
    assert "Reviewed" in _dashboard_row(c)


def test_a_second_reply_keeps_the_first_word_for_word(world: World) -> None:
    _sent(world)
    c = logged_in(world.dt_a)
    _send_back(c, world.pep_a, QUESTION)
    _reply(world.pep_a, REPLY)
    _send_back(c, world.pep_a, "And in English?")
    _reply(world.pep_a, "more reading books pleese")
    page = c.get(f"/review/peps/{world.pep_a}").text
    assert "more reading books pleese" in page
    assert "Robin replied: \u201ca bit more time and sumone to explane &lt;script&gt;" in page
