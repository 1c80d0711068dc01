"""Disclosures: the screen and a sure classifier alert at once; an unsure classifier asks."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from actions.safeguarding import ActionHandleDisclosure, ActionNotADisclosure
from bot.models import Answer, SafeguardingConcern
from tests.actions.helpers import DOMAIN, linked_pep, tracker_for


async def _run(
    action: Action, sender: str, text: str, **kwargs: Any
) -> tuple[list[Any], list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(sender, text, intent="safeguarding_concern", **kwargs)
    tracker.latest_message["intent"]["confidence"] = kwargs.pop("confidence", 1.0)
    events = await action.run(dispatcher, tracker, DOMAIN)
    return list(events), [m["response"] for m in dispatcher.messages]


def _concerns(engine: Engine) -> list[tuple[str, str | None, str]]:
    with Session(engine) as session:
        rows = session.scalars(select(SafeguardingConcern)).all()
        return [(c.category, c.question_key, c.words) for c in rows]


async def test_a_screened_disclosure_is_answered_and_recorded_at_once(committed_db: Engine) -> None:
    linked_pep(committed_db, "d-1")
    category = [{"entity": "safeguarding_category", "value": "physical_abuse"}]
    events, said = await _run(
        ActionHandleDisclosure(), "d-1", "he hits me", entities=category,
        slots={"requested_slot": "hard"}, active_loop="reflection_form",
    )  # fmt: skip
    assert said == ["utter_disclosure_response", "utter_offer_carry_on"]
    assert SlotSet("paused", True) in events
    assert _concerns(committed_db) == [("physical_abuse", "hard", "he hits me")]


async def test_an_unsure_classifier_asks_then_yes_tells_the_dsl(committed_db: Engine) -> None:
    linked_pep(committed_db, "d-2")
    tracker_slots = {"requested_slot": "friends"}
    dispatcher = CollectingDispatcher()
    tracker = tracker_for(
        "d-2", "nobody at home talks to me", intent="safeguarding_concern",
        slots=tracker_slots, active_loop="reflection_form",
    )  # fmt: skip
    tracker.latest_message["intent"]["confidence"] = 0.6
    events = await ActionHandleDisclosure().run(dispatcher, tracker, DOMAIN)
    assert [m["response"] for m in dispatcher.messages] == ["utter_check_disclosure"]
    assert SlotSet("pending_words", "nobody at home talks to me") in events
    assert _concerns(committed_db) == []

    slots = {"disclosure_unsure": True, "pending_words": "nobody at home talks to me",
             "pending_question": "friends"}  # fmt: skip
    events, said = await _run(ActionHandleDisclosure(), "d-2", "/affirm", slots=slots)
    assert said == ["utter_disclosure_response", "utter_offer_carry_on"]
    assert _concerns(committed_db) == [("classifier", "friends", "nobody at home talks to me")]


async def test_an_unsure_classifier_and_no_keeps_the_words_as_the_answer(
    committed_db: Engine,
) -> None:
    pep_id = linked_pep(committed_db, "d-3")
    slots = {"disclosure_unsure": True, "pending_words": "i'll pass on lunch club",
             "pending_question": "activities", "answered_by": "child"}  # fmt: skip
    events, said = await _run(ActionNotADisclosure(), "d-3", "/deny", slots=slots)
    assert said == ["utter_not_a_disclosure"]
    assert SlotSet("activities", "i'll pass on lunch club") in events
    assert events[-1] == SlotSet("resume_after_check", True)
    assert _concerns(committed_db) == []
    with Session(committed_db) as session:
        answer = session.scalars(select(Answer).where(Answer.pep_id == pep_id)).one()
        assert answer.text == "i'll pass on lunch club"
