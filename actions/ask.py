"""How the reflection form asks each question: `action_ask_<key>`, one per question.

The form asks with these instead of plain `utter_ask_<key>` responses for one reason: right
after "help" has put the question in simpler words, asking it again in the usual words
would say the same thing twice, so the question is not repeated then.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_form import previous_action
from bot.child_texts import NO_TEACHER_QUESTION
from bot.questions import QUESTIONS, TEACHER_QUESTION
from bot.services.conversation import StoreUnavailable, teacher_question_for


class AskQuestion(Action, ABC):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    """Abstract (no `key`), so rasa-sdk registers only the per-question subclasses."""

    @property
    @abstractmethod
    def key(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.key}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if previous_action(tracker) != "action_help":
            dispatcher.utter_message(response=f"utter_ask_{self.key}")
        return []


ASK_ACTIONS = {
    q.key: type(f"AskQuestion_{q.key}", (AskQuestion,), {"key": q.key})
    for q in QUESTIONS
    if q.key != TEACHER_QUESTION
}


class ActionAskTeacherQuestion(Action):  # type: ignore[misc]
    """The designated teacher's own question, read from the store each time it is asked (it
    may be replaced while a chat is open): a kind opening, then the question as they wrote it,
    as plain text (bot.services.teacher_question.shown_to_child). After "help" only the
    question is repeated: the simpler wording does not contain it."""

    def name(self) -> str:
        return f"action_ask_{TEACHER_QUESTION}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            question = await asyncio.to_thread(teacher_question_for, tracker.sender_id)
        except StoreUnavailable:
            question = None
        if previous_action(tracker) != "action_help":
            dispatcher.utter_message(response=f"utter_ask_{TEACHER_QUESTION}")
        shown = f"\u201c{question}\u201d" if question else NO_TEACHER_QUESTION
        dispatcher.utter_message(text=shown)
        return []
