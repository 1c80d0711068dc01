"""How the reflection form asks each question: `action_ask_<key>`, one per question.

The form asks with these instead of plain `utter_ask_<key>` responses for one reason: right
after "help" has put the question in simpler words, asking it again in the usual words
would say the same thing twice, so the question is not repeated then.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answer_form import previous_action
from bot.questions import QUESTIONS


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
    q.key: type(f"AskQuestion_{q.key}", (AskQuestion,), {"key": q.key}) for q in QUESTIONS
}
