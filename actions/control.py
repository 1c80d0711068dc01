"""The child is in control: skip, "I don't know", help, stop, carry on, change an answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.answer_form import SKIPPED, save_skip, screen_and_save
from bot.questions import BY_KEY
from bot.services.answerer import ANSWERING_ALONE
from bot.services.smalltalk import asks_about_pep
from pep_nlp.contract import Entity, Intent, Slot, intent_payload


def _button_titles(domain: DomainDict, response: str) -> set[str]:
    variants = domain.get("responses", {}).get(response, [])
    return {b.get("title", "") for v in variants for b in v.get("buttons") or []}


class ActionSkipQuestion(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_skip_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        key = tracker.get_slot(REQUESTED_SLOT)
        if key is None:
            return []
        if key == Slot.answered_by:  # not a question about them: assume they answer alone
            return [SlotSet(key, ANSWERING_ALONE)]
        if not await save_skip(key, dispatcher, tracker):
            return []
        dispatcher.utter_message(response="utter_skipped")
        return [SlotSet(key, SKIPPED)]


class ActionDontKnow(Action):  # type: ignore[misc]
    """One gentle example, then "I don't know" is accepted as the answer, in their words."""

    def name(self) -> str:
        return "action_dont_know"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        key = tracker.get_slot(REQUESTED_SLOT)
        text = str(tracker.latest_message.get("text") or "")
        if key is None:
            dispatcher.utter_message(response="utter_help_outside_questions")
            return []
        # "Not sure yet" can be one of the question's own choices.
        accepted = text in _button_titles(domain, f"utter_ask_{key}")
        if not accepted and tracker.get_slot(Slot.example_given_for) != key:
            dispatcher.utter_message(response=f"utter_example_{key}")
            return [SlotSet(Slot.example_given_for, key)]
        if key == "answered_by":
            return [SlotSet(key, ANSWERING_ALONE)]
        updates = await screen_and_save(key, text, dispatcher, tracker)
        if updates.get(key) is not None and not accepted:
            dispatcher.utter_message(response="utter_dont_know_accepted")
        return [SlotSet(name, value) for name, value in updates.items()]


class ActionHelp(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        key = tracker.get_slot(REQUESTED_SLOT) if tracker.active_loop_name else None
        text = str(tracker.latest_message.get("text") or "")
        if key is None or asks_about_pep(text):
            dispatcher.utter_message(response="utter_what_is_pep")
        if key is None:
            dispatcher.utter_message(response="utter_help_outside_questions")
        else:
            dispatcher.utter_message(response=f"utter_simpler_{key}")
        return []


class ActionPause(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_pause"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not tracker.get_slot(Slot.pep_linked) or tracker.get_slot(Slot.submitted):
            dispatcher.utter_message(response="utter_goodbye")
            return []
        dispatcher.utter_message(response="utter_paused")
        return [SlotSet(Slot.paused, True)]


class ActionResume(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not tracker.get_slot(Slot.after_disclosure):
            dispatcher.utter_message(response="utter_welcome_back")
        return [
            SlotSet(Slot.paused, False),
            SlotSet(Slot.after_disclosure, False),
            SlotSet(Slot.checking, False),
        ]


def _change_payload(question_key: str) -> str:
    return intent_payload(Intent.change_answer, **{Entity.question_key: question_key})


class ActionChangeAnswer(Action):  # type: ignore[misc]
    """With a question named (from a button), ask it again; otherwise offer the answers."""

    def name(self) -> str:
        return "action_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        plan: list[str] = tracker.get_slot(Slot.plan) or []
        answered = [k for k in plan if tracker.get_slot(k) is not None and k in BY_KEY]
        chosen = next(tracker.get_latest_entity_values(Entity.question_key), None)
        if chosen in answered:
            dispatcher.utter_message(response="utter_change_ok")
            return [
                SlotSet(chosen, None),
                SlotSet(Slot.example_given_for, None),
                SlotSet(Slot.checking, False),
                SlotSet(Slot.paused, False),
                SlotSet(Slot.change_ready, True),
            ]
        if not answered:
            dispatcher.utter_message(response="utter_change_none")
        else:
            buttons: list[dict[str, Any]] = [
                {"title": BY_KEY[k].label, "payload": _change_payload(k)} for k in answered
            ]
            dispatcher.utter_message(response="utter_change_which", buttons=buttons)
        return [SlotSet(Slot.change_ready, False)]
