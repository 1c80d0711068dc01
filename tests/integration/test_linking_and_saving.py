"""Linking and saving end to end: REST webhook -> engine -> action server -> store."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.stack import Stack

QUESTION = "What's been going well at school?"
FIRST_QUESTION = "First, who is answering today?"

pytestmark = pytest.mark.engine


def _start(stack: Stack, code: str) -> tuple[str, list[str]]:
    sender = f"it-{uuid.uuid4().hex}"
    return sender, stack.texts(sender, "/start" + json.dumps({"invite_code": code}))


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


def test_typed_code_in_a_sentence_links_the_chat(stack: Stack) -> None:
    pep_id, code = stack.new_pep()
    sender = f"it-{uuid.uuid4().hex}"
    replies = stack.texts(sender, f"hi my code is {code.lower().replace('-', ' ')}")
    assert replies[-1] == FIRST_QUESTION
    _up_to_going_well(stack, sender)
    stack.texts(sender, "good")
    assert stack.answers(pep_id)["going_well"].text == "good"


def test_unknown_code_gets_a_kind_reply_and_links_nothing(stack: Stack) -> None:
    pep_id, _code = stack.new_pep()
    sender, replies = _start(stack, "ZZZZ-9999")
    assert replies == [
        "I couldn't find that code. Please check it and type it again, "
        "or ask the adult who gave it to you."
    ]
    # Nothing is linked: a typed answer is not saved anywhere; the code is asked for.
    replies = stack.texts(sender, "reading")
    assert "I need your code" in replies[0]
    assert stack.answers(pep_id) == {}


def test_a_used_code_is_refused_in_another_chat(stack: Stack) -> None:
    _pep_id, code = stack.new_pep()
    _start(stack, code)
    _other, replies = _start(stack, code)
    assert replies == [
        "That code is already being used in another chat. Please ask your school for a new one."
    ]


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
