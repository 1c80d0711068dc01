"""A shared base for forms whose slots are the child's answers.

Every answer is screened for a safeguarding disclosure, then saved the moment it is given.
If saving fails, the slot is emptied and the child is told, so the form asks the same
question again: an answer is saved or re-asked, never silently lost. A disclosure is never
saved as an answer: it goes to the safeguarding lead, and the question stays unanswered.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.disclosure import SKIPPED, pass_on
from bot.services.conversation import AnswerOutcome, Saved, save_conversation_answer
from bot.services.smalltalk import is_only_farewell, is_only_greeting
from pep_nlp.contract import Entity, Slot, without_guard

__all__ = ["SKIPPED", "AnswerFormValidation", "save_skip", "screen_and_save"]

#: The last action before the form when it is validating what the child just sent
#: (Rasa 3 runs action_extract_slots after every message, before the form).
FRESH_INPUT = frozenset({"action_listen", "action_extract_slots"})


def previous_action(tracker: Tracker) -> str | None:
    """The action that ran before the one now running (Rasa reports the running one as
    `latest_action_name`, so the events are read instead)."""
    running = tracker.latest_action_name
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") != running:
            return str(event.get("name"))
    return None


SlotValidator = Callable[
    [Any, Any, CollectingDispatcher, Tracker, DomainDict], Awaitable[dict[str, Any]]
]


def choice_in(message: dict[str, Any]) -> str | None:
    """The title of the button the child tapped (sent as `/inform{"choice": ...}`), if any."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == Entity.choice and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


#: What the child is told when an answer could not be saved (the form asks again).
NOT_SAVED_RESPONSES = {
    Saved.too_long: "utter_answer_too_long",
    Saved.already_sent: "utter_already_sent",
    Saved.failed: "utter_save_failed",
}


def _saved(outcome: AnswerOutcome, dispatcher: CollectingDispatcher) -> bool:
    response = NOT_SAVED_RESPONSES.get(outcome.saved)
    if response is not None:
        dispatcher.utter_message(response=response)
    return outcome.saved is Saved.saved


async def save_skip(question_key: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Record the question as skipped; tell the child if that failed."""
    outcome = await asyncio.to_thread(
        save_conversation_answer,
        tracker.sender_id,
        question_key,
        None,
        tracker.get_slot(Slot.answered_by),
        skipped=True,
    )
    return _saved(outcome, dispatcher)


async def screen_and_save(
    question_key: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """The slot updates for a typed answer: saved, re-asked, or passed on to the DSL
    (the service screens the words before it saves them)."""
    text = without_guard(text)
    answerer = tracker.get_slot(Slot.answered_by)
    outcome = await asyncio.to_thread(
        save_conversation_answer, tracker.sender_id, question_key, text, answerer
    )
    if outcome.saved is Saved.disclosure:

        async def skip(key: str) -> bool:
            return await save_skip(key, dispatcher, tracker)

        passed = await pass_on(
            dispatcher,
            tracker,
            words=text,
            category=str(outcome.category),
            source="answer_screen",
            question_key=question_key,
            skip_question=skip,
        )
        return {question_key: None, **passed.slots}
    saved = _saved(outcome, dispatcher)
    return {question_key: text if saved else None}


def _answer_validator(slot: str) -> SlotValidator:
    async def validate_answer(
        self: Any,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        # A value set by an action (skip, "I don't know") was saved by that action.
        if value is None or value == SKIPPED or previous_action(tracker) not in FRESH_INPUT:
            return {slot: value}
        text = choice_in(tracker.latest_message) or str(value)
        if is_only_greeting(text):  # e.g. coming back to an open question days later
            dispatcher.utter_message(response="utter_welcome_back")
            return {slot: None}
        if is_only_farewell(text):
            dispatcher.utter_message(response="utter_paused")
            return {slot: None, Slot.paused: True}
        return await screen_and_save(slot, text, dispatcher, tracker)

    return validate_answer


class AnswerFormValidation(FormValidationAction):  # type: ignore[misc]  # rasa-sdk is untyped
    """Subclasses list their answer slots; each gets a `validate_<slot>` that saves it."""

    answer_slots: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def name(self) -> str:
        """Abstract, so rasa-sdk registers the concrete forms but not this base."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for slot in cls.answer_slots:
            if not hasattr(cls, f"validate_{slot}"):
                setattr(cls, f"validate_{slot}", _answer_validator(slot))

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType | None:
        if tracker.slots.get(Slot.paused):
            return SlotSet(REQUESTED_SLOT, None)  # ends the form; the child chooses what next
        event: EventType | None = await super().next_requested_slot(dispatcher, tracker, domain)
        return event
