"""Skip, "I don't know", help, pause and resume, change an answer, check and send."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.ask import ASK_ACTIONS
from actions.check import ActionAfterReflection, ActionSubmitVoice
from actions.control import (
    ActionChangeAnswer,
    ActionDontKnow,
    ActionHelp,
    ActionPause,
    ActionResume,
    ActionSkipQuestion,
)
from bot.models import Answer, Pep, PepStatus
from bot.questions import questions_for
from bot.services.conversation import save_conversation_answer
from tests.actions.helpers import DOMAIN, linked_pep, tracker_for

PLAN = [q.key for q in questions_for(5)]


async def _run(
    action: Action, sender: str, text: str = "", **kwargs: Any
) -> tuple[list[Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    kwargs.setdefault("slots", {})
    kwargs["slots"].setdefault("plan", PLAN)
    events = await action.run(dispatcher, tracker_for(sender, text, **kwargs), DOMAIN)
    return list(events), dispatcher.messages


def _answers(engine: Engine, pep_id: int) -> dict[str, Answer]:
    with Session(engine) as session:
        rows = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).all()
        return {a.question_key: a for a in rows}


async def test_skip_is_recorded_as_skipped_never_as_text(committed_db: Engine) -> None:
    pep_id = linked_pep(committed_db, "c-1")
    events, said = await _run(
        ActionSkipQuestion(), "c-1", "id rather not say", intent="skip",
        slots={"requested_slot": "hard"}, active_loop="reflection_form",
    )  # fmt: skip
    assert events == [SlotSet("hard", "__skipped__")]
    assert [m["response"] for m in said] == ["utter_skipped"]
    saved = _answers(committed_db, pep_id)["hard"]
    assert saved.skipped is True and saved.text is None


async def test_dont_know_gets_one_example_then_is_kept_in_their_words(
    committed_db: Engine,
) -> None:
    pep_id = linked_pep(committed_db, "c-2")
    loop = {"active_loop": "reflection_form", "intent": "dont_know"}
    events, said = await _run(
        ActionDontKnow(), "c-2", "idk", slots={"requested_slot": "proud"}, **loop
    )
    assert events == [SlotSet("example_given_for", "proud")]
    assert [m["response"] for m in said] == ["utter_example_proud"]
    assert _answers(committed_db, pep_id) == {}

    events, said = await _run(
        ActionDontKnow(), "c-2", "dunno tbh",
        slots={"requested_slot": "proud", "example_given_for": "proud"}, **loop,
    )  # fmt: skip
    assert events == [SlotSet("proud", "dunno tbh")]
    assert [m["response"] for m in said] == ["utter_dont_know_accepted"]
    assert _answers(committed_db, pep_id)["proud"].text == "dunno tbh"


async def test_not_sure_yet_is_a_choice_for_the_meeting_question(committed_db: Engine) -> None:
    pep_id = linked_pep(committed_db, "c-3")
    events, _ = await _run(
        ActionDontKnow(), "c-3", "Not sure yet", intent="dont_know",
        slots={"requested_slot": "meeting_attend"}, active_loop="reflection_form",
    )  # fmt: skip
    assert events == [SlotSet("meeting_attend", "Not sure yet")]
    assert _answers(committed_db, pep_id)["meeting_attend"].text == "Not sure yet"


async def test_help_rewords_the_question_and_explains_a_pep_when_asked() -> None:
    _, said = await _run(
        ActionHelp(), "c-4", "i dont get it", intent="help",
        slots={"requested_slot": "hard"}, active_loop="reflection_form",
    )  # fmt: skip
    assert [m["response"] for m in said] == ["utter_simpler_hard"]
    _, said = await _run(
        ActionHelp(), "c-4", "whats a pep", intent="help",
        slots={"requested_slot": "hard"}, active_loop="reflection_form",
    )  # fmt: skip
    assert [m["response"] for m in said] == ["utter_what_is_pep", "utter_simpler_hard"]


async def test_pause_and_resume() -> None:
    events, said = await _run(ActionPause(), "c-5", "stop", slots={"pep_linked": True})
    assert events == [SlotSet("paused", True)]
    assert [m["response"] for m in said] == ["utter_paused"]
    events, said = await _run(ActionResume(), "c-5", "hi", slots={"paused": True})
    assert SlotSet("paused", False) in events
    assert [m["response"] for m in said] == ["utter_welcome_back"]


async def test_change_offers_the_answered_questions_then_asks_the_chosen_one_again() -> None:
    slots = {"answered_by": "child", "feeling_now": "ok", "going_well": "__skipped__"}
    events, said = await _run(ActionChangeAnswer(), "c-6", "go back", slots=dict(slots))
    assert events == [SlotSet("change_ready", False)]
    buttons = said[0]["buttons"]
    assert [b["title"] for b in buttons] == [
        "Who answered", "How I feel about school now", "What's been going well"
    ]  # fmt: skip
    assert buttons[2]["payload"] == '/change_answer{"question_key": "going_well"}'

    events, _ = await _run(
        ActionChangeAnswer(), "c-6", buttons[2]["payload"], intent="change_answer",
        entities=[{"entity": "question_key", "value": "going_well"}], slots=dict(slots),
    )  # fmt: skip
    assert SlotSet("going_well", None) in events
    assert SlotSet("change_ready", True) in events


async def test_check_shows_everything_in_their_words_then_sends(committed_db: Engine) -> None:
    pep_id = linked_pep(committed_db, "c-7")
    save_conversation_answer("c-7", "going_well", "art club 🎨")
    save_conversation_answer("c-7", "hard", None, skipped=True)
    save_conversation_answer("c-7", "help_wanted", "Homework help")
    events, said = await _run(ActionAfterReflection(), "c-7")
    assert events == [SlotSet("checking", True)]
    texts = [m["text"] for m in said if m["text"]]
    assert (
        texts[0] == "LOOKING BACK\n• What's been going well: art club 🎨\n"
        "• What's been hard or tricky: (you skipped this)"
    )
    assert texts[1] == "HELP YOU'D LIKE\n• Help I'd like: Homework help"
    assert said[-1]["response"] == "utter_ask_is_this_right"

    events, said = await _run(ActionSubmitVoice(), "c-7", "/affirm", intent="affirm")
    assert SlotSet("submitted", True) in events
    assert said[0]["response"] == "utter_sent"
    assert said[0]["meeting_day"] == "Friday 1 February"
    with Session(committed_db) as session:
        assert session.get(Pep, pep_id).status == PepStatus.submitted  # type: ignore[union-attr]


async def test_paused_form_end_shows_no_summary() -> None:
    events, said = await _run(ActionAfterReflection(), "c-8", slots={"paused": True})
    assert events == [] and responses_of(said) == []


def responses_of(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages]


async def test_the_question_is_not_repeated_right_after_help() -> None:
    ask = ASK_ACTIONS["hard"]()
    assert ask.name() == "action_ask_hard"
    _, said = await _run(ask, "c-9", "help", previous_action="action_help")
    assert said == []
    _, said = await _run(ask, "c-9", "ok", previous_action="action_extract_slots")
    assert [m["response"] for m in said] == ["utter_ask_hard"]
