"""The check step: everything in the child's words, section by section; then sending it."""

from __future__ import annotations

import asyncio

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.child_texts import SKIPPED_IN_SUMMARY
from bot.services.answers import AnswerError
from bot.services.conversation import (
    NotLinked,
    StoreUnavailable,
    SummarySection,
    submit_for_conversation,
    summary_for,
)
from pep_nlp.contract import Slot


def section_text(section: SummarySection) -> str:
    lines = [section.title.upper()]
    for label, words in section.lines:
        lines.append(f"• {label}: {SKIPPED_IN_SUMMARY if words is None else words}")
    return "\n".join(lines)


class ActionAfterReflection(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    """The form has ended: show the check step, unless it ended because the child paused."""

    def name(self) -> str:
        return "action_after_reflection"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(Slot.paused):
            return []
        try:
            sections = await asyncio.to_thread(summary_for, tracker.sender_id)
        except (StoreUnavailable, NotLinked):
            dispatcher.utter_message(response="utter_save_failed")
            return []
        dispatcher.utter_message(response="utter_check_intro")
        for section in sections:
            dispatcher.utter_message(text=section_text(section))
        dispatcher.utter_message(response="utter_ask_is_this_right")
        return [SlotSet(Slot.checking, True)]


class ActionSubmitVoice(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_submit_voice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            meeting = await asyncio.to_thread(submit_for_conversation, tracker.sender_id)
        except (StoreUnavailable, NotLinked, AnswerError):
            dispatcher.utter_message(response="utter_save_failed")
            return []
        day = f"{meeting:%A} {meeting.day} {meeting:%B}"
        dispatcher.utter_message(response="utter_sent", meeting_day=day)
        return [SlotSet(Slot.checking, False), SlotSet(Slot.submitted, True)]
