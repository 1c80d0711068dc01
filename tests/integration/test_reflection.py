"""Whole reflections through the REST webhook, with the real engine and action server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.stack import Stack

pytestmark = pytest.mark.engine

# What a Year 5 child might type, question by question (None: tap the first button).
KS2_ANSWERS: dict[str, str | None] = {
    "answered_by": None,
    "feeling_now": None,
    "going_well": "i got moved up to the top reading group 📚 and art is fun",
    "proud": "my volcano model for science, it actually errupted!!",
    "hard": 'times tables and when people say "your not my real mum"',
    "lessons_enjoy": "art, PE and sience",
    "lessons_hard": "maths bc the numbers get mixed up",
    "friends": "i play with jay at break\nsometimes we fall out but its ok",
    "get_better_at": "my 7 and 8 times tables",
    "when_older": "a vet or a footballer",
    "helps_learn": "when miss explains it again quietly",
    "help_wanted": "Homework help",
    "activities": "swimming on saturdays and minecraft",
    "meeting_attend": "For part of it",
    "meeting_who": "my foster carer Jo and miss Patel",
    "meeting_say_for_me": "that i want to stay at this school",
    "not_for_everyone": "nothing",
}


def _question_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("text")]


def test_a_whole_ks2_reflection_is_saved_word_for_word_and_sent(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=5)
    checks_before = stack.checks
    sender = f"ks2-{uuid.uuid4().hex}"
    bot_turns = 1
    replies = stack.start(sender, code)
    typed: dict[str, str] = {}
    for key, answer in KS2_ANSWERS.items():
        last = replies[-1]
        if answer is None:
            assert last.get("buttons"), f"{key}: expected buttons, got {last}"
            button = last["buttons"][0]
            replies = stack.say(sender, button["payload"])
            typed[key] = button["title"]
        else:
            replies = stack.answer(sender, answer)
            typed[key] = answer
        bot_turns += 1
    texts = [m.get("text", "") for m in replies]
    assert "Here is everything I will send, in your words." in texts
    assert "i got moved up to the top reading group 📚 and art is fun" in "\n".join(texts)
    assert texts[-1] == "Is this right?"

    replies = stack.say(sender, replies[-1]["buttons"][0]["payload"])  # "Yes, send it"
    bot_turns += 1
    assert "sent your answers to your designated teacher" in replies[-1]["text"]
    assert bot_turns <= 30
    # A check is one extra question, never a lost answer; more than two would be noise.
    assert stack.checks - checks_before <= 2

    saved = stack.answers(pep_id)
    expected = {k: v for k, v in typed.items() if k != "answered_by"}
    assert {k: a.text for k, a in saved.items()} == expected
    assert all(a.answered_by == "child" for a in saved.values())
    assert saved["lessons_enjoy"].tags == ["subject:art", "subject:pe", "subject:science"]
    assert stack.pep_status(pep_id) == "submitted"


def test_early_years_is_short_and_carer_led(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=0)
    sender = f"ey-{uuid.uuid4().hex}"
    replies = stack.start(sender, code)
    assert "A grown-up can help" in replies[0]["text"]
    replies = stack.say(sender, "My carer, for me")
    assert replies[-1]["text"] == "How do you feel about nursery or school? Tap a face."
    asked = [replies[-1]["text"]]
    for answer in ["😀 Good", "the sand tray", "saying bye to me", "she plays with Maya",
                   "songs and cuddles", "bikes at the park"]:  # fmt: skip
        replies = stack.say(sender, answer)
        asked.append(replies[-1]["text"])
    assert asked[-1] == "Is this right?"
    assert len(asked) == 7  # six questions after who's answering, then the check
    assert all(a.answered_by == "carer" for a in stack.answers(pep_id).values())


def test_stop_then_come_back_days_later_carries_on(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=8)
    sender = f"stop-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    stack.say(sender, "its ok i guess")
    replies = stack.texts(sender, "stop")
    assert any("Everything you've said so far is saved" in r for r in replies)
    replies = stack.texts(sender, "hello")
    assert replies[0].startswith("Welcome back!")
    assert replies[-1] == "Since your last PEP, what's been going well at school?"
    assert stack.answers(pep_id)["feeling_now"].text == "its ok i guess"


def test_skip_dont_know_help_and_bot_challenge_in_the_middle(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=5)
    sender = f"ctl-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    stack.say(sender, "😐 OK")
    replies = stack.texts(sender, "skip")  # going_well
    assert replies == ["That's fine, we'll skip that one.", "What's something you're proud of?"]
    replies = stack.texts(sender, "idk")
    assert replies[-1] == "What's something you're proud of?"
    assert "big or small" in replies[0]
    replies = stack.texts(sender, "dunno")
    assert replies[-1] == "What's been hard or tricky?"
    replies = stack.texts(sender, "what does that mean")
    assert replies == ["What has not been easy at school?"]
    replies = stack.texts(sender, "are you a real person")
    assert replies == [
        "I'm a computer program, not a person. Your designated teacher at school will "
        "read your answers.",
        "What's been hard or tricky?",
    ]
    stack.say(sender, "spellings")
    saved = stack.answers(pep_id)
    assert saved["going_well"].skipped and saved["going_well"].text is None
    assert saved["proud"].text == "dunno"
    assert saved["hard"].text == "spellings"


def test_change_an_answer_at_the_check_step(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=0)
    sender = f"chg-{uuid.uuid4().hex}"
    stack.start(sender, code)
    for answer in ["Just me", "😀 Good", "painting", "nothing", "Sam", "stories", "lego"]:
        replies = stack.say(sender, answer)
    assert replies[-1]["text"] == "Is this right?"
    replies = stack.say(sender, "/change_answer")
    choice = next(b for b in replies[-1]["buttons"] if b["title"] == "Friends and break times")
    replies = stack.say(sender, choice["payload"])
    assert replies[-1]["text"] == "Who do you like to play with?"
    replies = stack.say(sender, "Sam and Ali")
    assert replies[-1]["text"] == "Is this right?"
    assert stack.answers(pep_id)["friends"].text == "Sam and Ali"


def test_post_16_wording_and_questions(stack: Stack) -> None:
    pep_id, code = stack.new_pep(year_group=12)
    sender = f"p16-{uuid.uuid4().hex}"
    stack.start(sender, code)
    stack.say(sender, "Just me")
    replies = stack.texts(sender, "fine tbh")
    assert replies[-1] == "What's been going well at school or college since your last PEP?"
    asked = []
    answers = [
        "psychology", "my EPQ grade", "getting in on time", "psychology", "maths",
        "me and my mates at lunch", "better than last year", "i dont have a report anymore",
        "statistics", "work with people",
    ]  # fmt: skip
    for answer in answers:
        asked.append(stack.texts(sender, answer)[-1])
    # From Year 9 the bot asks about next steps and careers; post-16 means after Year 13.
    assert asked[-1] == (
        "What would you like to do after Year 13? For example, university, an apprenticeship "
        "or a job."
    )
    assert stack.answers(pep_id)["attendance"].text == "better than last year"
