"""Linking and saving end to end: REST webhook -> engine -> action server -> store."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from bot.child_texts import REFUSED_MESSAGE
from bot.engine_client import START_MESSAGE
from bot.services.invites import InviteError
from tests.integration.stack import Stack

QUESTION = "What's been going well at school?"
FIRST_QUESTION = "First, who is answering today?"

pytestmark = pytest.mark.engine


def _start(stack: Stack, code: str) -> tuple[str, list[str]]:
    sender = f"it-{uuid.uuid4().hex}"
    return sender, [m.get("text", "") for m in stack.start(sender, code)]


def _up_to_going_well(stack: Stack, sender: str) -> list[str]:
    """Tap through who's answering and how they feel; the bot then asks what's going well."""
    stack.say(sender, "Just me")
    return stack.texts(sender, "😀 Good")


def test_invite_code_starts_the_question_and_the_answer_is_saved_verbatim(stack: Stack) -> None:
    pep_id, code = stack.new_pep()
    sender, replies = _start(stack, code)

    assert any("computer program" in r for r in replies)
    assert replies[-1] == FIRST_QUESTION
    assert _up_to_going_well(stack, sender)[-1] == QUESTION

    answer = 'Art club 🎨 and "maths"!\nMy teacher says I\'m trying hard 💪'
    replies = stack.texts(sender, answer)
    assert replies[-1] == "What's something you're proud of?"

    saved = stack.answers(pep_id)["going_well"]
    assert saved.text == answer
    assert saved.skipped is False
    assert saved.answered_by == "child"


def test_a_code_typed_to_the_engine_links_nothing(stack: Stack) -> None:
    """Only the app redeems codes: one typed to the engine is just words, and no code is
    ever needed by (or kept in) the engine."""
    pep_id, code = stack.new_pep()
    sender = f"it-{uuid.uuid4().hex}"
    replies = stack.texts(sender, f"hi my code is {code.lower().replace('-', ' ')}")
    assert (
        replies[-1].startswith("To start, please type the code")
        or "I need your code" in (replies[-1])
    )
    assert "I need your code" in stack.texts(sender, START_MESSAGE)[0]
    stack.texts(sender, "reading")
    assert stack.answers(pep_id) == {}


def test_a_refused_code_never_reaches_the_engine(stack: Stack) -> None:
    pep_id, _code = stack.new_pep()
    sender = f"it-{uuid.uuid4().hex}"
    with pytest.raises(InviteError) as refused:
        stack.start(sender, "ZZZZ-9999")
    assert refused.value.message == REFUSED_MESSAGE
    # Nothing is linked: a typed answer is not saved anywhere; the code is asked for.
    replies = stack.texts(sender, "reading")
    assert "I need your code" in replies[0]
    assert stack.answers(pep_id) == {}


def test_the_engine_keeps_no_code(stack: Stack) -> None:
    pep_id, code = stack.new_pep()
    sender, _ = _start(stack, code)
    _up_to_going_well(stack, sender)
    stack.texts(sender, "art club")
    assert stack.answers(pep_id)["going_well"].text == "art club"
    tracker_db = stack.work / "tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ?", (sender,)
        ).fetchall()
    assert rows and any("art club" in data for (data,) in rows)
    for variant in (code, code.replace("-", ""), code.lower()):
        assert not any(variant in data for (data,) in rows)


def test_a_used_code_is_refused_in_another_chat(stack: Stack) -> None:
    _pep_id, code = stack.new_pep()
    _start(stack, code)
    with pytest.raises(InviteError) as refused:
        _start(stack, code)
    assert refused.value.message == REFUSED_MESSAGE


def test_two_thousand_characters_are_kept_and_more_are_asked_again(stack: Stack) -> None:
    pep_id, code = stack.new_pep()
    sender, _ = _start(stack, code)
    _up_to_going_well(stack, sender)

    too_long = "I like school. " * 134  # 2,010 characters
    replies = stack.texts(sender, too_long)
    assert any("shorter" in r for r in replies)
    assert replies[-1] == QUESTION
    assert "going_well" not in stack.answers(pep_id)

    exactly = ("I like art 🎨 and football ⚽ and my teacher is nice. " * 40)[:2000]
    stack.texts(sender, exactly)
    assert stack.answers(pep_id)["going_well"].text == exactly
