"""Answering a disclosure: at once, warmly, never promising secrecy; the DSL is told.

Two lines detect a disclosure: the deterministic screen (pep_nlp.safeguarding, in the engine
and again on every answer) and the NLU classifier. The screen is precise, so what it finds is
answered and alerted at once. The classifier catches phrasings the screen has never seen but
also flags a quarter of harmless lookalikes ("maths is killing me"; bench/
safeguarding_system_eval.py), so when only the classifier flagged a message the child is
asked first; a yes is answered and alerted like any disclosure, a no keeps their words as
the answer they were giving.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_form import screen_and_save
from actions.disclosure import respond_to_disclosure

#: The category when only the NLU classifier (not the deterministic screen) flagged it.
CLASSIFIER_CATEGORY = "classifier"


def _category(message: dict[str, Any]) -> str:
    for entity in message.get("entities") or []:
        if entity.get("entity") == "safeguarding_category" and entity.get("value"):
            return str(entity["value"])
    return CLASSIFIER_CATEGORY


def _clear_check() -> list[EventType]:
    return [
        SlotSet("disclosure_unsure", False),
        SlotSet("pending_words", None),
        SlotSet("pending_question", None),
    ]


class ActionHandleDisclosure(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_handle_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message
        question = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
        if tracker.get_slot("disclosure_unsure"):  # the child said yes to the check
            words = str(tracker.get_slot("pending_words") or "")
            category, question = CLASSIFIER_CATEGORY, tracker.get_slot("pending_question")
        else:
            words, category = str(message.get("text") or ""), _category(message)
            if category == CLASSIFIER_CATEGORY and not tracker.get_slot("after_disclosure"):
                dispatcher.utter_message(response="utter_check_disclosure")
                return [
                    SlotSet("disclosure_unsure", True),
                    SlotSet("pending_words", words),
                    SlotSet("pending_question", question),
                ]
        await respond_to_disclosure(
            dispatcher, tracker, words=words, category=category, source="engine",
            question_key=question,
        )  # fmt: skip
        return [SlotSet("paused", True), SlotSet("after_disclosure", True), *_clear_check()]


class ActionNotADisclosure(Action):  # type: ignore[misc]
    """The child said the message was not about harm: keep it as the answer it was."""

    def name(self) -> str:
        return "action_not_a_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = tracker.get_slot("pending_question")
        words = tracker.get_slot("pending_words")
        events = _clear_check()
        if question and words:
            updates = await screen_and_save(question, str(words), dispatcher, tracker)
            events += [SlotSet(name, value) for name, value in updates.items()]
        if not any(m.get("response") == "utter_disclosure_response" for m in dispatcher.messages):
            dispatcher.utter_message(response="utter_not_a_disclosure")
        return [*events, SlotSet("resume_after_check", bool(question))]
