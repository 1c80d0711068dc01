"""Answering a disclosure: at once, warmly, never promising secrecy; the DSL is told."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.services.safeguarding import report_disclosure_for_conversation

#: The category when only the NLU classifier (not the deterministic screen) flagged it.
CLASSIFIER_CATEGORY = "classifier"


def _category(message: dict[str, Any]) -> str:
    for entity in message.get("entities") or []:
        if entity.get("entity") == "safeguarding_category" and entity.get("value"):
            return str(entity["value"])
    return CLASSIFIER_CATEGORY


async def respond_to_disclosure(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    words: str,
    category: str,
    source: str,
    question_key: str | None,
) -> None:
    """Record and alert (the alert is sent in the background), then answer the child."""
    await asyncio.to_thread(
        report_disclosure_for_conversation,
        tracker.sender_id,
        words=words,
        category=category,
        source=source,
        question_key=question_key,
        message_id=tracker.latest_message.get("message_id"),
    )
    if tracker.get_slot("after_disclosure"):
        dispatcher.utter_message(response="utter_disclosure_followup")
    else:
        dispatcher.utter_message(response="utter_disclosure_response")
    dispatcher.utter_message(response="utter_offer_carry_on")


class ActionHandleDisclosure(Action):  # type: ignore[misc]  # rasa-sdk ships no type stubs
    def name(self) -> str:
        return "action_handle_disclosure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message
        await respond_to_disclosure(
            dispatcher,
            tracker,
            words=str(message.get("text") or ""),
            category=_category(message),
            source="engine",
            question_key=tracker.get_slot("requested_slot") if tracker.active_loop_name else None,
        )
        return [SlotSet("paused", True), SlotSet("after_disclosure", True)]
